"""The cost check: every bill equals an exact recomputation, in every run and the snapshot.

Per-agent and total cost in every response must equal a sum recomputed here from
every Bedrock call the transport answered -- each attempt of each agent called,
whatever the response lists -- from their traces' tokens and ``opx/data/pricing.json``
with ``fractions.Fraction``
(deliberately not ``opx.cost``: a shared bug would agree with itself), be identical
across runs, and equal the approved snapshot to the last digit.

A bill that disagrees with the recomputation, or with the snapshot, is a behaviour
change (drift); one that differs between runs is nondeterminism.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from fractions import Fraction
from importlib import resources
from typing import Any, ClassVar

from harness.checks.base import Check, CheckContext, not_applicable
from harness.checks.divergence import first_difference
from harness.checks.outcome import Outcome, Status
from harness.kinds.executor import ExecutorResult, replay_executor
from harness.scenario import Scenario

_CROSS_REGION_PREFIXES = ("us", "us-gov", "eu", "apac", "jp", "au", "ca", "global")
_MILLIONTH = Fraction(1, 10**6)


def load_price_table() -> dict[str, tuple[Fraction, Fraction]]:
    """``model id -> (input, output) USD per 1k tokens`` as exact fractions."""
    text = resources.files("opx").joinpath("data/pricing.json").read_text(encoding="utf-8")
    models = json.loads(text)["models"]
    return {
        model.lower(): (Fraction(rate["input_per_1k"]), Fraction(rate["output_per_1k"]))
        for model, rate in models.items()
    }


def base_model(model_id: str) -> str:
    """Strip ARN and cross-region profile prefixes (``us.anthropic...``)."""
    text = model_id.strip().lower()
    if text.startswith("arn:") and "/" in text:
        text = text.split("/", 1)[1]
    head, _, rest = text.partition(".")
    return rest if head in _CROSS_REGION_PREFIXES and "." in rest else text


def round_half_even_6(value: Fraction) -> Fraction:
    """Round to a millionth, ties to even -- by integer arithmetic, no Decimal."""
    scaled = value / _MILLIONTH
    floor = scaled.numerator // scaled.denominator
    remainder = scaled - floor
    if remainder > Fraction(1, 2) or (remainder == Fraction(1, 2) and floor % 2):
        floor += 1
    return floor * _MILLIONTH


def usd(value: Fraction) -> str:
    """A non-negative amount rounded to 6 places, as the executor prints it."""
    micros = round_half_even_6(value) / _MILLIONTH
    whole, fraction = divmod(int(micros), 10**6)
    return f"{whole}.{fraction:06d}"


def expected_costs(
    bedrock_calls: list[dict[str, Any]],
    agents: Sequence[str],
    prices: dict[str, tuple[Fraction, Fraction]] | None = None,
) -> dict[str, Any]:
    """Per-agent and total cost from the calls Bedrock answered.

    Tokens are summed per agent over every attempt (a stream that broke after the
    model ran was billed); the agent is priced at the model its answers reported (the
    most expensive listed rate when unlisted or unreported with tokens spent), rounded
    once per agent; the total is the sum of the rounded amounts.
    """
    table = prices if prices is not None else load_price_table()
    fallback = (max(r[0] for r in table.values()), max(r[1] for r in table.values()))
    per_agent: dict[str, str] = {}
    total = Fraction(0)
    for agent in sorted(agents):
        calls = [c for c in bedrock_calls if c["agent"] == agent]
        tokens_in = sum(c["input_tokens"] for c in calls)
        tokens_out = sum(c["output_tokens"] for c in calls)
        models = [c["model_id"] for c in calls if c["model_id"]]
        rate = table.get(base_model(models[-1]), fallback) if models else fallback
        exact = (tokens_in * rate[0] + tokens_out * rate[1]) / 1000
        rounded = round_half_even_6(exact)
        per_agent[agent] = usd(rounded)
        total += rounded
    return {"per_agent": per_agent, "total_usd": usd(total)}


def _response_costs(canonical: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    out = []
    for index, response in enumerate(canonical["responses"]):
        body = response.get("body")
        if isinstance(body, dict) and isinstance(body.get("cost"), dict):
            out.append((index, body["cost"]))
    return out


def _cost_difference(
    expected: list[tuple[int, dict[str, Any]]], actual: list[tuple[int, dict[str, Any]]]
) -> str | None:
    """The first differing path between two runs' response costs, as result paths."""
    if [i for i, _ in expected] != [i for i, _ in actual]:
        return "$.responses"
    for (index, left), (_, right) in zip(expected, actual, strict=True):
        path = first_difference(left, right, f"$.responses[{index}].body.cost")
        if path:
            return path
    return None


