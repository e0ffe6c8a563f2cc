"""What a live refresh will cost, and the cap that stops it.

Before any live call the refresh prints what re-asking Bedrock will cost -- the
recorded token usage of every live answer to be renewed, priced by the executor's
own table (``opx/data/pricing.json``) -- and refuses to start above the cap. While
running, every Bedrock call is admitted only while the answers recorded so far cost
less than the cap, so a refresh stops at it (within one round of calls already in
flight) instead of finding out from the bill.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from harness.capture.recorder import Exchange
from harness.scenario import EventStreamAnswer, Interaction, Scenario
from harness.wire import INVOKE_AGENT, stream_usage

ZERO = Decimal("0.000000")
#: Interactions whose answers a live refresh asks for again.
LIVE_PROVENANCE = frozenset({"recorded", "kept"})


def answer_cost(answer: object) -> Decimal:
    """What Bedrock billed for one answer (0 for an error or anything but a stream)."""
    from opx.cost import agent_cost, load_pricing

    if not isinstance(answer, EventStreamAnswer):
        return ZERO
    usage, model_id = stream_usage(answer)
    return agent_cost(usage, model_id, load_pricing())


def interactions_cost(interactions: Iterable[Interaction]) -> Decimal:
    return sum(
        (answer_cost(i.response) for i in interactions if (i.service, i.operation) == INVOKE_AGENT),
        ZERO,
    )


def projected_spend(scenario: Scenario) -> Decimal:
    """Re-asking every live (recorded or kept) Bedrock answer of ``scenario`` at the
    token usage it was recorded with."""
    return interactions_cost(i for i in scenario.interactions if i.provenance in LIVE_PROVENANCE)


@dataclass
class SpendMeter:
    """Money spent on live calls across a refresh, against ``cap``."""

    cap: Decimal
    spent: Decimal = ZERO

    def __post_init__(self) -> None:
        self._run: list[Exchange] = []

    def admit(self, service: str, operation: str, exchanges: list[Exchange]) -> str | None:
        """The recorder's admission hook (it passes its own, growing list): refuse a
        Bedrock call once this run's answers and those before it reached the cap."""
        self._run = exchanges
        if (service, operation) != INVOKE_AGENT:
            return None
        running = self.spent + self._cost(exchanges)
        if running >= self.cap:
            return f"the spend cap of {self.cap} USD is reached ({running} USD spent)"
        return None

    def close_run(self) -> Decimal:
        """Book everything the last live run was answered -- kept or not -- and return it."""
        cost = self._cost(self._run)
        self.spent += cost
        self._run = []
        return cost

    @staticmethod
    def _cost(exchanges: Iterable[Exchange]) -> Decimal:
        return sum(
            (answer_cost(x.answer) for x in exchanges if (x.service, x.operation) == INVOKE_AGENT),
            ZERO,
        )


__all__ = [
    "LIVE_PROVENANCE",
    "SpendMeter",
    "answer_cost",
    "interactions_cost",
    "projected_spend",
]
