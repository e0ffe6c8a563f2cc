"""The scenario spec: what a reviewer decides about a hand-authored scenario.

A spec is one small YAML file (``specs/<name>.yaml``). It holds only decisions -- the
incident, what each agent answers (tokens, model, latency, faults), or for an action
group the invocations, the seeded data and AWS's recorded answers -- while the
defaults here fill in everything that is the same in every scenario (the event
envelope, account, region, the agents' disclaimer, the default model). The requests
are not in the spec at all: :mod:`harness.specs.compile` records them by running the
real handler, so they are exactly what the code sends.

Values computed rather than decided (a 4,200-line log, metric series, a service
graph) are written as ``{generate: NAME, ...arguments}`` anywhere in free-form data
and expanded by :mod:`harness.specs.generators`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictInt,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from harness.authoring.tampering import Tamper
from harness.scenario import (
    DynamoDBAnswer,
    DynamoDBOperation,
    DynamoDBScript,
    ErrorAnswer,
    Fault,
    HttpAnswer,
    SetupCall,
    unescape_bytes,
)
from harness.scenario.model import MAX_REMAINING_MS, MaintenanceOperation
from harness.wire import usage_traces

__all__ = [
    "ACCOUNT",
    "DEFAULT_MODEL",
    "DISCLAIMER",
    "INPUT_TOKENS",
    "MIN_DESCRIPTION",
    "MIN_TAGS",
    "OUTPUT_TOKENS",
    "REGION",
    "ActionGroupSpec",
    "AgentSpec",
    "AnswerSpec",
    "AwsAnswerSpec",
    "DynamoDBAnswerSpec",
    "DynamoDBSpec",
    "Event",
    "ExecutorSpec",
    "ExpectSpec",
    "FaultSpec",
    "IncidentSpec",
    "InvocationSpec",
    "MaintenanceSpec",
    "MessageSpec",
    "Recommendation",
    "RedriveCommandSpec",
    "RedriveSpec",
    "Spec",
    "TableSpec",
]

#: The account and region every authored event and ARN is in (the docs' examples).
ACCOUNT = "123456789012"
REGION = "us-east-1"
#: The model an agent runs unless its spec names another.
DEFAULT_MODEL = "anthropic.claude-3-5-sonnet-20241022-v2:0"
#: What every authored agent answer says about itself, unless the spec overrides it.
DISCLAIMER = "Machine-generated advisory analysis; a human must verify it before acting."

# The authoring rules. They are checked here, where an author meets them (``opx-harness
# author`` names the file, the field and the rule), not discovered later from a failing
# corpus test: a scenario is a reviewed, realistic incident, and its numbers must look
# like what Bedrock bills.
#: A description long enough to say what the scenario exercises (``opx-harness list``).
MIN_DESCRIPTION = 80
#: Tags: at least this many (severity, service, outcome, ...).
MIN_TAGS = 3
#: Realistic token usage of one agent answer, inclusive: a prompt with its context ...
INPUT_TOKENS = (900, 4000)
#: ... and a contract answer (``truncated: true`` for one cut off at the output limit).
OUTPUT_TOKENS = (150, 900)

Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=100)]
#: ISO 8601 with an offset, as a string: YAML would turn an unquoted one into a datetime.
Timestamp = Annotated[
    str, Field(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
]


class _Spec(BaseModel):
    """Unknown keys are errors: a typo must not silently fall back to a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class FaultSpec(Fault):
    """A failed attempt (``harness.scenario.Fault``), served ``times`` times in a row:
    "503 three times, then ..." reads as one entry."""

    times: Annotated[int, Field(ge=1)] = 1
    #: ``where: stream`` only: the model ran before the stream broke -- ``[input,
    #: output]`` tokens of ``model``, sent as usage traces before the error, so the
    #: failed attempt is billed (and the budget may refuse the retry).
    tokens: tuple[Annotated[int, Field(ge=0)], Annotated[int, Field(ge=0)]] | None = None
    model: str = DEFAULT_MODEL

    @model_validator(mode="after")
    def _tokens_in_a_stream(self) -> FaultSpec:
        if self.tokens is not None and self.where != "stream":
            raise ValueError("tokens bill a stream the model ran in: only where: stream has them")
        if "model" in self.model_fields_set and self.tokens is None:
            raise ValueError("model names who billed the tokens: give tokens too")
        return self

    def expanded(self) -> list[Fault]:
        data = self.model_dump(exclude={"times", "tokens", "model"})
        if self.tokens is not None:
            traces = usage_traces(self.model, *self.tokens)
            data["traces"] = [*traces, *data.get("traces", [])]
        fault = Fault.model_validate(data)
        return [fault] * self.times


