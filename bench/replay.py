"""Replay overhead: ``harness.replayer.replay`` against the executor without the harness.

For each executor scenario, in one process, interleaved round by round after a
warm-up round (so a busy machine slows all three alike):

* **replay** -- ``harness.replayer.replay(scenario)`` in a moto batch, as the gate
  runs it: everything a snapshot check pays except the final canonical JSON (timed on
  its own, ``json``).
* **ddb floor** -- the executor's own steps (``opx.lambda_handler.execute``: initial
  state, lease, resume, graph) on its own ``DynamoDBCheckpointer`` on moto, with each
  agent answering the result the replay recorded for it: no Bedrock wire, no frozen
  clock, no harness. A fresh moto and table per run (untimed). This is the floor while
  replays keep the real checkpointer on moto; ``x floor`` is the target ratio.
* **bare graph** -- the same steps on ``InMemorySaver`` (no lease, no DynamoDB):
  ``x bare`` shows what checkpointing on moto costs at all.

The floor and the bare graph build the container the way a cold start does
(settings, pricing, ``build_graph``) and call the handler's own ``execute``, so they
cannot drift from what the executor does; each must end in the replay's final state
(checked once per scenario, a scenario where it cannot -- a configuration error, no
execution -- is listed as not comparable), and every replay's canonical JSON must be
byte-identical to the first.

    python bench/replay.py [--runs 20] [--scenarios scenarios/] [--only NAME ...] [--profile N]

``--profile N`` adds cProfile's top entries (cumulative and own time) over N replays of
each scenario.
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import io
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness import canonical  # noqa: E402
from harness.replayer import BASE_ENV, LambdaContext, environment, replay  # noqa: E402
from harness.scenario import Scenario, discover, load_scenario  # noqa: E402

#: A clock the replay does not freeze (time-machine leaves ``perf_counter`` real; kept
#: in a tuple so no rebinding of module globals could reach it either).
_REAL_CLOCK: tuple[Callable[[], float]] = (time.perf_counter,)
#: The issue's target: a replay costs at most this many times the DynamoDB floor.
TARGET_RATIO = 1.5
FLOOR_TABLE = "bench-floor"


def _now() -> float:
    return _REAL_CLOCK[0]()


class NotComparable(Exception):
    """The executor alone cannot do what the replay did (no execution to compare)."""


# ------------------------------------------------------------------------ floors


class Executor:
    """The executor's own steps for a scenario's events, agents answered from a
    replay's results (see the module docstring)."""

    def __init__(self, scenario: Scenario, final_state: dict[str, Any] | None) -> None:
        from opx.state import STRATEGY_AGENT

        if final_state is None:
            raise NotComparable("the replay stored no execution")
        self.scenario = scenario
        self.env = {**BASE_ENV, **scenario.env}
        self.results: dict[str, Any] = dict(final_state.get("hypotheses", {}))
        if final_state.get("strategy") is not None:
            self.results[STRATEGY_AGENT] = final_state["strategy"]

    def canned_run_agent(self, agent: str, context: Any, **_: Any) -> Any:
        """The recorded result (a fresh copy, as ``run_agent`` builds a new one)."""
        if agent not in self.results:
            raise NotComparable(f"{agent} ran but has no result in the replay's final state")
        return copy.deepcopy(self.results[agent])

    @contextmanager
    def canned_agents(self) -> Iterator[None]:
        with mock.patch("opx.graph.run_agent", self.canned_run_agent):
            yield

    def run(self, checkpointer: Any) -> Any:
        """Every event through the executor's steps; the last execution's state."""
        from opx.config import Settings
        from opx.cost import load_pricing
        from opx.events import EventValidationError, parse_event
        from opx.graph import GraphDeps, build_graph
        from opx.ids import execution_id
        from opx.lambda_handler import Container, execute

        settings = Settings.from_env(self.env)
        deps = GraphDeps(bedrock=None, settings=settings, pricing=load_pricing())
        container = Container(settings, build_graph(deps, checkpointer), checkpointer)
        state = None
        for event in self.scenario.events:
            try:
                incident = parse_event(event)
            except EventValidationError:
                continue
            state = execute(container, event, incident, execution_id(incident), LambdaContext())
        return state

    def bare(self) -> Any:
        from langgraph.checkpoint.memory import InMemorySaver

        with self.canned_agents():
            return self.run(InMemorySaver())

    def floor(self, timed: Callable[[Callable[[], Any]], Any]) -> Any:
        """One run on the executor's checkpointer on a fresh moto; ``timed`` times
        only the executor's part."""
        import boto3

        from harness.replayer import CHECKPOINT_TABLE, moto_state
        from opx.checkpointing import TABLE_SCHEMA, DynamoDBCheckpointer
        from opx.config import Settings

        settings = Settings.from_env(self.env)
        overrides = {**self.scenario.env, "CHECKPOINT_TABLE_NAME": FLOOR_TABLE}
        with environment(overrides), moto_state.fresh(), self.canned_agents():
            client = boto3.client("dynamodb")
            client.create_table(**TABLE_SCHEMA.create_table_request(FLOOR_TABLE))
            saver = DynamoDBCheckpointer(
                FLOOR_TABLE, client=client, ttl_days=settings.checkpoint_ttl_days
            )
            assert CHECKPOINT_TABLE != FLOOR_TABLE  # the replay's table is never touched
            return timed(lambda: self.run(saver))

    def check_same_work(self, final_state: dict[str, Any]) -> None:
        """Both floors must end where the replay ended, or the ratios compare
        different computations (LangGraph's ``join:`` barrier channels aside)."""
        expected = canonical.dumps(_plain_state(final_state))
        if canonical.dumps(_plain_state(self.bare())) != expected:
            raise NotComparable("the bare graph did not reach the replay's final state")
        if canonical.dumps(_plain_state(self.floor(lambda run: run()))) != expected:
            raise NotComparable("the DynamoDB floor did not reach the replay's final state")


