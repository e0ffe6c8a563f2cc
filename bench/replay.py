"""Replay overhead: ``harness.replayer.replay`` versus the bare executor graph.

For each scenario, in one process:

* **replay** -- ``harness.replayer.replay(scenario)``, warm (one warm-up replay
  first), N runs, median. This is everything a snapshot test pays except the
  final canonical JSON (reported on its own in the breakdown).
* **baseline** -- the same executor graph, ``opx.graph.build_graph(GraphDeps(...),
  InMemorySaver())``, built and invoked directly for every event, with
  ``opx.graph.run_agent`` replaced by a function returning the ``AgentResult`` the
  replay recorded for that agent: no Bedrock, no moto, no frozen clock, no harness.
  The graph is compiled per run because every replay is a cold start; the compile
  time is shown on its own so the invoke-only floor is visible too.
* **ddb floor** -- the baseline again, but on the executor's own
  ``DynamoDBCheckpointer`` on moto (fresh mock and table per run, untimed): what
  DynamoDB checkpointing costs with no harness at all. ``replay / ddb floor`` is the
  harness' own share; ``ddb floor / baseline`` is the checkpointer's.
* **breakdown** -- a separate, instrumented pass: wall time of each step of a
  replay (timers wrapped around the harness' and executor's own functions), so the
  table says where the overhead goes. Steps inside the graph run on several
  threads; those rows are summed over threads and marked so.

The three are interleaved round by round (after one warm-up round), so a busy
machine slows all three alike (it also costs the baseline ~1 ms of cold caches
against running it alone). Every replay's canonical JSON is checked to be
byte-identical to the first.

Scenarios are authored in-process with ``harness.authoring.author`` (a clean
six-agent run, an agent throttled twice, a budget skip), or loaded from a
directory of scenario files with ``--scenarios``.

    python bench/replay.py [--runs 30] [--breakdown-runs 10] [--scenarios scenarios/]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver

from harness.authoring import AgentScript, ExecutorSpec, agent_output, author, unanimous
from harness.replayer import BASE_ENV, replay
from harness.scenario import Fault, Scenario, discover, load_scenario
from opx.state import ALL_AGENTS, STRATEGY_AGENT, AgentResult

#: freezegun replaces ``time.perf_counter`` (and any module global bound to it) while
#: a replay runs; a reference kept inside a tuple is out of its reach.
_REAL_CLOCK: tuple[Callable[[], float]] = (time.perf_counter,)
TARGET_RATIO = 3.0
START = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)


def _now() -> float:
    return _REAL_CLOCK[0]()


# ----------------------------------------------------------------------- scenarios


def _incident(budget_usd: str = "0.50") -> dict[str, Any]:
    """An EventBridge ``IncidentCreated`` event: API Gateway 5xx after a deploy."""
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "IncidentCreated",
        "source": "opx.incident",
        "account": "123456789012",
        "time": "2026-11-29T04:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "incident_id": "INC-2026-0001",
            "service": "checkout-api",
            "severity": "SEV1",
            "title": "API Gateway 5xx spike after deploy",
            "signals": [
                {
                    "alarm_name": "checkout-api-5xx",
                    "metric_name": "5XXError",
                    "namespace": "AWS/ApiGateway",
                    "dimensions": {"ApiName": "checkout-api", "Stage": "prod"},
                    "threshold": 5.0,
                    "observed_value": 42.0,
                    "timestamp": "2026-11-29T03:58:00Z",
                }
            ],
            "evidence_bundle": {
                "deployment": {"id": "d-ABC123", "finished_at": "2026-11-29T03:50:00Z"}
            },
            "budget_usd": budget_usd,
        },
    }


def authored_scenarios() -> list[Scenario]:
    """Three shapes of run: all six agents, a retried agent, the strategy skipped."""
    throttle = Fault(error="ThrottlingException", status=429, message="Rate exceeded")
    expensive = {
        agent: AgentScript(
            output=agent_output(f"{agent}: capacity", [("scale_out", "Add capacity", 0.7)]),
            input_tokens=20000,
        )
        for agent in ALL_AGENTS
        if agent != STRATEGY_AGENT
    }
    return [
        author(
            "executor",
            ExecutorSpec(
                name="clean-six-agents",
                description="Six agents agree on a rollback.",
                events=[_incident()],
                agents=unanimous(),
                clock_start=START,
            ),
        ),
        author(
            "executor",
            ExecutorSpec(
                name="throttled-agent",
                description="signal-intelligence is throttled twice, then answers.",
                events=[_incident()],
                agents=unanimous(
                    **{
                        "signal-intelligence": AgentScript(
                            output=agent_output(
                                "5xx after d-ABC123", [("rollback", "Roll back", 0.8)]
                            ),
                            faults=(throttle, throttle),
                        )
                    }
                ),
                clock_start=START,
            ),
        ),
        author(
            "executor",
            ExecutorSpec(
                name="budget-skip",
                description="The first wave spends the budget; response-strategy is skipped.",
                events=[_incident(budget_usd="0.10")],
                agents=unanimous(**expensive),
                clock_start=START,
            ),
        ),
    ]


def load_directory(directory: Path) -> list[Scenario]:
    return [load_scenario(path) for path in discover(directory)]


# ------------------------------------------------------------------------ baseline


class Baseline:
    """The executor graph alone, answering each agent from the replay's own results."""

    def __init__(self, scenario: Scenario, final_state: dict[str, Any] | None) -> None:
        from opx.config import Settings
        from opx.cost import load_pricing

        env = {**BASE_ENV, **scenario.env, "USE_DYNAMODB_CHECKPOINTING": "false"}
        self.settings = Settings.from_env(env)
        self.pricing = load_pricing()
        self.events = scenario.events
        state = final_state or {}
        self.results: dict[str, AgentResult] = dict(state.get("hypotheses", {}))
        if state.get("strategy") is not None:
            self.results[STRATEGY_AGENT] = state["strategy"]

    def canned_run_agent(self, agent: str, context: Any, **_: Any) -> AgentResult:
        """The recorded result (a fresh copy, as ``run_agent`` builds a new one)."""
        if agent not in self.results:  # the replay stopped before this agent ran
            return AgentResult(
                agent=agent,
                status="FAILURE",
                output=None,
                error={"code": "NOT_RECORDED", "message": "not reached in the replay"},
                usage={"input_tokens": 0, "output_tokens": 0},
                model_id=None,
                attempts=0,
                responses=[],
            )
        return copy.deepcopy(self.results[agent])

    def compile(self, checkpointer: BaseCheckpointSaver) -> Any:
        from opx.graph import GraphDeps, build_graph

        deps = GraphDeps(bedrock=None, settings=self.settings, pricing=self.pricing)
        return build_graph(deps, checkpointer)

    def invoke(self, graph: Any) -> list[Any]:
        """What the handler does with each event, minus response and metrics."""
        from opx.events import EventValidationError, parse_event
        from opx.ids import execution_id

        outputs = []
        for event in self.events:
            try:
                incident = parse_event(event)
            except EventValidationError:
                outputs.append(None)
                continue
            exec_id = execution_id(incident)
            config = {
                "configurable": {"thread_id": exec_id, "incident_id": incident.incident_id},
                "metadata": {"incident_id": incident.incident_id},
            }
            snapshot = graph.get_state(config)
            if snapshot.values and not snapshot.next:
                outputs.append(snapshot.values)
                continue
            budget = incident.budget_usd
            if budget is None:
                budget = self.settings.default_budget_usd
            initial = {
                "execution_id": exec_id,
                "incident": incident.model_dump(mode="json"),
                "budget_usd": str(budget),
            }
            outputs.append(graph.invoke(initial, config))
        return outputs

    def run(self, checkpointer: BaseCheckpointSaver | None = None) -> tuple[float, float]:
        """(compile seconds, invoke seconds) of one cold run."""
        started = _now()
        graph = self.compile(checkpointer if checkpointer is not None else InMemorySaver())
        compiled = _now()
        self.invoke(graph)
        return compiled - started, _now() - compiled

    def check_same_work(self, final_state: dict[str, Any] | None) -> None:
        """The baseline must end where the replay ended, or the ratio compares two
        different computations. (The replay's state comes from the checkpoint, which
        also holds LangGraph's ``join:`` barrier channel.)"""
        from harness import canonical

        with self.canned_agents():
            outputs = [o for o in self.invoke(self.compile(InMemorySaver())) if o is not None]
        reached = outputs[-1] if outputs else None
        recorded = final_state
        if recorded is not None:
            recorded = {k: v for k, v in recorded.items() if not k.startswith("join:")}
        if canonical.dumps(reached) != canonical.dumps(recorded):
            raise SystemExit("the baseline did not reach the replay's final state")

    @contextmanager
    def canned_agents(self) -> Iterator[None]:
        with mock.patch("opx.graph.run_agent", self.canned_run_agent):
            yield


