"""The order check: the five parallel agents forced to finish in given orders give
the unforced replay's bytes (:mod:`harness.checks.ordering` forces the order)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import ClassVar

from harness.checks.base import Check, CheckContext, not_applicable
from harness.checks.compare import differs
from harness.checks.ordering import CompletionOrder, OrderingStall
from harness.checks.outcome import Outcome, Status
from harness.replayer import Replayer, ReplayResult, replay
from harness.scenario import Scenario
from harness.wire import TransportLayer
from opx.state import PARALLEL_AGENTS


def fixed_orders() -> list[tuple[str, ...]]:
    """Orders every run tries: as declared, reversed, and a rotation."""
    agents = tuple(PARALLEL_AGENTS)
    return [agents, agents[::-1], agents[2:] + agents[:2]]


def replay_in_order(
    scenario: Scenario, order: Sequence[str], calls: Mapping[str, int] | None = None
) -> tuple[ReplayResult, list[str]]:
    """One replay with the first wave released in ``order``; also the order observed.
    ``calls``: how many times the unforced replay called each agent (see
    :class:`~harness.checks.ordering.CompletionOrder`)."""
    layers: list[CompletionOrder] = []

    def layer(inner: TransportLayer) -> CompletionOrder:
        layers.append(CompletionOrder(inner, order, calls))
        return layers[-1]

    result = Replayer(layers=[layer]).run(scenario)
    return result, list(layers[0].release_log)


def check_completion_order(
    scenario: Scenario,
    orders: Sequence[Sequence[str]],
    *,
    baseline: ReplayResult | None = None,
) -> Outcome:
    """Every forced completion order gives the unforced replay's bytes."""
    skipped = not_applicable("order", scenario)
    if skipped is not None:
        return skipped
    started = time.perf_counter()
    base = baseline if baseline is not None else replay(scenario)
    reference = base.to_compact_json()
    calls = Counter(call["agent"] for call in base.canonical().get("bedrock_calls", []))
    if sum(1 for agent in PARALLEL_AGENTS if calls[agent]) < 2:
        # Nothing to reorder: fewer than two first-wave agents were called at all.
        return Outcome(
            Status.SKIPPED,
            f"order: {scenario.name} calls fewer than two first-wave agents, so there is "
            "no completion order to force",
            seconds=time.perf_counter() - started,
        )
    tried: list[list[str]] = []
    for order in orders:
        result, released = replay_in_order(scenario, order, calls)
        # Agents the executor never called are absent; the rest must follow ``order``.
        if released != [a for a in order if a in released]:
            raise AssertionError(f"agents released as {released}, not in order {list(order)}")
        tried.append(list(order))
        if result.to_compact_json() != reference:
            return differs(
                "order",
                scenario.name,
                f"with the parallel agents finishing in the order {', '.join(order)} the "
                "result differs from the unforced replay",
                "unforced",
                base,
                "reordered",
                result,
                started,
                {"orders": tried, "failed_order": list(order)},
            )
    return Outcome(
        Status.PASSED,
        f"{len(tried)} completion orders of the parallel agents of {scenario.name} all gave "
        "the unforced replay's bytes.",
        seconds=time.perf_counter() - started,
        details={"orders": tried},
    )


class OrderCheck(Check):
    name: ClassVar[str] = "order"

    def run(self, context: CheckContext) -> Outcome:
        try:
            return check_completion_order(context.scenario, fixed_orders(), baseline=context.first)
        except OrderingStall as exc:
            return Outcome(Status.ERROR, f"order could not force a completion order: {exc}")


__all__ = ["OrderCheck", "check_completion_order", "fixed_orders", "replay_in_order"]
