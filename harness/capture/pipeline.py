"""From a live run or a checkpoint table to a scenario worth committing.

Both ``record`` and ``import`` follow the same three steps, and a failure at any of
them writes nothing:

1. **Faithful.** The raw (unscrubbed, in-memory) recording is replayed offline and
   must reproduce what really happened: the live run's responses, final state and
   checkpoint trail (``record``), or the final state stored in the table
   (``import``).
2. **Scrubbed.** Event, answers and settings go through one
   :class:`~harness.scrub.Scrubber`, so each secret has one placeholder everywhere.
   Ids the executor derives from the event by hashing (the incident id of an alarm
   event, the execution id) are mapped to what the scrubbed event derives, and the
   requests are re-derived from the scrubbed event (:mod:`harness.rederive`).
3. **Still faithful.** The scrubbed scenario is replayed strictly, and its responses
   and final state must equal the faithful ones, scrubbed. Its canonical result is
   the snapshot.

Every message and report passes through the scrubber before anyone sees it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from harness import canonical
from harness.capture.live import run_live
from harness.capture.recorder import Exchange
from harness.capture.rederive import RecordedAnswer, RederiveError, rederive
from harness.capture.scrub import Pattern, Redactions, Scrubber
from harness.checks.divergence import compare
from harness.kinds.executor import ExecutorResult, replay_executor
from harness.replayer import checkpoint_trail
from harness.scenario import (
    Answer,
    ChunkEvent,
    Clock,
    ErrorAnswer,
    EventStreamAnswer,
    ExceptionEvent,
    Interaction,
    Scenario,
    StreamError,
)
from harness.wire import INVOKE_AGENT, UnmatchedRequestError, usage_traces

_ANSWER: TypeAdapter[Answer] = TypeAdapter(Answer)


class CaptureError(Exception):
    """Why a capture was not saved; ``report`` holds the (scrubbed) details."""

    def __init__(self, message: str, report: str = "") -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class Capture:
    scenario: Scenario
    #: The snapshot file's content: the scrubbed scenario's canonical replay.
    snapshot: str
    redactions: list[Redactions]
    #: One line for people: kinds and counts, never values.
    redacted: str


def draft(name: str, description: str, tags: Sequence[str]) -> Scenario:
    """Fail on a bad name before anything runs (a live run costs money)."""
    try:
        return Scenario(
            name=name,
            description=description,
            tags=sorted(tags),
            clock=Clock(start=datetime.fromisoformat("2000-01-01T00:00:00+00:00")),
            events=[{}],
        )
    except ValidationError as exc:
        raise CaptureError(f"invalid scenario name {name!r}: {exc.errors()[0]['msg']}") from None


# --------------------------------------------------------------------------- record


def record(
    events: Sequence[Any],
    *,
    name: str,
    description: str,
    region: str | None = None,
    profile: str | None = None,
    checkpoint_table: str | None = None,
    patterns: Sequence[Pattern] = (),
    admit: Callable[[str, str, list[Exchange]], str | None] | None = None,
) -> Capture:
    """Run ``events`` against live AWS, verify, scrub, verify again (``admit``: see
    :class:`~harness.capture.recorder.Recorder`)."""
    base = draft(name, description, ["recorded"])
    scrubber = Scrubber(patterns)
    live = run_live(
        events, region=region, profile=profile, checkpoint_table=checkpoint_table, admit=admit
    )
    if live.problems:
        raise CaptureError(
            "the live run cannot be recorded: " + "; ".join(map(scrubber.text, live.problems))
        )
    raw = base.model_copy(
        update={
            "clock": Clock(start=live.started),
            "env": live.env,
            "events": list(events),
            "interactions": sorted(
                (
                    Interaction(
                        service=x.service,
                        operation=x.operation,
                        request=x.request,
                        response=x.answer,
                        latency_ms=x.latency_ms,
                    )
                    for x in live.exchanges
                ),
                key=lambda i: (i.service, i.operation, canonical.dumps(i.request)),
            ),
        }
    )
    result = _replay(raw, scrubber, "the recording")
    if len(result.bedrock_calls) != len(raw.interactions):
        raise CaptureError(
            f"the offline replay used {len(result.bedrock_calls)} of "
            f"{len(raw.interactions)} recorded answers: the live run is not reproducible"
        )
    _same(
        scrubber,
        {
            "responses": live.responses,
            "final_state": live.final_state,
            "checkpoints": [_trail_entry(e) for e in live.trail],
        },
        {
            "responses": result.responses,
            "final_state": result.final_state,
            "checkpoints": [_trail_entry(e) for e in result.checkpoints],
        },
        "live run",
        "offline replay of the recording",
    )
    answers = [
        RecordedAnswer(x.service, x.operation, x.request, x.answer, x.latency_ms)
        for x in live.exchanges
    ]
    return _scrub_and_verify(raw, answers, result, scrubber)


def _trail_entry(entry: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in entry.items() if key != "state"}


# --------------------------------------------------------------------------- import


def import_execution(
    client: Any,
    table: str,
    incident_id: str,
    *,
    execution_id: str | None = None,
    name: str | None = None,
    patterns: Sequence[Pattern] = (),
) -> Capture:
    """Rebuild a scenario from one execution stored in the checkpoint table."""
    from opx.checkpointing import DynamoDBCheckpointer, find_executions

    scrubber = Scrubber(patterns)
    base = draft(
        name or _slug(f"incident-{scrubber.text(incident_id)}"),
        f"Imported from checkpoint table {table}, incident {incident_id}.",
        ["imported"],
    )
    base = base.model_copy(update={"description": scrubber.text(base.description)})
    threads = find_executions(client, table, incident_id)
    thread = _choose(threads, execution_id, incident_id, table)
    saver = DynamoDBCheckpointer(table, client=client)
    stored, _ = checkpoint_trail(saver, thread)
    if not stored or "status" not in stored:
        raise CaptureError(f"execution {thread} did not complete; only finished runs import")
    if "event" not in stored:
        raise CaptureError(f"execution {thread} predates checkpointed events; it cannot be rebuilt")
    raw_draft = base.model_copy(
        update={
            "clock": Clock(start=_first_checkpoint_time(saver, thread)),
            "env": _settings_env(stored),
            "events": [stored["event"]],
        }
    )
    answers = stored_answers(stored)
    raw = _rederive(raw_draft, answers, scrubber)
    result = _replay(raw, scrubber, "the rebuilt scenario")
    _same(
        scrubber,
        {"final_state": stored},
        {"final_state": result.final_state},
        "stored final state",
        "replay of the rebuilt scenario",
    )
    return _scrub_and_verify(raw, answers, result, scrubber)


def _choose(threads: list[str], wanted: str | None, incident_id: str, table: str) -> str:
    if wanted is not None:
        if wanted not in threads:
            raise CaptureError(f"execution {wanted} is not one of incident {incident_id}'s")
        return wanted
    if not threads:
        raise CaptureError(f"no execution of incident {incident_id} in table {table}")
    if len(threads) > 1:
        raise CaptureError(
            f"incident {incident_id} has {len(threads)} executions; choose one with "
            f"--execution-id: {', '.join(sorted(threads))}"
        )
    return threads[0]


def _first_checkpoint_time(saver: Any, thread: str) -> datetime:
    config = {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}
    stamps = [item.checkpoint["ts"] for item in saver.list(config)]
    return datetime.fromisoformat(min(stamps)).replace(microsecond=0)


def _settings_env(state: dict[str, Any]) -> dict[str, str]:
    """The executor settings the stored run implies: its budget, and enough attempts
    (exactly as many as an agent that ran out of them made)."""
    from opx.graph import all_results

    env = {"OPX_DEFAULT_BUDGET_USD": str(state["budget_usd"])}
    results = all_results(state).values()
    exhausted = {
        r["attempts"] for r in results if (r["error"] or {}).get("code") == "RETRIES_EXHAUSTED"
    }
    attempts = max([r["attempts"] for r in results] or [0])
    if exhausted:
        env["OPX_AGENT_MAX_ATTEMPTS"] = str(max(exhausted))
    elif attempts > 4:
        env["OPX_AGENT_MAX_ATTEMPTS"] = str(attempts)
    return env


def stored_answers(state: dict[str, Any]) -> list[RecordedAnswer]:
    """Each agent's checkpointed answers, in attempt order, as replayable answers."""
    from opx.graph import all_results

    answers = []
    for agent, result in all_results(state).items():
        for attempt, response in enumerate(result["responses"], start=1):
            try:
                answer = _answer(response)
            except (ValidationError, KeyError, TypeError) as exc:
                raise CaptureError(
                    f"{agent} attempt {attempt}: the stored answer is incomplete ({exc})"
                ) from None
            if answer is None:
                error = response["error"]
                raise CaptureError(
                    f"{agent} attempt {attempt}: a {error['where']} failure "
                    f"({error['code']}) left no answer to replay"
                )
            request = {"inputText": {"agent": agent}}
            answers.append(RecordedAnswer(*INVOKE_AGENT, request, answer))
    return answers