class DynamoDBFloor:
    """The same graph on the executor's own DynamoDB checkpointer, on moto, with no
    harness around it: what DynamoDB checkpointing costs by itself. Each run gets a
    fresh mock and table (untimed), so earlier runs' items never slow its queries;
    one client serves every run."""

    def __init__(self, baseline: Baseline) -> None:
        import boto3

        self.baseline = baseline
        self.client = boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        ).client("dynamodb")

    def run(self) -> float:
        from moto import mock_aws

        from harness.replayer import environment
        from opx.checkpointing import TABLE_SCHEMA, DynamoDBCheckpointer

        with environment({}), mock_aws(), self.baseline.canned_agents():
            self.client.create_table(**TABLE_SCHEMA.create_table_request("bench-floor"))
            compiled, invoked = self.baseline.run(
                DynamoDBCheckpointer("bench-floor", client=self.client)
            )
        return compiled + invoked


# ----------------------------------------------------------------------- breakdown


class Timers:
    """Accumulated wall time per step; thread-safe (graph branches run concurrently).

    ``phase`` names the top-level step running now, so AWS calls are charged to it.
    """

    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)
        self.phase = ""
        self._lock = threading.Lock()

    def add(self, name: str, seconds: float) -> None:
        with self._lock:
            self.totals[name] += seconds

    def wrap(self, name: str, function: Callable[..., Any], phase: bool = False) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if phase:
                self.phase = name
            started = _now()
            try:
                return function(*args, **kwargs)
            finally:
                self.add(name, _now() - started)
                if phase:
                    self.phase = ""

        return timed

    def wrap_cm(self, name: str, factory: Callable[..., Any]) -> Callable[..., Any]:
        """Time a context manager's ``__enter__`` and ``__exit__`` separately."""
        timers = self

        class Timed:
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                self._inner = factory(*args, **kwargs)

            def __enter__(self) -> Any:
                started = _now()
                try:
                    return self._inner.__enter__()
                finally:
                    timers.add(f"{name} enter", _now() - started)

            def __exit__(self, *exc: Any) -> Any:
                started = _now()
                try:
                    return self._inner.__exit__(*exc)
                finally:
                    timers.add(f"{name} exit", _now() - started)

        return Timed