def _plain_state(state: Any) -> Any:
    if not isinstance(state, dict):
        return state
    return {k: v for k, v in sorted(state.items()) if not k.startswith(("join:", "branch:"))}


# ----------------------------------------------------------------------- measure


@dataclass
class Measured:
    replay: float
    json: float
    floor: float
    bare: float
    calls: int
    checkpoints: int

    @property
    def x_floor(self) -> float:
        return self.replay / self.floor

    @property
    def x_bare(self) -> float:
        return self.replay / self.bare


def measure(scenario: Scenario, runs: int) -> Measured:
    """Medians of ``runs`` interleaved rounds, in one moto batch -- as the gate
    replays (see :mod:`harness.replayer.moto_state`)."""
    from harness.replayer import moto_state

    with moto_state.batch():
        return _measure(scenario, runs)


def _measure(scenario: Scenario, runs: int) -> Measured:
    first = replay(scenario)
    expected = first.to_canonical_json()
    executor = Executor(scenario, getattr(first, "final_state", None))
    executor.check_same_work(first.final_state)
    samples: dict[str, list[float]] = {"replay": [], "json": [], "floor": [], "bare": []}

    def timed(run: Callable[[], Any]) -> Any:
        started = _now()
        run()
        return _now() - started

    for round_ in range(runs + 1):
        started = _now()
        result = replay(scenario)
        replayed = _now() - started
        started = _now()
        text = result.to_canonical_json()
        jsoned = _now() - started
        if text != expected:
            raise SystemExit(f"{scenario.name}: replay is not byte-identical run to run")
        floored = executor.floor(timed)
        with executor.canned_agents():
            bare = timed(lambda: executor.run(_in_memory()))
        if round_ == 0:
            continue  # warm-up
        for name, value in (("replay", replayed), ("json", jsoned), ("floor", floored)):
            samples[name].append(value)
        samples["bare"].append(bare)
    return Measured(
        **{name: 1000 * statistics.median(values) for name, values in samples.items()},
        calls=len(first.bedrock_calls),
        checkpoints=len(first.checkpoints),
    )


