"""The live half of ``opx-harness record``: the real handler, real AWS, every answer kept.

The executor runs exactly as in Lambda -- its own clients from boto3's default
session, its configuration from the environment -- with two differences: that
session carries the :class:`~harness.capture.recorder.Recorder`, and checkpoints go to an
embedded moto table (or the table the user names), so the only writes a recording
makes are checkpoints where the user asked for them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
from moto import mock_aws

from harness.capture.recorder import Exchange, Recorder
from harness.replayer import LambdaContext, captured_output, moto_lock, read_checkpoints

#: The embedded table's name (any name works; this one says where it came from).
EMBEDDED_TABLE = "opx-langgraph-checkpoints-record"
#: Environment that shapes behaviour and so belongs in the scenario.
SCENARIO_ENV_PREFIXES = ("OPX_", "CHECKPOINT_TTL_DAYS")


@dataclass(frozen=True)
class LiveRun:
    started: datetime
    responses: list[dict[str, Any]]
    final_state: dict[str, Any] | None
    trail: list[dict[str, Any]]
    exchanges: list[Exchange]
    #: Why the recording cannot be trusted (refused writes, unrecordable answers).
    problems: list[str]
    #: The executor settings a replay must reproduce (``OPX_*``, TTL).
    env: dict[str, str]


def run_live(
    events: Sequence[Any],
    *,
    region: str | None = None,
    profile: str | None = None,
    checkpoint_table: str | None = None,
    admit: Callable[[str, str, list[Exchange]], str | None] | None = None,
) -> LiveRun:
    """Deliver ``events`` to the handler against live AWS, recording every answer
    (``admit`` may refuse a call before it goes out: see :class:`Recorder`)."""
    from opx.errors import response_of
    from opx.lambda_handler import cold_start, handler

    table = checkpoint_table or EMBEDDED_TABLE
    recorder = Recorder(
        passthrough=lambda s, _, params: s == "dynamodb" and table in tables(params),
        admit=admit,
    )
    with _environment(table, region, embedded=checkpoint_table is None):
        env = {k: v for k, v in sorted(os.environ.items()) if k.startswith(SCENARIO_ENV_PREFIXES)}
        with _checkpoint_backend(embedded=checkpoint_table is None), captured_output():
            session = boto3.Session(profile_name=profile, region_name=region)
            session.events.register_first("before-send", recorder.before_send)
            moto_lock.serialize(session.events)
            previous, boto3.DEFAULT_SESSION = boto3.DEFAULT_SESSION, session
            try:
                if checkpoint_table is None:
                    _create_embedded_table(session, table)
                cold_start()
                started = datetime.now(UTC).replace(microsecond=0)
                responses = [response_of(handler, event, LambdaContext()) for event in events]
                final_state, trail = read_checkpoints(responses, _saver(session, table))
            finally:
                cold_start()
                boto3.DEFAULT_SESSION = previous
    return LiveRun(
        started=started,
        responses=responses,
        final_state=final_state,
        trail=trail,
        exchanges=list(recorder.exchanges),
        problems=list(recorder.problems),
        env=env,
    )


def tables(params: Mapping[str, Any]) -> set[str]:
    """Every table a DynamoDB request names."""
    names = {params["TableName"]} if isinstance(params.get("TableName"), str) else set()
    names.update(params.get("RequestItems") or {})
    for item in params.get("TransactItems") or []:
        names.update(op["TableName"] for op in item.values() if "TableName" in op)
    return names


@contextmanager
def _environment(table: str, region: str | None, *, embedded: bool) -> Iterator[None]:
    saved = dict(os.environ)
    try:
        os.environ["USE_DYNAMODB_CHECKPOINTING"] = "true"
        os.environ["CHECKPOINT_TABLE_NAME"] = table
        if region:
            os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = region
        if embedded:
            # An endpoint override would send the embedded table's calls past moto.
            os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def _checkpoint_backend(*, embedded: bool) -> Iterator[None]:
    if not embedded:
        yield
        return
    # Real credentials stay in place: every other call goes to AWS, and the recorder
    # answers them before moto would see them.
    with mock_aws(config={"core": {"mock_credentials": False}}):
        yield


def _create_embedded_table(session: boto3.Session, table: str) -> None:
    from opx.checkpointing import TABLE_SCHEMA

    session.client("dynamodb").create_table(**TABLE_SCHEMA.create_table_request(table))


def _saver(session: boto3.Session, table: str) -> Any:
    from opx.checkpointing import DynamoDBCheckpointer

    return DynamoDBCheckpointer(table, client=session.client("dynamodb"))


__all__ = ["EMBEDDED_TABLE", "LiveRun", "run_live", "tables"]