class Recommendation(_Spec):
    type: Annotated[str, Field(min_length=1)]
    description: str
    confidence: float


class AnswerSpec(_Spec):
    """An agent output meeting the agent contract (``harness.authoring.agent_output``);
    ``evidence`` adds keys to ``findings`` after the recommendations."""

    hypothesis: str
    recommendations: list[Recommendation]
    confidence: float
    status: str = "SUCCESS"
    citations: list[str] = Field(default_factory=list)
    evidence: dict[str, Any] = Field(default_factory=dict)
    disclaimer: str = DISCLAIMER


class AgentSpec(_Spec):
    """What one agent answers: a contract ``answer``, a raw ``output`` (text, to script
    malformed completions, or any object), or nothing and a permanent ``error``."""

    answer: AnswerSpec | None = None
    output: str | dict[str, Any] | None = None
    tokens: tuple[Annotated[int, Field(ge=0)], Annotated[int, Field(ge=0)]]
    latency_ms: Annotated[int, Field(ge=0)]
    model: str = DEFAULT_MODEL
    faults: list[FaultSpec] = Field(default_factory=list)
    error: ErrorAnswer | None = None
    #: The completion was cut off at the model's output limit: more output tokens than
    #: a contract answer uses (``OUTPUT_TOKENS``) are intended.
    truncated: bool = False
    #: The model is deliberately missing from ``opx/data/pricing.json`` (a scenario about
    #: pricing an unknown model); otherwise an unpriced model is a typo.
    unpriced: bool = False
    #: Extra trace events, sent after the usage traces and before the completion
    #: (a ``failureTrace`` with its ``failureReason``, say), each a Bedrock ``trace``.
    traces: list[dict[str, Any]] = Field(default_factory=list)
    #: A completion whose bytes are not UTF-8, written as text with each such byte
    #: ``\xNN`` and each backslash doubled (``harness.scenario.escape_bytes``): the raw
    #: ``chunk`` bytes, split across chunks as text is.
    output_bytes: str | None = None
    #: A ``returnControl`` event (the ReturnControlPayload: ``invocationId``,
    #: ``invocationInputs``), sent after the traces; with no ``answer`` or output it is
    #: the whole answer, as from an agent with a RETURN_CONTROL action group.
    return_control: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _one_output(self) -> AgentSpec:
        given = [
            name for name in ("answer", "output", "output_bytes") if getattr(self, name) is not None
        ]
        if len(given) > 1:
            raise ValueError(f"give one of answer, output, output_bytes; got {' and '.join(given)}")
        if self.output_bytes is not None:
            unescape_bytes(self.output_bytes)  # a broken escape is named here
        return self

    @property
    def silent(self) -> bool:
        """The agent ends without text: an empty completion, a ``failureTrace``, or
        a ``returnControl`` instead of an answer -- it has no answer to size."""
        no_output = self.answer is None and self.output is None and self.output_bytes is None
        return (
            self.output == ""
            or any("failureTrace" in t for t in self.traces)
            or (self.return_control is not None and no_output)
        )


class IncidentSpec(_Spec):
    """An ``opx.incident`` / ``IncidentCreated`` event as EventBridge delivers it;
    ``signals`` and ``evidence`` are the event's ``signals`` / ``evidence_bundle``."""

    event_id: Annotated[str, Field(min_length=1)]
    time: Timestamp
    incident_id: str
    service: str
    severity: str
    title: str
    signals: list[dict[str, Any]]
    evidence: dict[str, Any]
    budget_usd: str | None = None
    resources: list[str] = Field(default_factory=list)
    account: str = ACCOUNT
    region: str = REGION


class ExpectSpec(_Spec):
    """What a scenario is for, in the terms of the behaviour roll-up (status, top action,
    agreement): ``opx-harness author`` replays the authored scenario and refuses it when
    the executor does something else, so a re-approved snapshot cannot quietly change
    what the scenario proves. At least one field."""

    status: Literal["SUCCEEDED", "DEGRADED", "FAILED", "INPUT_VALIDATION_FAILED"] | None = None
    top_action: Annotated[str, Field(min_length=1)] | None = None
    agreement: Literal["HIGH", "MEDIUM", "LOW", "NONE"] | None = None

    @model_validator(mode="after")
    def _something(self) -> ExpectSpec:
        if not self.model_fields_set:
            raise ValueError("say at least one of status, top_action, agreement")
        return self


