"""Bedrock cost accounting and the per-execution budget guardian, in Decimal only.

Money is compared byte-for-byte on replay and added across agents, so no float ever
touches it: prices are decimal *strings* in ``opx/data/pricing.json``, token counts are
ints, arithmetic runs in a context that traps any rounding, and only the final
per-agent amount is rounded — once, to :data:`COST_PLACES` (6) places with
``ROUND_HALF_EVEN`` (banker's rounding, unbiased over many agents). The total is the
exact sum of those rounded per-agent amounts, so the report always adds up.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    Inexact,
    Rounded,
)
from functools import cached_property
from importlib import resources
from types import MappingProxyType
from typing import Any

from opx.state import AgentResult, Usage

CURRENCY = "USD"
#: Every amount is quantized to this (6 places: a millionth of a dollar).
COST_PLACES = Decimal("0.000001")
COST_ROUNDING = ROUND_HALF_EVEN
#: Used when the event carries no ``budget_usd``. One dollar is roughly 20x a
#: typical execution (six agents, a few thousand tokens each on a Sonnet-class model
#: is about $0.05): high enough never to cut a normal run short, low enough that a
#: runaway retry loop or a pathological prompt is stopped within one execution.
DEFAULT_BUDGET_USD = Decimal("1.00")
#: Spend at or above this share of the budget puts the guardian in ``WARN``.
WARN_RATIO = Decimal("0.8")
#: Listed in ``unpriced_models`` when tokens were spent but no trace named a model.
UNREPORTED_MODEL = "<unreported>"
#: Token counts above this are rejected: far beyond any real execution, and the
#: bound keeps every intermediate product well inside the exact context below.
MAX_TOKENS = 10**15
#: Amounts handed to :func:`evaluate_budget` must be below this (a guard against a
#: unit mix-up, e.g. micro-dollars passed as dollars, rather than a business limit).
MAX_AMOUNT_USD = Decimal(10) ** 12

#: Geographic prefixes of cross-region inference profiles ("us.anthropic...").
_PROFILE_PREFIXES = frozenset({"us", "us-gov", "eu", "apac", "jp", "au", "ca", "global"})
#: ARN resource types whose id is (a profile of) a foundation model.
_MODEL_RESOURCES = frozenset({"foundation-model", "inference-profile"})
_UTILIZATION_Q = Decimal("0.0001")
_PRICE_RE = re.compile(r"\d{1,6}(\.\d{1,12})?")
_TOP_KEYS = frozenset({"version", "source", "currency", "unit", "models"})
_MODEL_KEYS = frozenset({"name", "input_per_1k", "output_per_1k"})

# Any rounding inside this context raises: products and sums of prices and token
# counts are exact, so a trap firing means an input broke the documented bounds.
_EXACT = Context(prec=60, rounding=ROUND_HALF_EVEN, traps=[Inexact, Rounded])
_ROUND = Context(prec=60, rounding=ROUND_HALF_EVEN)


#: Input tokens a Bedrock agent may add to opx's input text in one InvokeAgent call
#: (its orchestration prompt template and action-group schemas). Part of the
#: worst-case call estimate; ``OPX_AGENT_PROMPT_OVERHEAD_TOKENS`` overrides it.
DEFAULT_OVERHEAD_INPUT_TOKENS = 1000
#: Output tokens one InvokeAgent call may produce: set each agent's ``maximumLength``
#: at or below it. Part of the estimate; ``OPX_AGENT_MAX_OUTPUT_TOKENS`` overrides it.
DEFAULT_MAX_OUTPUT_TOKENS = 1024


@dataclass(frozen=True)
class CallLimits:
    """What a single InvokeAgent call may cost at most, in tokens (see :func:`call_estimate`)."""

    overhead_input_tokens: int = DEFAULT_OVERHEAD_INPUT_TOKENS
    max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS


class PricingError(ValueError):
    """The pricing table is malformed; the message names the file and the field."""


@dataclass(frozen=True)
class ModelRate:
    input_per_1k: Decimal
    output_per_1k: Decimal


@dataclass(frozen=True)
class Pricing:
    version: str
    source: str
    currency: str
    #: Normalized model id -> rate (read-only).
    models: Mapping[str, ModelRate]

    @cached_property
    def fallback(self) -> ModelRate:
        """The rate for a model missing from the table.

        Element-wise maximum of the table: never lower than any known model, so an
        unknown model can only make the guardian stop *earlier* than it should.
        """
        rates = self.models.values()
        return ModelRate(max(r.input_per_1k for r in rates), max(r.output_per_1k for r in rates))

    def is_priced(self, model_id: str | None) -> bool:
        return model_id is not None and normalize_model_id(model_id) in self.models

    def rate_for(self, model_id: str | None) -> ModelRate:
        if model_id is None:
            return self.fallback
        return self.models.get(normalize_model_id(model_id), self.fallback)


def normalize_model_id(model_id: str) -> str:
    """Map the shapes a Bedrock trace reports to the base foundation-model id.

    Accepts the plain id, a cross-region profile id (``us.``/``eu.``/``apac.``/
    ``global.``... prefix) and ``foundation-model/`` or ``inference-profile/`` ARNs.
    Anything else (an application-inference-profile or provisioned-model ARN) has no
    model in its name and is returned trimmed and lower-cased, i.e. unpriced.
    """
    text = model_id.strip().lower()
    if text.startswith("arn:"):
        parts = text.split(":", 5)  # the resource part itself contains ":0"
        if len(parts) == 6 and "/" in parts[5]:
            resource_type, resource_id = parts[5].split("/", 1)
            if resource_type in _MODEL_RESOURCES and resource_id:
                text = resource_id
    prefix, dot, rest = text.partition(".")
    if dot and prefix in _PROFILE_PREFIXES and "." in rest:
        text = rest
    return text


def _fail(where: str, message: str) -> PricingError:
    return PricingError(f"pricing table {where}: {message}")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise PricingError(f"duplicate keys {duplicates}")
    return dict(pairs)


def _price(value: Any, where: str) -> Decimal:
    # Strings only: a JSON number would have passed through float on the way in.
    if not isinstance(value, str) or not _PRICE_RE.fullmatch(value):
        raise PricingError(f'{where} must be a decimal string like "0.003", got {value!r}')
    return Decimal(value)


def parse_pricing(data: Any, origin: str = "<data>") -> Pricing:
    """Validate a decoded pricing document strictly: unknown keys are typos, not extras."""
    if not isinstance(data, dict):
        raise _fail(origin, "top level must be an object")
    if set(data) != _TOP_KEYS:
        raise _fail(
            origin, f"top-level keys must be exactly {sorted(_TOP_KEYS)}, got {sorted(data)}"
        )
    for key in ("version", "source"):
        if not isinstance(data[key], str) or not data[key].strip():
            raise _fail(origin, f"{key!r} must be a non-empty string")
    if data["currency"] != CURRENCY:
        raise _fail(origin, f"currency must be {CURRENCY!r}, got {data['currency']!r}")
    if data["unit"] != "per_1k_tokens":
        raise _fail(origin, f"unit must be 'per_1k_tokens', got {data['unit']!r}")
    models = data["models"]
    if not isinstance(models, dict) or not models:
        raise _fail(origin, "'models' must be a non-empty object")
    rates: dict[str, ModelRate] = {}
    for model_id in sorted(models):
        entry = models[model_id]
        where = f"{origin} models[{model_id!r}]"
        if normalize_model_id(model_id) != model_id:
            raise PricingError(
                f"{where}: key must be a normalized base model id "
                f"(expected {normalize_model_id(model_id)!r})"
            )
        if not isinstance(entry, dict) or not {"input_per_1k", "output_per_1k"} <= set(entry):
            raise PricingError(f"{where}: needs 'input_per_1k' and 'output_per_1k'")
        if not set(entry) <= _MODEL_KEYS:
            raise PricingError(f"{where}: unknown keys {sorted(set(entry) - _MODEL_KEYS)}")
        if "name" in entry and not isinstance(entry["name"], str):
            raise PricingError(f"{where}: 'name' must be a string")
        rates[model_id] = ModelRate(
            _price(entry["input_per_1k"], f"{where}.input_per_1k"),
            _price(entry["output_per_1k"], f"{where}.output_per_1k"),
        )
    return Pricing(
        version=data["version"],
        source=data["source"],
        currency=data["currency"],
        models=MappingProxyType(rates),
    )


def load_pricing(path: str | os.PathLike[str] | None = None) -> Pricing:
    """Read the pricing table (the packaged ``opx/data/pricing.json`` by default)."""
    if path is None:
        resource = resources.files("opx").joinpath("data", "pricing.json")
        origin, raw = "opx/data/pricing.json", resource.read_text(encoding="utf-8")
    else:
        origin = os.fspath(path)
        with open(path, encoding="utf-8") as handle:
            raw = handle.read()
    try:
        data = json.loads(raw, object_pairs_hook=_no_duplicates)
    except PricingError as exc:
        raise _fail(origin, str(exc)) from None
    except json.JSONDecodeError as exc:
        raise _fail(origin, f"invalid JSON: {exc}") from None
    return parse_pricing(data, origin)


def _tokens(usage: Usage) -> tuple[int, int]:
    counts = []
    for key in ("input_tokens", "output_tokens"):
        value = usage.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"usage.{key} must be an int, got {value!r}")
        if not 0 <= value <= MAX_TOKENS:
            raise ValueError(f"usage.{key} must be in [0, {MAX_TOKENS}], got {value}")
        counts.append(value)
    return counts[0], counts[1]


def agent_cost(usage: Usage, model_id: str | None, pricing: Pricing) -> Decimal:
    """One agent's cost in USD, rounded once to 6 places (ROUND_HALF_EVEN).

    A model missing from the table (or ``None`` with tokens spent) is priced at
    :attr:`Pricing.fallback`, the most expensive rate; ``None`` with no tokens is 0.
    """
    input_tokens, output_tokens = _tokens(usage)
    rate = pricing.rate_for(model_id)
    exact = _EXACT.divide(
        _EXACT.add(
            _EXACT.multiply(Decimal(input_tokens), rate.input_per_1k),
            _EXACT.multiply(Decimal(output_tokens), rate.output_per_1k),
        ),
        Decimal(1000),
    )
    return exact.quantize(COST_PLACES, rounding=COST_ROUNDING, context=_ROUND)


def _usd(value: Decimal) -> str:
    return str(value.quantize(COST_PLACES, rounding=COST_ROUNDING, context=_ROUND))


def cost_report(results: Mapping[str, AgentResult], pricing: Pricing) -> dict[str, Any]:
    """Per-agent and total cost as plain JSON (money as 6-place strings, no floats).

    Every result counts, failures included: a failed agent's tokens were billed.
    ``total_usd`` is the exact sum of the ``per_agent`` strings.
    """
    per_agent: dict[str, str] = {}
    tokens: dict[str, dict[str, int]] = {}
    models: dict[str, str | None] = {}
    unpriced: set[str] = set()
    total = Decimal(0)
    total_in = total_out = 0
    for agent in sorted(results):
        result = results[agent]
        usage = result["usage"]
        model_id = result.get("model_id")
        cost = agent_cost(usage, model_id, pricing)
        input_tokens, output_tokens = _tokens(usage)
        total = _EXACT.add(total, cost)
        total_in += input_tokens
        total_out += output_tokens
        per_agent[agent] = _usd(cost)
        tokens[agent] = {"input_tokens": input_tokens, "output_tokens": output_tokens}
        models[agent] = None if model_id is None else normalize_model_id(model_id)
        if model_id is None:
            if input_tokens or output_tokens:
                unpriced.add(UNREPORTED_MODEL)
        elif not pricing.is_priced(model_id):
            unpriced.add(normalize_model_id(model_id))
    return {
        "currency": pricing.currency,
        "pricing_version": pricing.version,
        "total_usd": _usd(total),
        "per_agent": per_agent,
        "tokens": tokens,
        "total_tokens": {"input_tokens": total_in, "output_tokens": total_out},
        "models": models,
        "unpriced_models": sorted(unpriced),
    }


def evaluate_budget(spent: Decimal, budget: Decimal) -> dict[str, Any]:
    """The guardian's verdict on ``spent`` against ``budget`` (plain JSON).

    Both amounts are first quantized to 6 places (ROUND_HALF_EVEN), so the state and
    the reported strings always agree. ``state``: ``EXCEEDED`` when spent >= budget
    (a budget of 0 is therefore always exceeded: no Bedrock spend is allowed),
    ``WARN`` when spent >= 80% of budget, else ``OK``. ``utilization`` is spent/budget
    rounded *down* to 4 places (so ``>= "0.8000"`` exactly when WARN or worse, and
    ``>= "1.0000"`` exactly when EXCEEDED), ``None`` for a zero budget.
    ``allow_spend`` is false once EXCEEDED: the graph then skips the remaining agents
    and marks the result degraded.
    """
    check_amount("spent", spent)
    check_amount("budget", budget)
    spent_q = spent.quantize(COST_PLACES, rounding=COST_ROUNDING, context=_ROUND)
    budget_q = budget.quantize(COST_PLACES, rounding=COST_ROUNDING, context=_ROUND)
    if spent_q >= budget_q:
        state = "EXCEEDED"
    elif spent_q >= _ROUND.multiply(budget_q, WARN_RATIO):
        state = "WARN"
    else:
        state = "OK"
    utilization = None
    if budget_q > 0:
        floor = Context(prec=60, rounding=ROUND_FLOOR)
        utilization = str(floor.divide(spent_q, budget_q).quantize(_UTILIZATION_Q, context=floor))
    return {
        "budget_usd": str(budget_q),
        "spent_usd": str(spent_q),
        "remaining_usd": str(
            max(_ROUND.subtract(budget_q, spent_q), Decimal(0).quantize(COST_PLACES))
        ),
        "utilization": utilization,
        "warn_ratio": str(WARN_RATIO),
        "state": state,
        "allow_spend": state != "EXCEEDED",
    }


def call_estimate(input_text: str, pricing: Pricing, limits: CallLimits = CallLimits()) -> Decimal:
    """The worst-case cost of one InvokeAgent call, in USD, rounded *up* to 6 places.

    input tokens  <= UTF-8 bytes of the input text (no tokenizer makes a token of less
                     than one byte) + ``limits.overhead_input_tokens``;
    output tokens <= ``limits.max_output_tokens``;
    price         =  the table's highest input and output rates (:attr:`Pricing.fallback`):
                     the model is only known from the call's own trace.
    """
    input_tokens = len(input_text.encode("utf-8")) + limits.overhead_input_tokens
    for name, value in (("input", input_tokens), ("output", limits.max_output_tokens)):
        if not 0 <= value <= MAX_TOKENS:
            raise ValueError(f"{name} token bound must be in [0, {MAX_TOKENS}], got {value}")
    rate = pricing.fallback
    exact = _EXACT.divide(
        _EXACT.add(
            _EXACT.multiply(Decimal(input_tokens), rate.input_per_1k),
            _EXACT.multiply(Decimal(limits.max_output_tokens), rate.output_per_1k),
        ),
        Decimal(1000),
    )
    return exact.quantize(COST_PLACES, rounding=ROUND_CEILING, context=_ROUND)


def agent_allowance(budget: Decimal, agents: int) -> Decimal:
    """Each of ``agents`` parallel agents' share of ``budget``, rounded *down* to 6 places.

    The shares never add up to more than the budget, and each agent's admission
    depends only on its own spend -- not on which parallel branch ran first -- so a
    replay admits exactly the same calls.
    """
    if agents < 1:
        raise ValueError(f"agents must be at least 1, got {agents}")
    check_amount("budget", budget)
    floor = Context(prec=60, rounding=ROUND_FLOOR)
    return floor.divide(budget, Decimal(agents)).quantize(COST_PLACES, context=floor)


def admit_call(spent: Decimal, estimate: Decimal, allowance: Decimal) -> bool:
    """True when a call whose worst case is ``estimate`` fits what is left of
    ``allowance`` after ``spent``: then, whatever the call costs up to its estimate,
    spending stays within the allowance. An allowance of 0 admits nothing."""
    for name, value in (("spent", spent), ("estimate", estimate), ("allowance", allowance)):
        check_amount(name, value)
    return estimate > 0 and _EXACT.add(spent, estimate) <= allowance and allowance > 0


def check_amount(name: str, value: Decimal) -> None:
    """Refuse ``value`` unless it is a finite Decimal in ``[0, MAX_AMOUNT_USD)``.

    Public so that the settings reader applies the very rule the guardian applies: a
    default budget accepted at cold start is then one :func:`agent_allowance` accepts.
    """
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal, got {type(value).__name__}")
    if not value.is_finite() or not 0 <= value < MAX_AMOUNT_USD:
        raise ValueError(f"{name} must be a finite amount in [0, {MAX_AMOUNT_USD}), got {value}")