def _in_memory() -> Any:
    from langgraph.checkpoint.memory import InMemorySaver

    return InMemorySaver()


def profile(scenario: Scenario, runs: int, top: int = 25) -> str:
    """cProfile's top entries over ``runs`` warm replays, by cumulative and own time."""
    replay(scenario)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        replay(scenario).to_canonical_json()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    for order in ("cumulative", "tottime"):
        stats.sort_stats(order).print_stats(top)
    return out.getvalue()


# ------------------------------------------------------------------------ report


def executor_scenarios(directory: Path, only: list[str] | None) -> list[Scenario]:
    found = [load_scenario(path) for path in discover(directory)]
    return [s for s in found if s.kind == "executor" and (not only or s.name in only)]


def report(results: dict[str, Measured], skipped: dict[str, str], runs: int) -> list[str]:
    width = max([len(n) for n in [*results, *skipped]] + [len("scenario")])
    lines = [
        f"replay vs the executor alone, median of {runs} warm runs (ms); "
        f"target: replay <= {TARGET_RATIO:g}x ddb floor",
        f"{'scenario':<{width}}  {'replay':>7}  {'json':>5}  {'ddb floor':>9}  {'x floor':>7}"
        f"  {'bare':>6}  {'x bare':>6}  {'calls':>5}  {'ckpts':>5}",
    ]
    for name, m in results.items():
        lines.append(
            f"{name:<{width}}  {m.replay:>7.1f}  {m.json:>5.1f}  {m.floor:>9.1f}  "
            f"{m.x_floor:>6.2f}x  {m.bare:>6.1f}  {m.x_bare:>5.1f}x  {m.calls:>5}  "
            f"{m.checkpoints:>5}"
        )
    for name, reason in skipped.items():
        lines.append(f"{name:<{width}}  not comparable: {reason}")
    if results:
        ratio = statistics.median(m.x_floor for m in results.values())
        verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
        lines.append(
            f"median over {len(results)} scenarios: replay {ratio:.2f}x ddb floor "
            f"(target <= {TARGET_RATIO:g}x: {verdict}), "
            f"{statistics.median(m.x_bare for m in results.values()):.1f}x bare graph"
        )
    return lines


def run(
    directory: Path, runs: int, only: list[str] | None = None
) -> tuple[dict[str, Measured], dict[str, str]]:
    results: dict[str, Measured] = {}
    skipped: dict[str, str] = {}
    for scenario in executor_scenarios(directory, only):
        try:
            results[scenario.name] = measure(scenario, runs)
        except NotComparable as exc:
            skipped[scenario.name] = str(exc)
    return results, skipped


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=_positive, default=20, help="timed runs per scenario")
    parser.add_argument("--scenarios", type=Path, default=ROOT / "scenarios")
    parser.add_argument("--only", nargs="*", help="scenario names to keep")
    parser.add_argument("--profile", type=int, default=0, help="profiled replays per scenario")
    args = parser.parse_args(argv)
    if not args.scenarios.is_dir():
        parser.exit(2, f"bench/replay.py: no scenario directory {args.scenarios}\n")
    results, skipped = run(args.scenarios, args.runs, args.only)
    if not results and not skipped:
        parser.exit(2, "bench/replay.py: no executor scenario matched\n")
    print("\n".join(report(results, skipped, args.runs)))
    if args.profile:
        for scenario in executor_scenarios(args.scenarios, args.only):
            if scenario.name in results:
                print(f"\n== profile of {scenario.name} ({args.profile} replays)")
                print(profile(scenario, args.profile))


if __name__ == "__main__":
    main()