class TableSpec(_Spec):
    """Start from the checkpoint table an earlier run left: the spec's own events and
    agents, run once from ``start`` (before the scenario's), then edited by ``tamper``
    (operations of :mod:`harness.authoring.tampering`, in order). The items are
    produced by the real executor, never written by hand."""

    start: Timestamp
    tamper: list[Tamper] = Field(default_factory=list)


class DynamoDBAnswerSpec(DynamoDBAnswer):
    """A scripted DynamoDB answer (``harness.scenario.DynamoDBAnswer``) whose faults
    may repeat: ``{where: network, error: EndpointConnectionError, times: 4}`` is every
    attempt of one call."""

    faults: list[FaultSpec] = Field(default_factory=list)  # type: ignore[assignment]

    def scripted(self) -> DynamoDBAnswer:
        data = self.model_dump(exclude={"faults"})
        faults = [f for fault in self.faults for f in fault.expanded()]
        return DynamoDBAnswer.model_validate({**data, "faults": faults})


class DynamoDBSpec(_Spec):
    """What DynamoDB answers the executor's checkpoint table instead of moto's happy
    answers, and which operations' calls the result lists
    (``harness.scenario.DynamoDBScript``)."""

    answers: list[DynamoDBAnswerSpec] = Field(default_factory=list)
    log: list[DynamoDBOperation] = Field(default_factory=list)

    @model_validator(mode="after")
    def _valid_script(self) -> DynamoDBSpec:
        try:  # overlapping answers, an empty script: named at $.dynamodb
            self.script()
        except ValidationError as exc:
            raise ValueError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
        return self

    def script(self) -> DynamoDBScript:
        return DynamoDBScript(answers=[a.scripted() for a in self.answers], log=self.log)


class _Common(_Spec):
    name: Name
    description: str
    tags: list[str] = Field(default_factory=list)
    #: The frozen clock's start; ``opx-harness author`` refuses one another scenario
    #: in the output directory already starts at.
    start: Timestamp
    env: dict[str, str] = Field(default_factory=dict)

    @field_validator("description")
    @classmethod
    def _described(cls, description: str) -> str:
        """Reviewers and ``opx-harness list`` read it to know what the scenario is for."""
        length = len(description.strip())
        if length < MIN_DESCRIPTION:
            raise ValueError(
                f"{length} characters; at least {MIN_DESCRIPTION} (rule: say what the "
                "scenario exercises and what should happen)"
            )
        return description

    @field_validator("tags")
    @classmethod
    def _tagged(cls, tags: list[str]) -> list[str]:
        """Tags are how a corpus is filtered (the scenario file stores them sorted)."""
        if len(tags) < MIN_TAGS:
            raise ValueError(f"{len(tags)} tag(s); at least {MIN_TAGS} (rule: tag the scenario)")
        return tags