def _answer(response: dict[str, Any]) -> Answer | None:
    error = response["error"]
    usage = response["usage"]
    events: list[Any] = [
        *usage_traces(response["model_id"], usage["input_tokens"], usage["output_tokens"])
    ]
    if response["completion"]:
        events.append(ChunkEvent(chunk=response["completion"]))
    if error is None:
        return EventStreamAnswer(events=events)
    if error["where"] == "stream":
        exception = StreamError(type=error["code"], message=error["message"])
        return EventStreamAnswer(events=[*events, ExceptionEvent(exception=exception)])
    if error["where"] == "http":
        return ErrorAnswer(status=error["status"], code=error["code"], message=error["message"])
    return None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:100] or "imported"


# --------------------------------------------------------------------------- shared


def _scrub_and_verify(
    raw: Scenario, answers: Sequence[RecordedAnswer], faithful: ExecutorResult, scrubber: Scrubber
) -> Capture:
    events = scrubber.value(raw.events)
    for original, scrubbed in _derived_ids(raw.events, events):
        scrubber.alias(original, scrubbed)
    scrubbed_answers = [
        replace(
            item,
            request=scrubber.value(item.request),
            answer=_ANSWER.validate_python(scrubber.value(item.answer.model_dump(mode="json"))),
        )
        for item in answers
    ]
    final = _rederive(
        raw.model_copy(update={"events": events, "env": scrubber.value(raw.env)}),
        scrubbed_answers,
        scrubber,
    )
    result = _replay(final, scrubber, "the scrubbed scenario")
    _same(
        scrubber,
        scrubber.value({"responses": faithful.responses, "final_state": faithful.final_state}),
        {"responses": result.responses, "final_state": result.final_state},
        "faithful replay, scrubbed",
        "replay of the scrubbed scenario",
        reason="scrubbing changed what the executor does",
    )
    return Capture(final, result.to_canonical_json(), scrubber.redactions(), scrubber.summary())