def check_cost(
    scenario: Scenario,
    *,
    snapshot: dict[str, Any] | None,
    results: Sequence[ExecutorResult] = (),
) -> Outcome:
    """Cost in every response equals the independent recomputation, is identical across
    ``results`` (other runs of the same scenario) and equals ``snapshot``'s."""
    skipped = not_applicable("cost", scenario)
    if skipped is not None:
        return skipped
    started = time.perf_counter()
    runs = list(results) or [replay_executor(scenario)]
    first = runs[0].canonical()
    costs = _response_costs(first)
    calls = first["bedrock_calls"]
    prices = load_price_table()

    def fail(message: str, path: str | None, status: Status = Status.DRIFT) -> Outcome:
        return Outcome(
            status,
            f"cost failed for scenario {scenario.name}: {message}",
            path=path,
            seconds=time.perf_counter() - started,
        )

    for call_index, call in enumerate(calls):
        single = expected_costs([call], [call["agent"]], prices)["total_usd"]
        if call["cost_usd"] != single:
            return fail(
                f"Bedrock call {call_index} ({call['agent']}) is billed {call['cost_usd']} but "
                f"its tokens and the price table give {single}.",
                f"$.bedrock_calls[{call_index}].cost_usd",
            )
    # The spend is what the transport answered -- every agent it answered, every
    # attempt -- never what the response chooses to list.
    called = sorted({c["agent"] for c in calls if c["agent"] is not None})
    expected = expected_costs(calls, called, prices)
    for index, cost in costs:
        listed = cost.get("per_agent", {})
        for agent in called:
            if agent not in listed:
                return fail(
                    f"response {index} drops {agent}'s spend: it has no cost for {agent}, "
                    f"whose Bedrock calls cost {expected['per_agent'][agent]} USD.",
                    f"$.responses[{index}].body.cost.per_agent",
                )
        for agent, amount in sorted(listed.items()):
            want = expected["per_agent"].get(agent, "0.000000")
            if amount != want:
                return fail(
                    f"response {index} bills {agent} {amount} USD but its Bedrock calls' tokens "
                    f"and the price table give {want} USD.",
                    f"$.responses[{index}].body.cost.per_agent.{agent}",
                )
        if cost.get("total_usd") != expected["total_usd"]:
            return fail(
                f"response {index} totals {cost.get('total_usd')} USD but every Bedrock call "
                f"the transport answered ({len(calls)}, {len(called)} agents) costs "
                f"{expected['total_usd']} USD.",
                f"$.responses[{index}].body.cost.total_usd",
            )
    for number, other in enumerate(runs[1:], start=2):
        path = _cost_difference(costs, _response_costs(other.canonical()))
        if path:
            return fail(
                f"run #{number} reports a different cost than run #1 (at {path}).",
                path,
                Status.NONDETERMINISTIC,
            )
    if snapshot is not None:
        path = _cost_difference(_response_costs(snapshot), costs)
        if path:
            return fail(f"the cost differs from the approved snapshot (at {path}).", path)
    total = ", ".join(c.get("total_usd", "?") for _, c in costs) or "no cost reported"
    return Outcome(
        Status.PASSED,
        f"cost of {scenario.name} ({total} USD) equals the exact recomputation from "
        f"{len(calls)} Bedrock calls and the price table, across {len(runs)} run(s)"
        + (" and the snapshot." if snapshot is not None else "."),
        seconds=time.perf_counter() - started,
        details={"runs": len(runs)},
    )


class CostCheck(Check):
    name: ClassVar[str] = "cost"
    determinism: ClassVar[bool] = False

    def run(self, context: CheckContext) -> Outcome:
        try:
            approved = json.loads(context.snapshot.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            approved = None  # the snapshot check reports a missing or broken snapshot
        first = context.first
        runs = [first] if isinstance(first, ExecutorResult) else []
        return check_cost(context.scenario, snapshot=approved, results=runs)


__all__ = ["CostCheck", "base_model", "check_cost", "expected_costs", "load_price_table", "usd"]
