"""Cost and budget: hand-computed amounts, strict pricing validation, exactness properties."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opx.cost import (
    COST_PLACES,
    DEFAULT_BUDGET_USD,
    UNREPORTED_MODEL,
    WARN_RATIO,
    CallLimits,
    ModelRate,
    PricingError,
    admit_call,
    agent_allowance,
    agent_cost,
    call_estimate,
    cost_report,
    evaluate_budget,
    load_pricing,
    normalize_model_id,
)
from opx.state import ALL_AGENTS, AgentResult, Usage
from tests.strategies import MODEL_IDS, agent_results, hypotheses_maps, model_ids, usages

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)
PRICING = load_pricing()
MONEY = re.compile(r"\d+\.\d{6}")
SONNET = "anthropic.claude-3-5-sonnet-20240620-v1:0"
HAIKU3 = "anthropic.claude-3-haiku-20240307-v1:0"
NOVA_MICRO = "amazon.nova-micro-v1:0"


def _usage(input_tokens: int, output_tokens: int) -> Usage:
    return Usage(input_tokens=input_tokens, output_tokens=output_tokens)


def _result(agent: str, usage: Usage, model_id: str | None, status: str = "SUCCESS") -> AgentResult:
    return AgentResult(
        agent=agent,
        status=status,  # type: ignore[typeddict-item]
        output=None,
        error=None,
        usage=usage,
        model_id=model_id,
        attempts=1,
        responses=[],
    )


# ------------------------------------------------------------------------ pricing table


def test_packaged_table_has_the_documented_models() -> None:
    for model in (
        HAIKU3,
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        SONNET,
        "anthropic.claude-3-5-sonnet-20241022-v2:0",
        "anthropic.claude-3-7-sonnet-20250219-v1:0",
        "anthropic.claude-sonnet-4-20250514-v1:0",
        NOVA_MICRO,
        "amazon.nova-lite-v1:0",
        "amazon.nova-pro-v1:0",
        "meta.llama3-1-70b-instruct-v1:0",
    ):
        assert model in PRICING.models
    assert PRICING.currency == "USD"
    assert PRICING.version and PRICING.source
    for rate in PRICING.models.values():
        assert isinstance(rate.input_per_1k, Decimal)
        assert isinstance(rate.output_per_1k, Decimal)
    # Claude 3.5 Sonnet is $3 / $15 per million tokens.
    assert PRICING.models[SONNET].input_per_1k == Decimal("0.003")
    assert PRICING.models[SONNET].output_per_1k == Decimal("0.015")
    # The fallback is the element-wise maximum of the table (Sonnet-class here).
    assert (PRICING.fallback.input_per_1k, PRICING.fallback.output_per_1k) == (
        Decimal("0.003"),
        Decimal("0.015"),
    )


def test_explicit_path_matches_packaged_default() -> None:
    packaged = resources.files("opx").joinpath("data", "pricing.json")
    with resources.as_file(packaged) as path:
        assert load_pricing(path) == PRICING


def _valid_doc() -> dict[str, Any]:
    return {
        "version": "t",
        "source": "test",
        "currency": "USD",
        "unit": "per_1k_tokens",
        "models": {SONNET: {"input_per_1k": "0.003", "output_per_1k": "0.015"}},
    }


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pricing.json"
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_valid_document_loads(tmp_path: Path) -> None:
    pricing = load_pricing(_write(tmp_path, json.dumps(_valid_doc())))
    assert dict(pricing.models).keys() == {SONNET}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["models"][SONNET].update(input_per_1k=0.003), "decimal string"),
        (lambda d: d["models"][SONNET].update(input_per_1k="-0.003"), "decimal string"),
        (lambda d: d["models"][SONNET].update(input_per_1k="3e-3"), "decimal string"),
        # The message names the stray key itself, not the known ones.
        (
            lambda d: d["models"][SONNET].update(ouput_per_1k="0.1"),
            r"unknown keys \['ouput_per_1k'\]",
        ),
        (lambda d: d["models"][SONNET].pop("output_per_1k"), "needs"),
        (lambda d: d["models"].update({"us." + SONNET: d["models"][SONNET]}), "normalized"),
        (lambda d: d.update(currency="EUR"), "currency"),
        (lambda d: d.update(unit="per_1m_tokens"), "unit"),
        (lambda d: d.update(extra=1), "top-level keys"),
        (lambda d: d.update(models={}), "non-empty"),
        (lambda d: d.update(version=""), "'version'"),
    ],
)
def test_malformed_tables_are_rejected_with_the_field_named(
    tmp_path: Path, mutate: Any, message: str
) -> None:
    doc = _valid_doc()
    mutate(doc)
    with pytest.raises(PricingError, match=message) as info:
        load_pricing(_write(tmp_path, json.dumps(doc)))
    assert str(tmp_path) in str(info.value)


def test_duplicate_keys_and_bad_json_are_rejected(tmp_path: Path) -> None:
    entry = '{"input_per_1k": "1", "output_per_1k": "1"}'
    text = (
        '{"version": "t", "source": "s", "currency": "USD", "unit": "per_1k_tokens", '
        f'"models": {{"{SONNET}": {entry}, "{SONNET}": {entry}}}}}'
    )
    with pytest.raises(PricingError, match="duplicate keys"):
        load_pricing(_write(tmp_path, text))
    with pytest.raises(PricingError, match="invalid JSON"):
        load_pricing(_write(tmp_path, "{"))


# ---------------------------------------------------------------------- model id shapes


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (SONNET, SONNET),
        ("us." + SONNET, SONNET),
        ("eu." + SONNET, SONNET),
        ("apac." + SONNET, SONNET),
        (
            "global.anthropic.claude-sonnet-4-20250514-v1:0",
            "anthropic.claude-sonnet-4-20250514-v1:0",
        ),
        ("us-gov." + SONNET, SONNET),
        (f"arn:aws:bedrock:us-east-1::foundation-model/{SONNET}", SONNET),
        (f"arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.{SONNET}", SONNET),
        (f"arn:aws-us-gov:bedrock:us-gov-west-1::foundation-model/{SONNET}", SONNET),
        ("  US." + SONNET.upper() + "  ", SONNET),
        # No model in the name: kept as-is (lower-cased), so it shows up as unpriced.
        (
            "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/AbC",
            "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc",
        ),
        # A provider is not a region prefix.
        (NOVA_MICRO, NOVA_MICRO),
    ],
)
def test_normalize_model_id(raw: str, expected: str) -> None:
    assert normalize_model_id(raw) == expected


# ------------------------------------------------------------------ hand-computed costs


@pytest.mark.parametrize(
    ("model", "tokens", "expected"),
    [
        # 1234 * 0.003 / 1000 = 0.003702; 567 * 0.015 / 1000 = 0.008505; sum 0.012207
        (SONNET, (1234, 567), "0.012207"),
        ("us." + SONNET, (1234, 567), "0.012207"),  # profiles cost the same
        # 1000 * 0.000035 / 1000 + 1000 * 0.00014 / 1000 = 0.000035 + 0.00014 = 0.000175
        (NOVA_MICRO, (1000, 1000), "0.000175"),
        # Banker's rounding at the 6th place (Claude 3 Haiku input: 0.00000025 per token):
        # 2 tokens = 0.0000005 -> 0.000000 (half to even 0)
        (HAIKU3, (2, 0), "0.000000"),
        # 6 tokens = 0.0000015 -> 0.000002 (half to even 2)
        (HAIKU3, (6, 0), "0.000002"),
        # 10 tokens = 0.0000025 -> 0.000002 (half to even 2; half-up would say 0.000003)
        (HAIKU3, (10, 0), "0.000002"),
        # 3 tokens = 0.00000075 -> 0.000001
        (HAIKU3, (3, 0), "0.000001"),
        # Unknown model -> max rates 0.003 / 0.015: 1000 in + 1000 out = 0.018
        ("vendor.unknown-model-v9:0", (1000, 1000), "0.018000"),
        # No model reported but tokens spent: same conservative rate.
        (None, (1000, 0), "0.003000"),
        (None, (0, 0), "0.000000"),
    ],
)
def test_agent_cost_hand_computed(
    model: str | None, tokens: tuple[int, int], expected: str
) -> None:
    cost = agent_cost(_usage(*tokens), model, PRICING)
    assert isinstance(cost, Decimal)
    assert str(cost) == expected


@pytest.mark.parametrize(
    ("usage", "error"),
    [
        ({"input_tokens": 1.0, "output_tokens": 0}, TypeError),
        ({"input_tokens": True, "output_tokens": 0}, TypeError),
        ({"input_tokens": 0}, TypeError),
        ({"input_tokens": -1, "output_tokens": 0}, ValueError),
        ({"input_tokens": 10**16, "output_tokens": 0}, ValueError),
    ],
)
def test_bad_token_counts_are_rejected(usage: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        agent_cost(usage, SONNET, PRICING)


def test_cost_report_hand_computed() -> None:
    results = {
        "signal-intelligence": _result("signal-intelligence", _usage(1000, 1000), NOVA_MICRO),
        "change-intelligence": _result("change-intelligence", _usage(1234, 567), "eu." + SONNET),
        # Failed agents were still billed: 2000 * 0.00025/1000 + 100 * 0.00125/1000
        # = 0.0005 + 0.000125 = 0.000625
        "knowledge-rag": _result("knowledge-rag", _usage(2000, 100), HAIKU3, status="FAILURE"),
        "response-strategy": _result("response-strategy", _usage(0, 0), None, status="SKIPPED"),
        "risk-blast-radius": _result("risk-blast-radius", _usage(0, 0), "vendor.new-model-v1:0"),
    }
    report = cost_report(results, PRICING)
    assert report == {
        "currency": "USD",
        "pricing_version": PRICING.version,
        # 0.012207 + 0.000175 + 0.000625 + 0 + 0 = 0.013007
        "total_usd": "0.013007",
        "per_agent": {
            "change-intelligence": "0.012207",
            "knowledge-rag": "0.000625",
            "response-strategy": "0.000000",
            "risk-blast-radius": "0.000000",
            "signal-intelligence": "0.000175",
        },
        "tokens": {
            "change-intelligence": {"input_tokens": 1234, "output_tokens": 567},
            "knowledge-rag": {"input_tokens": 2000, "output_tokens": 100},
            "response-strategy": {"input_tokens": 0, "output_tokens": 0},
            "risk-blast-radius": {"input_tokens": 0, "output_tokens": 0},
            "signal-intelligence": {"input_tokens": 1000, "output_tokens": 1000},
        },
        "total_tokens": {"input_tokens": 4234, "output_tokens": 1667},
        "models": {
            "change-intelligence": SONNET,
            "knowledge-rag": HAIKU3,
            "response-strategy": None,
            "risk-blast-radius": "vendor.new-model-v1:0",
            "signal-intelligence": NOVA_MICRO,
        },
        # Unknown even with 0 tokens is listed; None with 0 tokens is not.
        "unpriced_models": ["vendor.new-model-v1:0"],
    }
    assert list(report["per_agent"]) == sorted(report["per_agent"])


def test_unreported_model_with_tokens_is_listed() -> None:
    report = cost_report({"knowledge-rag": _result("knowledge-rag", _usage(1, 1), None)}, PRICING)
    assert report["unpriced_models"] == [UNREPORTED_MODEL]


def test_empty_report() -> None:
    report = cost_report({}, PRICING)
    assert report["total_usd"] == "0.000000"
    assert report["per_agent"] == {}
    assert report["unpriced_models"] == []


# ------------------------------------------------------------------------------ budget


def test_budget_constants() -> None:
    assert str(DEFAULT_BUDGET_USD) == "1.00"
    assert str(WARN_RATIO) == "0.8"


@pytest.mark.parametrize(
    ("spent", "state", "utilization", "remaining"),
    [
        ("0", "OK", "0.0000", "1.000000"),
        ("0.799999", "OK", "0.7999", "0.200001"),
        ("0.8", "WARN", "0.8000", "0.200000"),
        ("0.999999", "WARN", "0.9999", "0.000001"),  # floor: never shown as 1.0000
        ("1", "EXCEEDED", "1.0000", "0.000000"),
        ("1.5", "EXCEEDED", "1.5000", "0.000000"),
    ],
)
def test_budget_boundaries(spent: str, state: str, utilization: str, remaining: str) -> None:
    verdict = evaluate_budget(Decimal(spent), DEFAULT_BUDGET_USD)
    assert verdict["state"] == state
    assert verdict["utilization"] == utilization
    assert verdict["remaining_usd"] == remaining
    assert verdict["budget_usd"] == "1.000000"
    assert verdict["allow_spend"] is (state != "EXCEEDED")


def test_zero_budget_is_always_exceeded() -> None:
    verdict = evaluate_budget(Decimal(0), Decimal(0))
    assert verdict == {
        "budget_usd": "0.000000",
        "spent_usd": "0.000000",
        "remaining_usd": "0.000000",
        "utilization": None,
        "warn_ratio": "0.8",
        "state": "EXCEEDED",
        "allow_spend": False,
    }


def test_budget_inputs_are_checked() -> None:
    with pytest.raises(ValueError, match="budget"):
        evaluate_budget(Decimal(0), Decimal("-0.01"))
    with pytest.raises(ValueError, match="spent"):
        evaluate_budget(Decimal("-1"), Decimal(1))
    with pytest.raises(ValueError, match="finite"):
        evaluate_budget(Decimal("NaN"), Decimal(1))
    with pytest.raises(TypeError, match="Decimal"):
        evaluate_budget(0.5, Decimal(1))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- properties


def _raw_rates() -> tuple[dict[str, tuple[Fraction, Fraction]], tuple[Fraction, Fraction]]:
    """The oracle reads the JSON itself, with Fraction, independently of opx.cost."""
    text = resources.files("opx").joinpath("data", "pricing.json").read_text(encoding="utf-8")
    models = json.loads(text)["models"]
    rates = {
        m: (Fraction(e["input_per_1k"]), Fraction(e["output_per_1k"])) for m, e in models.items()
    }
    return rates, (max(r[0] for r in rates.values()), max(r[1] for r in rates.values()))


RAW_RATES, RAW_FALLBACK = _raw_rates()


def _oracle(usage: Usage, model_id: str | None) -> Decimal:
    rate = RAW_FALLBACK if model_id is None else RAW_RATES.get(normalize_model_id(model_id))
    rate = rate or RAW_FALLBACK
    micro = (usage["input_tokens"] * rate[0] + usage["output_tokens"] * rate[1]) / 1000 * 10**6
    whole, rest = divmod(micro, 1)
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and whole % 2 == 1):
        whole += 1
    return Decimal(int(whole)).scaleb(-6)


def _no_float(value: Any) -> None:
    assert not isinstance(value, float)
    if isinstance(value, dict):
        for item in value.values():
            _no_float(item)
    elif isinstance(value, list):
        for item in value:
            _no_float(item)


@PROPERTY_SETTINGS
@given(usage=usages, model_id=model_ids)
def test_agent_cost_is_exact_half_even(usage: Usage, model_id: str | None) -> None:
    cost = agent_cost(usage, model_id, PRICING)
    assert isinstance(cost, Decimal)
    assert cost.as_tuple().exponent == -6
    assert cost == _oracle(usage, model_id)
    assert cost == cost.quantize(COST_PLACES)


@PROPERTY_SETTINGS
@given(results=hypotheses_maps(agents=ALL_AGENTS), data=st.data())
def test_report_is_additive_exact_and_order_free(
    results: dict[str, AgentResult], data: st.DataObject
) -> None:
    report = cost_report(results, PRICING)
    _no_float(report)
    for amount in [report["total_usd"], *report["per_agent"].values()]:
        assert MONEY.fullmatch(amount)
    assert Decimal(report["total_usd"]) == sum(
        (Decimal(v) for v in report["per_agent"].values()), Decimal(0)
    )
    assert set(report["per_agent"]) == set(results)
    for agent, result in results.items():
        assert Decimal(report["per_agent"][agent]) == _oracle(result["usage"], result["model_id"])

    order = data.draw(st.permutations(sorted(results)))
    permuted = {agent: results[agent] for agent in order}
    assert json.dumps(cost_report(permuted, PRICING), sort_keys=True) == json.dumps(
        report, sort_keys=True
    )

    # Additive over any split of the agents into two disjoint groups.
    left = data.draw(st.sets(st.sampled_from(sorted(results)))) if results else set()
    part_a = cost_report({a: r for a, r in results.items() if a in left}, PRICING)
    part_b = cost_report({a: r for a, r in results.items() if a not in left}, PRICING)
    assert Decimal(part_a["total_usd"]) + Decimal(part_b["total_usd"]) == Decimal(
        report["total_usd"]
    )
    assert (
        sorted({*part_a["unpriced_models"], *part_b["unpriced_models"]})
        == report["unpriced_models"]
    )


@PROPERTY_SETTINGS
@given(result=agent_results("knowledge-rag"), model_id=st.sampled_from(MODEL_IDS))
def test_unknown_models_are_never_cheaper_than_known(result: AgentResult, model_id: str) -> None:
    usage = result["usage"]
    unknown = agent_cost(usage, "vendor.never-heard-of-v1:0", PRICING)
    assert unknown >= agent_cost(usage, model_id, PRICING)


money = st.decimals(min_value=0, max_value=1000, places=6, allow_nan=False, allow_infinity=False)


@PROPERTY_SETTINGS
@given(spent=money, budget=money)
def test_budget_state_matches_exact_thresholds(spent: Decimal, budget: Decimal) -> None:
    verdict = evaluate_budget(spent, budget)
    if spent >= budget:
        expected = "EXCEEDED"
    elif spent >= budget * Decimal("0.8"):
        expected = "WARN"
    else:
        expected = "OK"
    assert verdict["state"] == expected
    _no_float(verdict)
    assert Decimal(verdict["spent_usd"]) == spent
    assert Decimal(verdict["remaining_usd"]) == max(budget - spent, Decimal(0))
    if budget == 0:
        assert verdict["utilization"] is None
    else:
        # Rounded down, so the shown number crosses 0.8 and 1 exactly with the state.
        utilization = Decimal(verdict["utilization"])
        assert utilization <= spent / budget
        assert (utilization >= Decimal("0.8")) == (expected != "OK")
        assert (utilization >= 1) == (expected == "EXCEEDED")


@PROPERTY_SETTINGS
@given(budget=money.filter(lambda b: b > 0))
def test_budget_boundaries_at_exactly_80_and_100_percent(budget: Decimal) -> None:
    warn_at = (budget * WARN_RATIO).quantize(COST_PLACES)
    assert evaluate_budget(budget, budget)["state"] == "EXCEEDED"
    if warn_at == budget * WARN_RATIO:  # 80% representable at 6 places
        assert evaluate_budget(warn_at, budget)["state"] == "WARN"
        below = warn_at - COST_PLACES
        if below >= 0:
            assert evaluate_budget(below, budget)["state"] == "OK"
    below_full = budget - COST_PLACES
    if below_full >= 0:
        assert evaluate_budget(below_full, budget)["state"] in {"OK", "WARN"}


def test_call_estimate_is_input_bytes_plus_overhead_and_max_output_at_the_top_rate() -> None:
    pricing = load_pricing()
    # Highest rates in the table: 0.003 in, 0.015 out per 1K (Claude Sonnet class).
    assert pricing.fallback == ModelRate(Decimal("0.003"), Decimal("0.015"))
    limits = CallLimits(overhead_input_tokens=1000, max_output_tokens=1024)
    # (4000 + 1000) x 0.003 / 1000 + 1024 x 0.015 / 1000 = 0.015 + 0.01536
    assert call_estimate("x" * 4000, pricing, limits) == Decimal("0.030360")
    # Multi-byte text counts bytes, not characters (a token is at least one byte).
    assert call_estimate("é" * 2000, pricing, limits) == Decimal("0.030360")
    # Rounded up, never down: the estimate stays an upper bound.
    assert call_estimate("x", pricing, CallLimits(0, 0)) == Decimal("0.000003")
    assert call_estimate("", pricing, CallLimits(0, 1)) == Decimal("0.000015")


def test_allowance_shares_never_add_up_to_more_than_the_budget() -> None:
    assert agent_allowance(Decimal("0.25"), 5) == Decimal("0.050000")
    assert agent_allowance(Decimal("0.000004"), 5) == Decimal("0.000000")
    assert agent_allowance(Decimal("1"), 3) == Decimal("0.333333")
    with pytest.raises(ValueError):
        agent_allowance(Decimal("1"), 0)


@given(
    budget=st.decimals(min_value=0, max_value=1000, places=6),
    agents=st.integers(1, 10),
)
def test_allowances_fit_the_budget(budget: Decimal, agents: int) -> None:
    assert agent_allowance(budget, agents) * agents <= budget


def test_admission_needs_the_whole_estimate_to_fit_and_nothing_fits_zero() -> None:
    assert admit_call(Decimal("0.01"), Decimal("0.04"), Decimal("0.05"))
    assert not admit_call(Decimal("0.010001"), Decimal("0.04"), Decimal("0.05"))
    assert not admit_call(Decimal(0), Decimal("0.000001"), Decimal(0))
    assert not admit_call(Decimal(0), Decimal(0), Decimal(0))
    with pytest.raises(TypeError):
        admit_call(0.01, Decimal("0.04"), Decimal("0.05"))  # type: ignore[arg-type]
