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

The crash is a ``BaseException`` so the executor's ``except Exception`` blocks (agent
runner, handler) cannot turn it into a FAILURE result: botocore, LangGraph's worker
threads and the handler all let it through, as a SIGKILL would.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness import canonical
from harness.replayer import LambdaContext, ReplayResult, replay
from harness.requests import request_params
from harness.scenario import Scenario
from harness.transport import Transport

BEDROCK = "bedrock-agent-runtime"
#: DynamoDB operations that persist something; reads never crash a live attempt.
DYNAMODB_WRITES = frozenset({"PutItem", "TransactWriteItems", "BatchWriteItem"})
#: How long a crash point waits for the state it needs to be durable before the
#: harness gives up (a wedged executor, or a checkpointer that never stores).
DURABLE_TIMEOUT_S = 5.0
_POLL_S = 0.002
_ENV_FLAG = "USE_DYNAMODB_CHECKPOINTING"
CRASH_KINDS = frozenset({"after", "writes", "branch"})


class SimulatedCrash(BaseException):
    """The Lambda execution environment died here."""


@dataclass(frozen=True)
class CrashPoint:
    """Where the first delivery dies, in terms of the uninterrupted run's trail.

    ``checkpoint`` is an index into that trail (oldest first). ``kind``:

    * ``after``: checkpoint k is durable, nothing of the tasks run from it is;
    * ``writes``: checkpoint k and every pending write of its tasks are durable,
      checkpoint k+1 is not (the process died between the last task and the commit);
    * ``branch``: k is the first wave's checkpoint; the other four agents' writes are
      durable and ``agent`` dies at its Bedrock request (so it is never paid).
    """

    kind: str
    checkpoint: int
    #: Agents whose Bedrock calls may be answered before the crash.
    allowed: frozenset[str]
    agent: str | None = None
    #: ``writes``: how many tasks' pending writes must be durable before dying.
    tasks: int = 0
    step: int | None = None

    @property
    def label(self) -> str:
        at = f"checkpoint {self.checkpoint} (step {self.step})"
        if self.kind == "branch":
            return f"in the first wave at {self.agent}'s Bedrock request"
        if self.kind == "writes":
            return f"after the pending writes of {at}, before the next checkpoint"
        return f"right after {at}"

    @property
    def write_upto(self) -> int:
        """The newest checkpoint whose attached pending writes may become durable."""
        return self.checkpoint - 1 if self.kind == "after" else self.checkpoint


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


# --------------------------------------------------------------------------- transport


