"""The wire: what goes over botocore's ``before-send`` hook during a replay.

Requests read back through the service model (:mod:`.requests`), answered by an
:class:`AnswerSource` (:mod:`.answers`), rendered as real HTTP bytes and Bedrock
event streams (:mod:`.eventstream`) by the :class:`Transport` (:mod:`.transport`),
with facts about Bedrock Agent requests and answers in one place (:mod:`.bedrock`),
and a scenario's scripted DynamoDB answers given by a layer (:mod:`.dynamodb`).
"""

from harness.wire.answers import (
    AnswerSource,
    PreparedAnswer,
    RecordedAnswers,
    Script,
    ScriptedAnswers,
    WireRequest,
    http_body,
    prepare_answers,
)
from harness.wire.bedrock import BEDROCK_SERVICE, INVOKE_AGENT, agent_of, stream_usage, usage_traces
from harness.wire.changes import STALE_KINDS, ChangeKind, RequestChange, classify
from harness.wire.dynamodb import DYNAMODB_SERVICE, DynamoDBAnswers
from harness.wire.requests import canonical, fingerprint, request_body, request_params, service_name
from harness.wire.transport import (
    ANSWERED_URL,
    MOTO_SERVICES,
    Call,
    Exchange,
    Layer,
    LayerFactory,
    Transport,
    TransportLayer,
    split_event_name,
)
from harness.wire.unmatched import UnmatchedRequestError, unmatched_request

__all__ = [
    "ANSWERED_URL",
    "BEDROCK_SERVICE",
    "DYNAMODB_SERVICE",
    "INVOKE_AGENT",
    "MOTO_SERVICES",
    "STALE_KINDS",
    "AnswerSource",
    "Call",
    "ChangeKind",
    "DynamoDBAnswers",
    "Exchange",
    "Layer",
    "LayerFactory",
    "PreparedAnswer",
    "RecordedAnswers",
    "RequestChange",
    "Script",
    "ScriptedAnswers",
    "Transport",
    "TransportLayer",
    "UnmatchedRequestError",
    "WireRequest",
    "agent_of",
    "canonical",
    "classify",
    "fingerprint",
    "http_body",
    "prepare_answers",
    "request_body",
    "request_params",
    "service_name",
    "split_event_name",
    "stream_usage",
    "unmatched_request",
    "usage_traces",
]