HANDLER = "handler"
COLD_START = "  cold start: settings, clients, graph compile"
CLIENTS = "    botocore client creation"
RUN = "  get_state + graph.invoke"
AGENTS = "    agents (run_agent)*"
BEDROCK = "      InvokeAgent via botocore + transport*"
DYNAMODB = "    DynamoDB calls (moto)*"
HANDLER_OWN = "  handler's own: parse, response, EMF, logs"
READ_BACK = "read_checkpoints"
READ_QUERY = "  DynamoDB Query (moto)"
CREATE_TABLE = "create_table"
OTHER = "other: transport setup, results, output capture"
TOTAL = "replay total"
CANONICAL = "canonical JSON (after the replay)"
#: Print order. * = summed over graph threads, so it can exceed its parent.
_SETUP = (
    "environment enter",
    "environment exit",
    "mock_aws enter",
    "mock_aws exit",
    "freezegun enter",
    "freezegun exit",
)
BREAKDOWN_ROWS: tuple[str, ...] = (
    *_SETUP,
    CREATE_TABLE,
    HANDLER,
    COLD_START,
    CLIENTS,
    RUN,
    AGENTS,
    BEDROCK,
    DYNAMODB,
    HANDLER_OWN,
    READ_BACK,
    READ_QUERY,
    OTHER,
    TOTAL,
    CANONICAL,
)
_TOP_LEVEL = (*_SETUP, CREATE_TABLE, HANDLER, READ_BACK)


