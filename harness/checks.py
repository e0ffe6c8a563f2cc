"""Determinism checks: a snapshot match proves one run equals one stored run; these
prove the same input *always* gives the same output.

* :func:`check_repeat` -- N replays in one process, byte-identical canonical JSON;
* :func:`check_cross_process` -- ``python -m harness replay --json`` under different
  ``PYTHONHASHSEED`` values (set and dict-order leaks), equal to the in-process bytes;
* :func:`check_completion_order` -- the five parallel agents forced to finish in given
  orders (:mod:`harness.ordering`), identical bytes;
* :func:`check_cost` -- per-agent and total cost in every response equal a sum
  recomputed here from the Bedrock calls' tokens and ``opx/data/pricing.json`` with
  ``fractions.Fraction`` (deliberately not ``opx.cost``: a shared bug would agree
  with itself), and equal the snapshot to the last digit.

Each returns a :class:`CheckResult`: pass/fail plus one readable paragraph naming the
first differing JSON path, so a failing test says *where* before anyone opens a diff.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any

from harness.divergence import compare, first_difference
from harness.ordering import OrderedTransport
from harness.replayer import ReplayResult, replay
from harness.scenario import Scenario, load_scenario
from opx.state import PARALLEL_AGENTS

DEFAULT_SEEDS = ("0", "1", "4242")
#: Real seconds one ``python -m harness replay`` subprocess may take.
SUBPROCESS_TIMEOUT_S = 120.0
_CROSS_REGION_PREFIXES = ("us", "us-gov", "eu", "apac", "jp", "au", "ca", "global")
_MILLIONTH = Fraction(1, 10**6)
#: Section order for the path a failure names first (see :func:`_differs`).
_READABLE_FIRST = ("responses", "final_state", "bedrock_calls", "metrics", "clock", "checkpoints")


@dataclass(frozen=True)
class CheckResult:
    check: str
    scenario: str
    passed: bool
    #: One paragraph for people: what ran, and where the first difference is.
    reason: str
    #: First differing JSON path, when the check failed on a comparison.
    path: str | None = None
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)
    #: False when the check has nothing to prove for this kind of scenario (see
    #: :func:`not_applicable`); such a result passes, and callers report it skipped.
    applicable: bool = True

    def __bool__(self) -> bool:
        return self.passed


#: Checks about the executor's own machinery -- its five parallel agents, Bedrock
#: cost, checkpoints to resume from -- by the scenario kinds they apply to.
APPLIES_TO = {
    "completion-order": frozenset({"executor"}),
    "cost": frozenset({"executor"}),
    "resume": frozenset({"executor"}),
}


def not_applicable(check: str, scenario: Scenario) -> CheckResult | None:
    """The explicit "nothing to prove here" result of ``check`` for ``scenario``, or
    ``None`` when the check applies (an action group has no parallel agents, no
    Bedrock bill and no checkpoints, so those checks must say so, not pass blindly)."""
    if scenario.kind in APPLIES_TO.get(check, frozenset({scenario.kind})):
        return None
    return CheckResult(
        check,
        scenario.name,
        True,
        f"{check} does not apply to {scenario.kind} scenario {scenario.name}: it checks the "
        "executor (parallel agents, Bedrock cost, checkpoints).",
        applicable=False,
    )


def _first_path(expected: dict[str, Any], actual: dict[str, Any]) -> str:
    """The first differing path; ``$`` when the bytes differ but the values do not
    (a canonicalization bug, which is itself worth a failure)."""
    return first_difference(expected, actual) or "$"


def _excerpt(value: dict[str, Any], path: str) -> str:
    """The value at a ``$.a.b[3]`` path, short, for the reason paragraph."""
    current: Any = value
    for part in path.replace("[", ".[").split(".")[1:]:
        try:
            current = current[int(part[1:-1])] if part.startswith("[") else current[part]
        except (KeyError, IndexError, TypeError, ValueError):
            return "<absent>"
    text = json.dumps(current, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= 160 else text[:157] + "..."


def _differs(
    check: str,
    scenario: str,
    what: str,
    expected_label: str,
    expected: dict[str, Any],
    actual_label: str,
    actual: dict[str, Any],
    started: float,
    details: dict[str, Any],
) -> CheckResult:
    divergence = compare(expected, actual, expected_label=expected_label, actual_label=actual_label)
    sections = divergence.sections if divergence is not None else {}
    # Values people read first; checkpoint digests only say *that* a state differs.
    path = next(
        (sections[name] for name in _READABLE_FIRST if name in sections),
        _first_path(expected, actual),
    )
    reason = (
        f"{check} failed for scenario {scenario}: {what}. The canonical results differ first "
        f"at {path}: {expected_label} has {_excerpt(expected, path)}, {actual_label} has "
        f"{_excerpt(actual, path)}."
    )
    if divergence is not None:
        if divergence.checkpoint is not None:
            cp = divergence.checkpoint
            writers = ", ".join(cp.writers) or "the input"
            reason += f" The first divergent checkpoint is #{cp.ordinal} (step {cp.step}), "
            reason += f"written by {writers}."
            details = {**details, "writers": cp.writers, "checkpoint": cp.ordinal}
        where = "; ".join(f"{name} at {at}" for name, at in sections.items())
        reason += f" Differing sections: {where}."
        details = {**details, "sections": sections}
    return CheckResult(check, scenario, False, reason, path, time.perf_counter() - started, details)


# --------------------------------------------------------------------------- repeat


def check_repeat(
    scenario: Scenario,
    runs: int = 3,
    *,
    replay_fn: Callable[[Scenario], ReplayResult] = replay,
) -> CheckResult:
    """``runs`` replays in this process, each with fresh moto state and a cold start."""
    started = time.perf_counter()
    first = replay_fn(scenario)
    baseline = first.to_canonical_json()
    for run in range(1, runs):
        again = replay_fn(scenario)
        if again.to_canonical_json() != baseline:
            return _differs(
                "repeat",
                scenario.name,
                f"replay #{run + 1} of {runs} in one process differs from replay #1",
                "run #1",
                first.canonical(),
                f"run #{run + 1}",
                again.canonical(),
                started,
                {"runs": runs, "failed_run": run + 1},
            )
    return CheckResult(
        "repeat",
        scenario.name,
        True,
        f"{runs} replays of {scenario.name} in one process gave byte-identical canonical JSON.",
        seconds=time.perf_counter() - started,
        details={"runs": runs},
    )


# --------------------------------------------------------------------------- cross-process


def _command(path: Path, prelude: str) -> list[str]:
    """The CLI as a user runs it; with ``prelude``, the same CLI after running that
    code first (how self-tests plant a fault in a fresh interpreter)."""
    arguments = ["replay", str(path), "--json"]
    if not prelude:
        return [sys.executable, "-m", "harness", *arguments]
    script = f"{prelude}\nfrom harness.cli import main\nraise SystemExit(main({arguments!r}))\n"
    return [sys.executable, "-c", script]


def replay_in_subprocesses(
    path: Path, seeds: Sequence[str], *, cwd: Path | None = None, prelude: str = ""
) -> dict[str, bytes]:
    """``python -m harness replay PATH --json`` once per ``PYTHONHASHSEED``, run
    concurrently (each is ~2 s of interpreter start and imports); stdout by seed."""
    running = {
        seed: subprocess.Popen(  # noqa: S603 -- argv built here: this interpreter, our CLI
            _command(path, prelude),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=cwd,
        )
        for seed in seeds
    }
    outputs: dict[str, bytes] = {}
    failures: list[str] = []
    for seed, process in running.items():
        try:
            stdout, stderr = process.communicate(timeout=SUBPROCESS_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
            failures.append(f"PYTHONHASHSEED={seed}: timed out after {SUBPROCESS_TIMEOUT_S:.0f}s")
            continue
        if process.returncode != 0:
            failures.append(
                f"PYTHONHASHSEED={seed}: exited {process.returncode}: "
                f"{stderr.decode('utf-8', 'replace').strip()}"
            )
        outputs[seed] = stdout
    if failures:
        raise RuntimeError(f"replay of {path} in a subprocess failed: " + "; ".join(failures))
    return outputs


def check_cross_process(
    path: Path,
    seeds: Sequence[str] = DEFAULT_SEEDS,
    *,
    in_process: str | None = None,
    cwd: Path | None = None,
    prelude: str = "",
    outputs: dict[str, bytes] | None = None,
) -> CheckResult:
    """Fresh interpreters with different hash seeds agree with each other and with
    ``in_process`` (this process's canonical JSON; replayed here when not given).

    ``outputs`` (stdout by seed) skips launching the subprocesses -- for a caller that
    already ran them, e.g. via :func:`corpus_in_subprocesses`.
    """
    started = time.perf_counter()
    scenario = load_scenario(path)
    local = in_process if in_process is not None else replay(scenario).to_canonical_json()
    if outputs is None:
        outputs = replay_in_subprocesses(path, seeds, cwd=cwd, prelude=prelude)
    reference = local.encode("utf-8")
    for seed, output in outputs.items():
        if output != reference:
            return _differs(
                "cross-process",
                scenario.name,
                f"the subprocess with PYTHONHASHSEED={seed} differs from the in-process replay",
                "in-process",
                json.loads(reference),
                f"PYTHONHASHSEED={seed}",
                json.loads(output),
                started,
                {"seeds": list(outputs), "failed_seed": seed},
            )
    return CheckResult(
        "cross-process",
        scenario.name,
        True,
        f"replays of {scenario.name} under PYTHONHASHSEED={', '.join(outputs)} in separate "
        "processes were byte-identical to the in-process replay.",
        seconds=time.perf_counter() - started,
        details={"seeds": list(outputs)},
    )


_CORPUS_SCRIPT = """
import json, sys
from harness.replayer import replay
from harness.scenario import load_scenario
out = {p: replay(load_scenario(p)).to_canonical_json() for p in sys.argv[1:]}
sys.stdout.buffer.write(json.dumps(out).encode("utf-8"))
"""


def corpus_in_subprocesses(
    paths: Sequence[Path], seeds: Sequence[str] = DEFAULT_SEEDS, *, cwd: Path | None = None
) -> dict[str, dict[str, bytes]]:
    """Every scenario replayed in one fresh interpreter per seed (concurrently).

    What the CLI's ``--json`` prints is exactly ``to_canonical_json()``; one
    interpreter per seed rather than per scenario keeps the corpus check to a few
    seconds instead of ~2 s of start-up per scenario and seed. Result:
    ``{str(path): {seed: bytes}}``.
    """
    running = {
        seed: subprocess.Popen(  # noqa: S603 -- argv built here: this interpreter, our code
            [sys.executable, "-c", _CORPUS_SCRIPT, *map(str, paths)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=cwd,
        )
        for seed in seeds
    }
    by_path: dict[str, dict[str, bytes]] = {str(p): {} for p in paths}
    for seed, process in running.items():
        try:
            stdout, stderr = process.communicate(timeout=SUBPROCESS_TIMEOUT_S * 4)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise RuntimeError(f"corpus replay with PYTHONHASHSEED={seed} timed out") from None
        if process.returncode != 0:
            raise RuntimeError(
                f"corpus replay with PYTHONHASHSEED={seed} exited {process.returncode}: "
                f"{stderr.decode('utf-8', 'replace').strip()[-2000:]}"
            )
        for path, text in json.loads(stdout).items():
            by_path[path][seed] = text.encode("utf-8")
    return by_path


# --------------------------------------------------------------------------- completion order


def fixed_orders() -> list[tuple[str, ...]]:
    """Orders every run tries: as declared, reversed, and a rotation."""
    agents = tuple(PARALLEL_AGENTS)
    return [agents, agents[::-1], agents[2:] + agents[:2]]


def replay_in_order(scenario: Scenario, order: Sequence[str]) -> tuple[ReplayResult, list[str]]:
    """One replay with the first wave released in ``order``; also the order observed."""
    transports: list[OrderedTransport] = []

    def factory(s: Scenario, advance: Callable[[float], None]) -> OrderedTransport:
        transport = OrderedTransport(s, advance, order=tuple(order))
        transports.append(transport)
        return transport

    result = replay(scenario, transport_factory=factory)
    return result, list(transports[0].release_log)


def check_completion_order(
    scenario: Scenario,
    orders: Sequence[Sequence[str]],
    *,
    baseline: ReplayResult | None = None,
) -> CheckResult:
    """Every forced completion order gives the unforced replay's bytes."""
    skipped = not_applicable("completion-order", scenario)
    if skipped is not None:
        return skipped
    started = time.perf_counter()
    base = baseline if baseline is not None else replay(scenario)
    reference = base.to_canonical_json()
    tried: list[list[str]] = []
    for order in orders:
        result, released = replay_in_order(scenario, order)
        # Agents the executor never called are absent; the rest must follow ``order``.
        if released != [a for a in order if a in released]:
            raise AssertionError(f"agents released as {released}, not in order {list(order)}")
        tried.append(list(order))
        if result.to_canonical_json() != reference:
            return _differs(
                "completion-order",
                scenario.name,
                f"with the parallel agents finishing in the order {', '.join(order)} the "
                "result differs from the unforced replay",
                "unforced",
                base.canonical(),
                "reordered",
                result.canonical(),
                started,
                {"orders": tried, "failed_order": list(order)},
            )
    return CheckResult(
        "completion-order",
        scenario.name,
        True,
        f"{len(tried)} completion orders of the parallel agents of {scenario.name} all gave "
        "the unforced replay's bytes.",
        seconds=time.perf_counter() - started,
        details={"orders": tried},
    )


# --------------------------------------------------------------------------- cost


def load_price_table() -> dict[str, tuple[Fraction, Fraction]]:
    """``model id -> (input, output) USD per 1k tokens`` as exact fractions."""
    text = resources.files("opx").joinpath("data/pricing.json").read_text(encoding="utf-8")
    models = json.loads(text)["models"]
    return {
        model.lower(): (Fraction(rate["input_per_1k"]), Fraction(rate["output_per_1k"]))
        for model, rate in models.items()
    }


def _base_model(model_id: str) -> str:
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

    Tokens are summed per agent; the agent is priced at the model its answers
    reported (the most expensive listed rate when unlisted or unreported with tokens
    spent), rounded once per agent; the total is the sum of the rounded amounts.
    """
    table = prices if prices is not None else load_price_table()
    fallback = (max(r[0] for r in table.values()), max(r[1] for r in table.values()))
    per_agent: dict[str, str] = {}
    total = Fraction(0)
    for agent in sorted(agents):
        calls = [c for c in bedrock_calls if c["agent"] == agent and c["outcome"] == "answer"]
        tokens_in = sum(c["input_tokens"] for c in calls)
        tokens_out = sum(c["output_tokens"] for c in calls)
        models = [c["model_id"] for c in calls if c["model_id"]]
        rate = table.get(_base_model(models[-1]), fallback) if models else fallback
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
    results: Sequence[ReplayResult] = (),
) -> CheckResult:
    """Cost in every response equals the independent recomputation, is identical across
    ``results`` (other runs of the same scenario) and equals ``snapshot``'s."""
    skipped = not_applicable("cost", scenario)
    if skipped is not None:
        return skipped
    started = time.perf_counter()
    runs = list(results) or [replay(scenario)]
    first = runs[0].canonical()
    costs = _response_costs(first)
    calls = first["bedrock_calls"]
    prices = load_price_table()

    def fail(message: str, path: str | None) -> CheckResult:
        return CheckResult(
            "cost",
            scenario.name,
            False,
            f"cost failed for scenario {scenario.name}: {message}",
            path,
            time.perf_counter() - started,
        )

    for call_index, call in enumerate(calls):
        if call["outcome"] != "answer":
            continue
        single = expected_costs([call], [call["agent"]], prices)["total_usd"]
        if call["cost_usd"] != single:
            return fail(
                f"Bedrock call {call_index} ({call['agent']}) is billed {call['cost_usd']} but "
                f"its tokens and the price table give {single}.",
                f"$.bedrock_calls[{call_index}].cost_usd",
            )
    for index, cost in costs:
        expected = expected_costs(calls, sorted(cost.get("per_agent", {})), prices)
        for agent, amount in sorted(cost.get("per_agent", {}).items()):
            if amount != expected["per_agent"][agent]:
                return fail(
                    f"response {index} bills {agent} {amount} USD but its Bedrock calls' tokens "
                    f"and the price table give {expected['per_agent'][agent]} USD.",
                    f"$.responses[{index}].body.cost.per_agent.{agent}",
                )
        if cost.get("total_usd") != expected["total_usd"]:
            return fail(
                f"response {index} totals {cost.get('total_usd')} USD but the per-agent amounts "
                f"recomputed from the calls add up to {expected['total_usd']} USD.",
                f"$.responses[{index}].body.cost.total_usd",
            )
        missing = sorted(set(PARALLEL_AGENTS) - set(cost.get("per_agent", {})))
        if missing:
            return fail(
                f"response {index} has no cost for {', '.join(missing)}.",
                f"$.responses[{index}].body.cost.per_agent",
            )
    for number, other in enumerate(runs[1:], start=2):
        path = _cost_difference(costs, _response_costs(other.canonical()))
        if path:
            return fail(f"run #{number} reports a different cost than run #1 (at {path}).", path)
    if snapshot is not None:
        path = _cost_difference(_response_costs(snapshot), costs)
        if path:
            return fail(f"the cost differs from the approved snapshot (at {path}).", path)
    total = ", ".join(c.get("total_usd", "?") for _, c in costs) or "no cost reported"
    return CheckResult(
        "cost",
        scenario.name,
        True,
        f"cost of {scenario.name} ({total} USD) equals the exact recomputation from "
        f"{len(calls)} Bedrock calls and the price table, across {len(runs)} run(s)"
        + (" and the snapshot." if snapshot is not None else "."),
        seconds=time.perf_counter() - started,
        details={"runs": len(runs)},
    )