class CrashTransport(Transport):
    """The recorded transport, plus a point at which the executor dies.

    Armed only during the first delivery. Once the crash fires, every later request
    of that attempt (other branches, background checkpoint writes) dies too: a dead
    process sends nothing. Decisions go by what a request stores (its sort keys), not
    by arrival order, so a crash point means the same durable state on every run even
    though LangGraph writes checkpoints in background threads.
    """

    def __post_init__(self) -> None:
        super().__post_init__()
        self.point = CrashPoint("after", 0, frozenset())
        self.thread_id = ""
        self.armed = False
        self.crashed: str | None = None
        self.timeout: str | None = None
        self._dead = threading.Event()
        self._state_lock = threading.Lock()
        #: Checkpoint ids whose heads were let through, in order.
        self._heads: list[str] = []
        self._local = threading.local()

    def before_send(self, request: Any, event_name: str, **kw: Any) -> Any:
        if not self.armed or getattr(self._local, "internal", False):
            return super().before_send(request, event_name, **kw)
        if self._dead.is_set():
            raise SimulatedCrash(f"already dead ({self.crashed})")
        _, service, operation = event_name.split(".", 2)
        if service == "dynamodb" and operation in DYNAMODB_WRITES:
            self._on_write(request, operation)
        elif service == BEDROCK:
            self._on_bedrock(request, operation)
        return super().before_send(request, event_name, **kw)

    def _on_write(self, request: Any, operation: str) -> None:
        from opx.checkpointing import keys

        point = self.point
        for sort_key in _sort_keys(request, operation):
            if keys.is_meta(sort_key):
                continue  # the execution's in-progress lease: not a checkpoint write
            parsed = keys.parse(sort_key)
            owner = keys.parse(parsed.owner) if parsed.kind == "chunk" and parsed.owner else parsed
            if owner.kind == "head":
                with self._state_lock:
                    known = parsed.checkpoint_id in self._heads
                    if known or len(self._heads) <= point.checkpoint:
                        if parsed.kind == "head" and not known:
                            self._heads.append(parsed.checkpoint_id)
                        continue
                self._crash(f"DynamoDB {operation} of a checkpoint after {point.label}")
            index = self._head_index(parsed.checkpoint_id)
            if index is None or index > point.write_upto:
                self._crash(f"DynamoDB {operation} of pending writes past {point.label}")

    def _head_index(self, checkpoint_id: str) -> int | None:
        """Which allowed checkpoint a pending write belongs to, once its head is sent
        (a write may race ahead of its own checkpoint's head)."""
        for _ in range(round(DURABLE_TIMEOUT_S / _POLL_S)):
            with self._state_lock:
                if checkpoint_id in self._heads:
                    return self._heads.index(checkpoint_id)
                if len(self._heads) > self.point.checkpoint:
                    return None
            if self._dead.wait(_POLL_S):
                return None
        return None

    def _on_bedrock(self, request: Any, operation: str) -> None:
        agent = _agent(request, operation)
        if agent == self.point.agent or agent not in self.point.allowed:
            self._crash(f"{agent}'s Bedrock request")

    def _crash(self, where: str) -> None:
        """Wait until what the crash point promises is durable, then die."""
        # The replay freezes ``time`` (sleep only advances the frozen clock), so wait
        # on an Event: threading's timeouts keep real time and let the branches run.
        for _ in range(round(DURABLE_TIMEOUT_S / _POLL_S)):
            if self._dead.is_set() or self._durable():
                break
            self._dead.wait(_POLL_S)
        else:
            self.timeout = f"waited {DURABLE_TIMEOUT_S}s at {where}: promised state never stored"
        with self._state_lock:
            if self.crashed is None:
                self.crashed = where
            self._dead.set()
        raise SimulatedCrash(where)

    def _durable(self) -> bool:
        from opx.state import PARALLEL_AGENTS

        tuples = self._tuples()
        point = self.point
        if len(tuples) <= point.checkpoint:
            return False
        writes = tuples[point.checkpoint].pending_writes
        if point.kind == "writes":
            return len({task for task, _, _ in writes}) >= point.tasks
        if point.kind == "branch":
            stored = {
                agent
                for _, channel, value in writes
                if channel == "hypotheses" and isinstance(value, dict)
                for agent in value
            }
            return stored >= set(PARALLEL_AGENTS) - {point.agent}
        return True

    def _tuples(self) -> list[Any]:
        """The stored checkpoints of the execution, oldest first, read through the
        executor's own saver (the in-memory one lives only there)."""
        from opx import lambda_handler

        container = lambda_handler._container
        if container is None or not self.thread_id:
            return []
        self._local.internal = True
        try:
            config = {"configurable": {"thread_id": self.thread_id, "checkpoint_ns": ""}}
            return list(reversed(list(container.checkpointer.list(config))))
        finally:
            self._local.internal = False


def _sort_keys(request: Any, operation: str) -> list[str]:
    """The checkpoint-table sort keys a write request stores."""
    body = json.loads(_body(request) or b"{}")
    if operation == "PutItem":
        found = [body.get("Item", {})]
    elif operation == "TransactWriteItems":
        found = [t.get("Put", {}).get("Item", {}) for t in body.get("TransactItems", [])]
    else:
        found = [
            r.get("PutRequest", {}).get("Item", {})
            for requests in body.get("RequestItems", {}).values()
            for r in requests
        ]
    return [item["checkpoint_id"]["S"] for item in found if "checkpoint_id" in item]


def _body(request: Any) -> bytes:
    body = request.body
    if isinstance(body, str):
        return body.encode()
    if body is None or isinstance(body, bytes):
        return body or b""
    return body.read()