@contextmanager
def instrumented(timers: Timers) -> Iterator[None]:
    """Wrap the steps of a replay with timers, by patching the functions it calls."""
    import botocore.client
    import botocore.session
    import freezegun.api

    import harness.replayer as core
    import opx.checkpointing
    import opx.graph
    import opx.lambda_handler

    real_api_call = botocore.client.BaseClient._make_api_call

    def api_call(client: Any, operation: str, params: Any) -> Any:
        service = client.meta.service_model.service_name
        row = None
        if service == "bedrock-agent-runtime":
            row = BEDROCK
        elif service == "dynamodb" and timers.phase == HANDLER:
            row = DYNAMODB
        elif service == "dynamodb" and timers.phase == READ_BACK:
            row = READ_QUERY
        started = _now()
        try:
            return real_api_call(client, operation, params)
        finally:
            if row is not None:
                timers.add(row, _now() - started)

    def timed_method(row: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
            started = _now()
            try:
                return method(self, *args, **kwargs)
            finally:
                timers.add(row, _now() - started)

        return timed

    freezer = freezegun.api._freeze_time
    handler_module = opx.lambda_handler
    patches = [
        mock.patch.object(freezer, "start", timed_method("freezegun enter", freezer.start)),
        mock.patch.object(freezer, "stop", timed_method("freezegun exit", freezer.stop)),
        mock.patch.object(botocore.client.BaseClient, "_make_api_call", api_call),
        mock.patch.object(
            botocore.session.Session,
            "create_client",
            timed_method(CLIENTS, botocore.session.Session.create_client),
        ),
        mock.patch.object(
            handler_module,
            "_get_container",
            timers.wrap(COLD_START, handler_module._get_container),
        ),
        mock.patch.object(handler_module, "_run", timers.wrap(RUN, handler_module._run)),
        mock.patch.object(opx.graph, "run_agent", timers.wrap(AGENTS, opx.graph.run_agent)),
        mock.patch.object(
            handler_module, "handler", timers.wrap(HANDLER, handler_module.handler, phase=True)
        ),
        mock.patch.object(
            core, "read_checkpoints", timers.wrap(READ_BACK, core.read_checkpoints, phase=True)
        ),
    ]
    # The table is created by the executor's helper or, in newer cores, the harness' own.
    if hasattr(core, "_create_checkpoint_table"):
        table = timers.wrap(CREATE_TABLE, core._create_checkpoint_table)
        patches.append(mock.patch.object(core, "_create_checkpoint_table", table))
    else:
        table = timers.wrap(CREATE_TABLE, opx.checkpointing.create_table)
        patches.append(mock.patch.object(opx.checkpointing, "create_table", table))
    for name in ("environment", "mock_aws"):
        patches.append(mock.patch.object(core, name, timers.wrap_cm(name, getattr(core, name))))
    with ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        yield


def breakdown(scenario: Scenario, runs: int) -> dict[str, float]:
    """Per-step medians over ``runs`` instrumented replays (ms). Medians, not means:
    one garbage collection inside a step would otherwise be charged to every run.
    The derived rows are computed per run, then their median taken."""
    timers = Timers()
    per_run: list[dict[str, float]] = []
    with instrumented(timers):
        replay(scenario)  # warm the wrappers too
        for _ in range(runs):
            timers.totals.clear()
            started = _now()
            result = replay(scenario)
            timers.add(TOTAL, _now() - started)
            started = _now()
            result.to_canonical_json()
            timers.add(CANONICAL, _now() - started)
            rows = defaultdict(float, {k: 1000 * v for k, v in timers.totals.items()})
            rows[HANDLER_OWN] = rows[HANDLER] - rows[COLD_START] - rows[RUN]
            rows[OTHER] = rows[TOTAL] - sum(rows[name] for name in _TOP_LEVEL)
            per_run.append(rows)
    return {row: statistics.median(run[row] for run in per_run) for row in BREAKDOWN_ROWS}


# ---------------------------------------------------------------------------- main


def median_ms(samples: list[float]) -> float:
    return 1000 * statistics.median(samples)


def measure(scenario: Scenario, runs: int) -> dict[str, Any]:
    """Replay, baseline and floor runs interleaved, so a busy machine slows all three
    alike; the first round is the warm-up."""
    first = replay(scenario)  # the canned agent results for the baseline
    expected = first.to_canonical_json()
    baseline = Baseline(scenario, first.final_state)
    baseline.check_same_work(first.final_state)
    floor = DynamoDBFloor(baseline)
    samples: dict[str, list[float]] = defaultdict(list)
    for round_ in range(runs + 1):
        started = _now()
        result = replay(scenario)
        replayed = _now() - started
        with baseline.canned_agents():
            compiled, invoked = baseline.run()
        floored = floor.run()
        if result.to_canonical_json() != expected:
            raise SystemExit(f"{scenario.name}: replay is not byte-identical run to run")
        if round_ == 0:
            continue
        samples["replay"].append(replayed)
        samples["compile"].append(compiled)
        samples["invoke"].append(invoked)
        samples["baseline"].append(compiled + invoked)
        samples["ddb_floor"].append(floored)
    return {
        **{name: median_ms(values) for name, values in samples.items()},
        "calls": len(first.bedrock_calls),
        "checkpoints": len(first.checkpoints),
    }


def print_report(
    results: dict[str, dict[str, Any]], breakdowns: dict[str, dict[str, float]]
) -> None:
    names = list(results)
    width = max(len(n) for n in [*names, "scenario"])
    print(
        f"{'scenario':<{width}}  {'replay':>7}  {'baseline':>8} {'(compile':>8} {'+ invoke)':>9}"
        f"  {'x base':>6}  {'ddb floor':>9}  {'x floor':>7}  {'calls':>5}  {'ckpts':>5}"
    )
    met = 0
    for name in names:
        r = results[name]
        ratio = r["replay"] / r["baseline"]
        met += ratio <= TARGET_RATIO
        flag = "ok" if ratio <= TARGET_RATIO else f"> {TARGET_RATIO:g}x"
        print(
            f"{name:<{width}}  {r['replay']:>7.1f}  {r['baseline']:>8.1f} {r['compile']:>8.1f} "
            f"{r['invoke']:>9.1f}  {ratio:>5.1f}x  {r['ddb_floor']:>9.1f}  "
            f"{r['replay'] / r['ddb_floor']:>6.1f}x  {r['calls']:>5}  {r['checkpoints']:>5}  {flag}"
        )
    print(f"target <= {TARGET_RATIO:g}x met by {met} of {len(names)} scenarios")
    print("ms, medians. x base = replay / baseline (the target). ddb floor = the baseline on")
    print("the executor's DynamoDB checkpointer on moto, no harness; x floor = replay / ddb floor.")
    if not breakdowns:
        return
    print()
    print("where a replay's time goes (ms per replay, median of the instrumented runs;")
    print("* = summed over graph threads, so it can exceed its parent's wall time)")
    label = max(len(row) for row in BREAKDOWN_ROWS)
    print(f"{'step':<{label}}  " + "  ".join(f"{n[:16]:>16}" for n in breakdowns))
    for row in BREAKDOWN_ROWS:
        cells = "  ".join(f"{breakdowns[n].get(row, 0.0):>16.2f}" for n in breakdowns)
        print(f"{row:<{label}}  {cells}")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=_positive, default=30, help="timed runs per scenario")
    parser.add_argument(
        "--breakdown-runs", type=int, default=10, help="instrumented runs (0: no breakdown)"
    )
    parser.add_argument("--scenarios", type=Path, help="a directory of scenario files")
    parser.add_argument("--only", nargs="*", help="scenario names to keep")
    args = parser.parse_args(argv)

    scenarios = load_directory(args.scenarios) if args.scenarios else authored_scenarios()
    if args.only:
        scenarios = [s for s in scenarios if s.name in args.only]
    results = {s.name: measure(s, args.runs) for s in scenarios}
    breakdowns = (
        {s.name: breakdown(s, args.breakdown_runs) for s in scenarios}
        if args.breakdown_runs > 0
        else {}
    )
    print(
        f"replay vs bare graph, median of {args.runs} warm runs; target ratio <= {TARGET_RATIO:g}x"
    )
    print_report(results, breakdowns)


if __name__ == "__main__":
    main()