class ExecutorSpec(_Common):
    """An executor scenario: the event(s) and what each agent answers."""

    kind: Literal["executor"] = "executor"
    #: The incident event, delivered ``deliveries`` times (2 models a redelivery) ...
    incident: IncidentSpec | None = None
    deliveries: Annotated[int, Field(ge=1)] = 1
    #: ``concurrent``: the deliveries overlap (the second arrives mid-run of the first);
    #: ``concurrent-late``: the second takes the lease just after the first finished.
    delivery: Literal["sequential", "concurrent", "concurrent-late"] = "sequential"
    #: ... or the events verbatim (another source, a broken producer).
    events: list[Any] = Field(default_factory=list)
    #: Production-style agent ids: ``agent: [agent id, alias id]`` becomes the
    #: ``OPX_AGENT_<AGENT>_ID`` / ``_ALIAS_ID`` environment overrides.
    agent_ids: dict[str, tuple[str, str]] = Field(default_factory=dict)
    agents: dict[str, AgentSpec] = Field(default_factory=dict)
    #: What the scenario is for, checked against a replay when it is authored.
    expect: ExpectSpec | None = None
    #: Start from a table an earlier run left, perhaps tampered with (see TableSpec).
    table: TableSpec | None = None
    #: What DynamoDB answers instead of moto's happy answers (see DynamoDBSpec).
    dynamodb: DynamoDBSpec | None = None
    #: What ``context.get_remaining_time_in_millis()`` reports to every invocation, in
    #: ms (0 .. 900000): a retry that starts near the function timeout, or past it.
    remaining_ms: Annotated[StrictInt, Field(ge=0, le=MAX_REMAINING_MS)] | None = None

    @field_validator("agents", "agent_ids")
    @classmethod
    def _known_agents(cls, scripts: dict[str, Any]) -> dict[str, Any]:
        """A misspelt agent would script nothing and fail later as an unanswered
        request; name it here instead."""
        from opx.state import ALL_AGENTS

        unknown = sorted(set(scripts) - set(ALL_AGENTS))
        if unknown:
            raise ValueError(f"unknown agent {unknown[0]!r} (known: {', '.join(ALL_AGENTS)})")
        return scripts

    @field_validator("agents")
    @classmethod
    def _realistic(cls, agents: dict[str, AgentSpec]) -> dict[str, AgentSpec]:
        """The authoring rules for each answer: realistic token usage (an agent ending in
        ``error`` bills nothing; one ending without text -- empty, or in a
        ``failureTrace`` -- writes nothing) and a priced model. Checked on the spec, not on
        :class:`AgentSpec`, whose other use -- ``opx-harness serve --overrides`` -- may
        script any bill on purpose."""
        from opx.cost import load_pricing

        pricing = load_pricing()
        for name, agent in agents.items():
            if agent.error is None:
                tokens_in, tokens_out = agent.tokens
                low, high = INPUT_TOKENS
                if not low <= tokens_in <= high:
                    raise ValueError(
                        f"{name}.tokens: input tokens {tokens_in} outside {low}-{high} "
                        "(rule: realistic prompt size)"
                    )
                low, high = OUTPUT_TOKENS
                # An agent ending without text (:attr:`AgentSpec.silent`) has no answer to size.
                if not low <= tokens_out <= high and not (agent.truncated or agent.silent):
                    raise ValueError(
                        f"{name}.tokens: output tokens {tokens_out} outside {low}-{high} (rule: "
                        "realistic answer size; set truncated: true for a completion cut off "
                        "at the limit)"
                    )
            for n, fault in enumerate(agent.faults):
                # A billed failed attempt read the same prompt: the same realism rules.
                if fault.tokens is None:
                    continue
                low, high = INPUT_TOKENS
                if not low <= fault.tokens[0] <= high:
                    raise ValueError(
                        f"{name}.faults[{n}].tokens: input tokens {fault.tokens[0]} outside "
                        f"{low}-{high} (rule: realistic prompt size)"
                    )
                if not pricing.is_priced(fault.model) and not agent.unpriced:
                    raise ValueError(
                        f"{name}.faults[{n}].model: {fault.model!r} is not in "
                        "opx/data/pricing.json (rule: every model priced)"
                    )
            if not pricing.is_priced(agent.model) and not agent.unpriced:
                raise ValueError(
                    f"{name}.model: {agent.model!r} is not in opx/data/pricing.json (rule: every "
                    "model priced; set unpriced: true if the scenario is about an unpriced model)"
                )
        return agents

    @model_validator(mode="after")
    def _one_source(self) -> ExecutorSpec:
        if (self.incident is None) == (not self.events):
            raise ValueError("give either incident or events (exactly one)")
        if self.incident is None and self.deliveries != 1:
            raise ValueError("deliveries repeats incident; list verbatim events in events")
        return self


class InvocationSpec(_Spec):
    """A Bedrock action-group invocation of the spec's group (built by
    ``harness.action_group_authoring.invocation_event``); ``drop`` removes keys and
    ``set`` replaces or adds keys afterwards, to script broken events."""

    invoke: Annotated[str, Field(min_length=1, description="the schema's operationId")]
    incident: str
    text: str
    params: dict[str, str] = Field(default_factory=dict)
    drop: list[str] = Field(default_factory=list)
    set: dict[str, Any] = Field(default_factory=dict)


def _event_tag(value: Any) -> str:
    """A mapping with ``invoke`` is an invocation (validated strictly); anything else
    is an event delivered verbatim (a broken event, a string)."""
    if isinstance(value, InvocationSpec) or (isinstance(value, dict) and "invoke" in value):
        return "invocation"
    return "verbatim"


Event = Annotated[
    Annotated[InvocationSpec, Tag("invocation")] | Annotated[Any, Tag("verbatim")],
    Discriminator(_event_tag),
]


class AwsAnswerSpec(_Spec):
    """One recorded AWS answer, ``http`` (AWS's real response shape) or ``error``;
    its request is recorded from the handler."""

    service: str
    operation: str
    http: HttpAnswer | None = None
    error: ErrorAnswer | None = None
    faults: list[FaultSpec] = Field(default_factory=list)
    latency_ms: Annotated[int, Field(ge=0)] = 0

    @model_validator(mode="after")
    def _one_answer(self) -> AwsAnswerSpec:
        if (self.error is None) == (self.http is None):
            raise ValueError("give either http or error (exactly one)")
        return self