def _agent(request: Any, operation: str) -> str | None:
    params = request_params(
        BEDROCK, operation, request.method, request.url, request.headers, _body(request)
    )
    text = params.get("inputText")
    return text.get("agent") if isinstance(text, dict) else None


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
    def deliver(scenario: Scenario, transport: Transport) -> list[dict[str, Any]]:
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
            assert isinstance(transport, CrashTransport)
            transport.point, transport.thread_id, transport.armed = point, thread_id, True
            try:
                answered = response_of(lambda_handler.handler, event, LambdaContext())
                seen.swallowed = f"statusCode {answered.get('statusCode')}"
            except SimulatedCrash:
                seen.swallowed = None
            finally:
                transport.armed = False
            seen.first_attempt_calls = len(transport.calls)
            if cold:
                lambda_handler.cold_start()
        # Later events of the scenario (a redelivery, say) follow the resumed one.
        responses = [
            response_of(lambda_handler.handler, e, LambdaContext()) for e in scenario.events
        ]
        if thread_id:
            config = {"configurable": {"thread_id": thread_id}}
            state = lambda_handler._get_container().graph.get_state(config)
            seen.values = canonical.plain(state.values)
        # A request whose recorded answers are used up is an agent paid twice: report it
        # here, as a resume problem, rather than let the replay raise on it.
        seen.repeated = [
            f"{err.operation} for agent {_request_agent(err.request)} ({err.reason})"
            for err in transport.unmatched
        ]
        transport.unmatched.clear()
        return responses

    return deliver


def _request_agent(request: dict[str, Any]) -> str | None:
    text = request.get("inputText")
    return text.get("agent") if isinstance(text, dict) else None


# --------------------------------------------------------------------------- matrix


def _with_saver(scenario: Scenario, saver: str) -> Scenario:
    env = dict(scenario.env)
    env[_ENV_FLAG] = "true" if saver == "dynamodb" else "false"
    return scenario.model_copy(update={"env": env})


def _call_agents(result: ReplayResult) -> Counter[str]:
    return Counter(call["agent"] for call in result.bedrock_calls)


def _trail(result: ReplayResult) -> list[list[Any]]:
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
    baseline = replay(scenario, deliver=_deliver(None, True, seen))
    # The trail is read from DynamoDB, so the memory saver takes it from a DynamoDB run.
    trail_source = baseline if saver == "dynamodb" else replay(_with_saver(scenario, "dynamodb"))
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
    baseline: ReplayResult,
    baseline_seen: _Observed,
) -> ResumeCase:
    started = time.monotonic()
    case = ResumeCase(scenario.name, saver, point, expected)
    holder: list[CrashTransport] = []

    def factory(s: Scenario, advance: Callable[[float], None]) -> CrashTransport:
        holder.append(CrashTransport(s, advance))
        return holder[0]

    seen = _Observed()
    resumed = replay(
        scenario, transport_factory=factory, deliver=_deliver(point, saver == "dynamodb", seen)
    )
    transport = holder[0]
    case.crashed = transport.crashed
    case.problems = compare(baseline, baseline_seen, resumed, seen, transport, expected, saver)
    case.seconds = time.monotonic() - started
    return case


def compare(
    baseline: ReplayResult,
    baseline_seen: _Observed,
    resumed: ReplayResult,
    seen: _Observed,
    transport: CrashTransport,
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
    agent_of = {n: _request_agent(i.request) for n, i in enumerate(scenario.interactions)}
    before = Counter(agent_of[c.interaction] for c in transport.calls[: seen.first_attempt_calls])
    after = Counter(agent_of[c.interaction] for c in transport.calls[seen.first_attempt_calls :])
    expected_calls = Counter(agent_of[c["interaction"]] for c in baseline.bedrock_calls)
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


__all__ = [
    "CrashPoint",
    "CrashTransport",
    "ResumeCase",
    "ResumeMatrix",
    "SimulatedCrash",
    "resume_matrix",
]
