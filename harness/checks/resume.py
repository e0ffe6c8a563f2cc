"""Resume matrix: kill the executor at every checkpoint, redeliver, demand the same answer.

A snapshot proves one run equals one stored run; it says nothing about the path a
real Lambda takes when it dies mid-execution and EventBridge delivers the event
again. This module replays a scenario uninterrupted once, then once per crash point
(see :class:`CrashPoint`): right after checkpoint k; after the pending writes of k's
tasks but before checkpoint k+1; and inside the first wave, at each agent's Bedrock
request once the other four agents' writes are stored (so it is never paid).

The first event's delivery dies there; the executor cold-starts (DynamoDB
checkpointer; LangGraph's in-memory saver lives in the container, so there the
container is kept) and every event of the scenario is delivered again. Each case
must show: the crash happened where planned, no agent whose result was stored is
called again, the Bedrock calls of crash + resume are exactly the uninterrupted
run's (same interactions, attempts and cost), and the handler responses, the final
graph state and -- on DynamoDB, where the trail is readable -- the checkpoint trail
(step, source, writers, state digest) equal the uninterrupted run's. Metrics, logs
and the clock are not compared: the crashed attempt emitted no metrics and its
requests tick the frozen clock in a different order.

How the executor dies, and where, is :mod:`harness.checks.crash`.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar

from harness import canonical
from harness.checks.base import Check, CheckContext, not_applicable
from harness.checks.compare import clip
from harness.checks.crash import CRASH_KINDS, CrashLayer, CrashPoint, SimulatedCrash
from harness.checks.outcome import Outcome, Status
from harness.kinds.executor import ExecutorResult, replay_executor
from harness.replayer import LambdaContext, Replayer
from harness.scenario import Scenario
from harness.wire import TransportLayer, agent_of

_ENV_FLAG = "USE_DYNAMODB_CHECKPOINTING"


@dataclass
class ResumeCase:
    """One crash point's outcome; ``problems`` empty means it resumed exactly."""

    scenario: str
    saver: str
    point: CrashPoint
    crash_expected: bool
    crashed: str | None = None
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def report(self) -> str:
        head = f"scenario {self.scenario} [{self.saver}] crash {self.point.label}"
        if self.ok:
            return f"{head}: resumed exactly"
        return "\n".join([f"{head}:", *(f"  - {p}" for p in self.problems)])


@dataclass
class ResumeMatrix:
    scenario: str
    saver: str
    cases: list[ResumeCase]
    skipped: str | None = None
    seconds: float = 0.0

    @property
    def failures(self) -> list[ResumeCase]:
        return [case for case in self.cases if not case.ok]

    def report(self) -> str:
        if self.skipped:
            return f"scenario {self.scenario} [{self.saver}]: skipped: {self.skipped}"
        return "\n".join(case.report() for case in self.cases)


# --------------------------------------------------------------------------- delivery


@dataclass
class _Observed:
    """What a delivery saw besides the handler responses."""

    values: Any = None
    first_attempt_calls: int = 0
    repeated: list[str] = field(default_factory=list)
    #: How the crashed delivery's handler call ended if it returned instead of dying.
    swallowed: str | None = None


def _deliver(point: CrashPoint | None, cold: bool, seen: _Observed) -> Any:
    def deliver(scenario: Scenario, transport: TransportLayer) -> list[dict[str, Any]]:
        from opx import lambda_handler
        from opx.errors import response_of
        from opx.events import EventValidationError, parse_event
        from opx.ids import execution_id

        event = scenario.events[0]
        try:
            thread_id = execution_id(parse_event(event))
        except EventValidationError:  # rejected before any checkpoint: nothing to resume
            thread_id = ""
        if point is not None:
            crash = transport.find(CrashLayer)
            if crash is None:
                raise TypeError("a crash point needs the CrashLayer in the transport stack")
            crash.point, crash.thread_id, crash.armed = point, thread_id, True
            try:
                answered = response_of(lambda_handler.handler, event, LambdaContext())
                seen.swallowed = f"statusCode {answered.get('statusCode')}"
            except SimulatedCrash:
                seen.swallowed = None
            finally:
                crash.armed = False
            seen.first_attempt_calls = len(transport.calls)
            if cold:
                lambda_handler.cold_start()
        # Later events of the scenario (a redelivery, say) follow the resumed one.
        responses = [
            response_of(lambda_handler.handler, e, LambdaContext()) for e in scenario.events
        ]
        if thread_id:
            config = {"configurable": {"thread_id": thread_id}}
            # Read through the container the deliveries left warm: one that never came
            # up (a configuration error) has no state to compare.
            warm = lambda_handler.warm_container()
            if warm is not None:
                seen.values = canonical.plain(warm.graph.get_state(config).values)
        # A request whose recorded answers are used up is an agent paid twice: report it
        # here, as a resume problem, rather than let the replay raise on it.
        seen.repeated = [
            f"{err.operation} for agent {agent_of(err.request)} ({err.reason})"
            for err in transport.unmatched
        ]
        transport.unmatched.clear()
        return responses

    return deliver