class ActionGroupSpec(_Common):
    """An action-group scenario: invocations of one group, the data moto is seeded with
    (``setup``), and the recorded answers of the reads moto does not serve."""

    kind: Literal["action-group"]
    action_group: str
    setup: list[SetupCall] = Field(default_factory=list)
    answers: list[AwsAnswerSpec] = Field(default_factory=list)
    #: Invocations (``invoke: operationId``) or, anything else, events verbatim.
    events: Annotated[list[Event], Field(min_length=1)]

    @field_validator("action_group")
    @classmethod
    def _registered(cls, name: str) -> str:
        """Named here, not deep inside authoring: ``$.action_group`` in the error."""
        from opx.action_groups.registry import ACTION_GROUPS

        known = [group.name for group in ACTION_GROUPS]
        if name not in known:
            raise ValueError(f"unknown action group {name!r} (known: {', '.join(known)})")
        return name


class MessageSpec(_Spec):
    """One message of the executor's dead-letter queue: Lambda's ``on-failure`` record
    of the spec's incident (the executor raised ``error`` on every attempt), the
    incident ``event`` itself (the EventBridge rule's dead letter), or a verbatim
    ``body`` (a string as it is, anything else as its JSON)."""

    kind: Literal["on-failure", "event", "body"]
    body: Any = None
    #: ``on-failure``: the code the executor raised with (``opx.errors.RETRIED_CODES``).
    error: str = "EXECUTION_FAILED"
    message: str = "the execution failed; see the executor's logs"
    #: ``on-failure`` / ``event``: store the body as the JSON text AWS writes -- compact,
    #: keys in the envelope's own order -- instead of as a JSON value (which a scenario
    #: file keeps with sorted keys): the bytes the redrive reads, and re-sends, differ.
    text: bool = False

    @model_validator(mode="after")
    def _body_only_verbatim(self) -> MessageSpec:
        if (self.kind == "body") != ("body" in self.model_fields_set):
            raise ValueError("body is given exactly for kind: body")
        if self.kind == "body" and self.text:
            raise ValueError("text is for on-failure and event messages; a body is verbatim")
        return self


class RedriveCommandSpec(_Spec):
    """The operator's ``python -m opx.redrive`` options (the queue URL is the replay's)."""

    limit: Annotated[int, Field(ge=0)] | None = None
    dry_run: bool = False
    #: The function to invoke; the executor the replay deploys unless a typo is the point.
    function_name: Annotated[str, Field(min_length=1)] = "opx-executor-replay"
    #: The queue named in ``--queue-url``; the replay's dead-letter queue unless a typo
    #: is the point (the messages are always sent to the replay's queue).
    queue: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,80}$")] | None = None


class RedriveSpec(ExecutorSpec):
    """A redrive scenario: the incident and its agents as an executor scenario has them
    (``table``: the checkpoint table an earlier, perhaps interrupted, run left), the
    dead-letter queue's ``messages`` and the ``redrive`` command line."""

    kind: Literal["redrive"]  # type: ignore[assignment]
    messages: Annotated[list[MessageSpec], Field(min_length=1)]
    redrive: RedriveCommandSpec = Field(default_factory=RedriveCommandSpec)

    @model_validator(mode="after")
    def _one_incident(self) -> RedriveSpec:
        if self.incident is None or self.deliveries != 1 or self.delivery != "sequential":
            raise ValueError("a redrive spec gives one incident; its messages deliver it")
        if self.remaining_ms is not None:
            raise ValueError(
                "remaining_ms is for executor specs; a redrive invokes the deployed one"
            )
        if self.expect is not None:
            raise ValueError("expect checks an executor run; a redrive's result is reviewed")
        return self


class MaintenanceSpec(ExecutorSpec):
    """A maintenance scenario: the executions as an executor scenario has them (their
    events, agents, ``table`` and ``dynamodb``), then the operator operations run on
    the checkpoint table, in order (:class:`harness.scenario.model.ListOperation`...)."""

    kind: Literal["maintenance"]  # type: ignore[assignment]
    maintenance: Annotated[list[MaintenanceOperation], Field(min_length=1)]

    @model_validator(mode="after")
    def _reviewed(self) -> MaintenanceSpec:
        if self.delivery != "sequential":
            raise ValueError("a maintenance spec's executions run one after another")
        if self.remaining_ms is not None:
            raise ValueError("remaining_ms is for executor specs")
        if self.expect is not None:
            raise ValueError("expect checks an executor run; a maintenance result is reviewed")
        return self


#: Any kind; ``kind`` (default ``executor``) says which.
Spec = ExecutorSpec | ActionGroupSpec | RedriveSpec | MaintenanceSpec