def _derived_ids(raw: Iterable[Any], scrubbed: Iterable[Any]) -> list[tuple[str, str]]:
    """(raw, scrubbed) incident and execution ids, where scrubbing changed them."""
    from opx.events import EventValidationError, parse_event
    from opx.ids import execution_id

    pairs = []
    for before, after in zip(raw, scrubbed, strict=True):
        try:
            old, new = parse_event(before), parse_event(after)
        except EventValidationError:
            continue
        pairs += [(old.incident_id, new.incident_id), (execution_id(old), execution_id(new))]
    return [(a, b) for a, b in pairs if a != b]


def _rederive(
    scenario: Scenario, answers: Sequence[RecordedAnswer], scrubber: Scrubber
) -> Scenario:
    try:
        return rederive(scenario, answers)
    except RederiveError as exc:
        raise CaptureError(
            "the executor asks differently than the recording answers",
            scrubber.text(str(exc)),
        ) from None


def _replay(scenario: Scenario, scrubber: Scrubber, what: str) -> ExecutorResult:
    try:
        return replay_executor(scenario)
    except UnmatchedRequestError as exc:
        raise CaptureError(
            f"{what} does not replay: {scrubber.text(exc.reason)}", scrubber.text(exc.report())
        ) from None


def _same(
    scrubber: Scrubber,
    expected: dict[str, Any],
    actual: dict[str, Any],
    expected_label: str,
    actual_label: str,
    *,
    reason: str | None = None,
) -> None:
    divergence = compare(
        canonical.plain(expected),
        canonical.plain(actual),
        expected_label=expected_label,
        actual_label=actual_label,
    )
    if divergence is not None:
        raise CaptureError(
            reason or f"the {actual_label} does not reproduce the {expected_label}",
            scrubber.text(divergence.to_text()),
        )


def save(capture: Capture, scenarios: Path, snapshots: Path, *, force: bool = False) -> list[Path]:
    """Write the scenario and its snapshot; refuse to overwrite unless ``force``."""
    name = capture.scenario.name
    paths = [scenarios / f"{name}.json", snapshots / f"{name}.json"]
    existing = [str(p) for p in paths if p.exists()]
    if existing and not force:
        raise CaptureError(f"{', '.join(existing)} already exist(s); pass --force to replace")
    texts = [capture.scenario.to_json(), capture.snapshot]
    _refuse_secrets(dict(zip(paths, texts, strict=True)), scenarios)
    for path, text in zip(paths, texts, strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return paths


def _refuse_secrets(files: dict[Path, str], scenarios: Path) -> None:
    """The independent detector pass (:mod:`.secret_scan`) before anything is written."""
    from harness.capture import secret_scan

    try:
        secret_scan.scan_before_write(files, allowlist=secret_scan.allowlist_for(scenarios))
    except secret_scan.SecretScanError as exc:
        raise CaptureError(str(exc)) from None
    except secret_scan.SecretsFound as exc:
        raise CaptureError(str(exc), exc.report()) from None


__all__ = [
    "Capture",
    "CaptureError",
    "draft",
    "import_execution",
    "record",
    "save",
    "stored_answers",
]