# --------------------------------------------------------------------------- matrix


def _with_saver(scenario: Scenario, saver: str) -> Scenario:
    env = dict(scenario.env)
    env[_ENV_FLAG] = "true" if saver == "dynamodb" else "false"
    return scenario.model_copy(update={"env": env})


def _call_agents(result: ExecutorResult) -> Counter[str]:
    return Counter(call["agent"] for call in result.bedrock_calls)


def _trail(result: ExecutorResult) -> list[list[Any]]:
    return [
        [entry["step"], entry["source"], entry["writers"], entry["state_sha256"]]
        for entry in result.checkpoints
    ]


def resume_matrix(
    scenario: Scenario,
    saver: str = "dynamodb",
    *,
    kinds: frozenset[str] = CRASH_KINDS,
    agents: tuple[str, ...] | None = None,
) -> ResumeMatrix:
    """Every crash point of ``scenario`` on ``saver`` ("dynamodb" or "memory").

    ``kinds`` selects crash-point kinds (see :class:`CrashPoint`); ``agents`` limits
    the first-wave crash cases (default: all five).
    """
    from opx.state import PARALLEL_AGENTS

    started = time.monotonic()
    scenario = _with_saver(scenario, saver)
    seen = _Observed()
    baseline = replay_executor(scenario, Replayer(deliver=_deliver(None, True, seen)))
    # The trail is read from DynamoDB, so the memory saver takes it from a DynamoDB run.
    trail_source = (
        baseline if saver == "dynamodb" else replay_executor(_with_saver(scenario, "dynamodb"))
    )
    trail = trail_source.checkpoints
    if not trail:
        return ResumeMatrix(scenario.name, saver, [], skipped="no checkpoint: nothing to resume")
    called = _call_agents(baseline)
    writers_upto: list[frozenset[str]] = []
    acc: set[str] = set()
    for entry in trail:
        acc |= set(entry["writers"])
        writers_upto.append(frozenset(acc))
    points: list[tuple[CrashPoint, bool]] = []
    last = len(trail) - 1
    for k, entry in enumerate(trail):
        step = entry["step"]
        following = trail[k + 1]["writers"] if k < last else []
        if saver == "memory":
            # No DynamoDB writes to die at: only a Bedrock request of the step after k
            # is a crash point (k=-1 and k=0 share the first wave's, so keep k >= 0).
            if step >= 0 and any(called[a] for a in following):
                points.append((CrashPoint("after", k, writers_upto[k], step=step), True))
            continue
        points.append((CrashPoint("after", k, writers_upto[k], step=step), k < last))
        if k < last:
            allowed = writers_upto[k + 1]
            # The input checkpoint's one task is ``__start__``, which no trail lists.
            tasks = max(1, len(following))
            point = CrashPoint("writes", k, allowed, tasks=tasks, step=step)
            points.append((point, True))
    wave = next((k for k, e in enumerate(trail) if set(e["writers"]) >= set(PARALLEL_AGENTS)), None)
    if wave is not None and all(called[a] for a in PARALLEL_AGENTS):
        for agent in agents if agents is not None else PARALLEL_AGENTS:
            point = CrashPoint(
                "branch", wave - 1, writers_upto[wave], agent=agent, step=trail[wave - 1]["step"]
            )
            points.append((point, True))
    cases = [
        _run_case(scenario, saver, point, expected, baseline, seen)
        for point, expected in points
        if point.kind in kinds
    ]
    return ResumeMatrix(scenario.name, saver, cases, seconds=time.monotonic() - started)


def _run_case(
    scenario: Scenario,
    saver: str,
    point: CrashPoint,
    expected: bool,
    baseline: ExecutorResult,
    baseline_seen: _Observed,
) -> ResumeCase:
    started = time.monotonic()
    case = ResumeCase(scenario.name, saver, point, expected)
    holder: list[CrashLayer] = []

    def layer(inner: TransportLayer) -> CrashLayer:
        holder.append(CrashLayer(inner))
        return holder[0]

    seen = _Observed()
    replayer = Replayer(layers=[layer], deliver=_deliver(point, saver == "dynamodb", seen))
    resumed = replay_executor(scenario, replayer)
    transport = holder[0]
    case.crashed = transport.crashed
    case.problems = compare(baseline, baseline_seen, resumed, seen, transport, expected, saver)
    case.seconds = time.monotonic() - started
    return case


def compare(
    baseline: ExecutorResult,
    baseline_seen: _Observed,
    resumed: ExecutorResult,
    seen: _Observed,
    transport: CrashLayer,
    crash_expected: bool,
    saver: str,
) -> list[str]:
    """What differs between the uninterrupted run and crash + redelivery."""
    problems = []
    if transport.timeout:
        problems.append(transport.timeout)
    if crash_expected and transport.crashed is None:
        problems.append("the crash point was never reached: the first delivery completed")
    if not crash_expected and transport.crashed is not None:
        problems.append(f"crashed at {transport.crashed}, but no crash was planned")
    if transport.crashed is not None and seen.swallowed is not None:
        problems.append(
            f"the crash at {transport.crashed} was swallowed: the handler returned "
            f"{seen.swallowed} instead of dying"
        )
    if seen.repeated:
        problems.append("agents paid twice (recording used up): " + "; ".join(seen.repeated))
    scenario = transport.scenario
    agents = {n: agent_of(i.request) for n, i in enumerate(scenario.interactions)}
    before = Counter(agents[c.interaction] for c in transport.calls[: seen.first_attempt_calls])
    after = Counter(agents[c.interaction] for c in transport.calls[seen.first_attempt_calls :])
    expected_calls = Counter(agents[c["interaction"]] for c in baseline.bedrock_calls)
    repaid = sorted(a for a in after if before[a])
    if repaid:
        problems.append(
            "restarted instead of resuming: called again after the crash: "
            + ", ".join(f"{a} ({before[a]} before, {after[a]} after)" for a in repaid)
        )
    total = before + after
    if total != expected_calls:
        problems.append(
            f"Bedrock calls across crash + resume {dict(sorted(total.items()))} != "
            f"uninterrupted {dict(sorted(expected_calls.items()))}"
        )
    if [_key(c) for c in resumed.bedrock_calls] != [_key(c) for c in baseline.bedrock_calls]:
        problems.append("the answered Bedrock calls (interaction, attempt, cost) differ")
    if canonical.plain(resumed.responses) != canonical.plain(baseline.responses):
        problems.append(
            "handler responses differ:\n" + _diff(baseline.responses, resumed.responses)
        )
    if seen.values != baseline_seen.values:
        problems.append("final state differs:\n" + _diff(baseline_seen.values, seen.values))
    if saver == "dynamodb" and _trail(resumed) != _trail(baseline):
        problems.append(
            "checkpoint trail [step, source, writers, state_sha256] differs:\n"
            + _diff(_trail(baseline), _trail(resumed))
        )
    return problems


def _key(call: dict[str, Any]) -> tuple[Any, ...]:
    return (call["interaction"], call["attempt"], call["outcome"], call["cost_usd"])


def _diff(expected: Any, actual: Any, limit: int = 40) -> str:
    import difflib

    lines = difflib.unified_diff(
        canonical.pretty(canonical.plain(expected)).splitlines(),
        canonical.pretty(canonical.plain(actual)).splitlines(),
        "uninterrupted",
        "crash+resume",
        lineterm="",
    )
    out = list(lines)
    if len(out) > limit:
        out = [*out[:limit], f"... ({len(out) - limit} more diff lines)"]
    return "\n".join(out)


class ResumeCheck(Check):
    name: ClassVar[str] = "resume"

    def run(self, context: CheckContext) -> Outcome:
        scenario = context.scenario
        skipped = not_applicable(self.name, scenario)
        if skipped is not None:
            return skipped
        matrices = [resume_matrix(scenario, saver) for saver in ("dynamodb", "memory")]
        cases = [case for matrix in matrices for case in matrix.cases]
        failures = [case for case in cases if not case.ok]
        if failures:
            return Outcome(
                Status.NONDETERMINISTIC,
                f"resume failed for scenario {scenario.name}: {len(failures)} of {len(cases)} "
                f"crash points did not resume exactly (first: {failures[0].point.label} "
                f"[{failures[0].saver}])",
                clip("\n".join(case.report() for case in failures)),
            )
        if not cases:
            reasons = "; ".join(sorted({m.skipped or "no crash point" for m in matrices}))
            return Outcome(
                Status.SKIPPED, f"resume: nothing to crash in {scenario.name}: {reasons}"
            )
        return Outcome(
            Status.PASSED,
            f"{len(cases)} crash points of {scenario.name} (DynamoDB and in-memory savers) all "
            "resumed to the uninterrupted run's answer without paying an agent twice",
        )


__all__ = ["ResumeCase", "ResumeCheck", "ResumeMatrix", "resume_matrix"]
