"""Settings the executor refuses at cold start (``opx.config``)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from opx.config import ConfigurationError, Settings
from opx.cost import MAX_AMOUNT_USD, agent_allowance


@pytest.mark.parametrize(
    "raw",
    [str(MAX_AMOUNT_USD), "2000000000000", "1" + "0" * 1000],
    ids=["the-bound", "twice-the-bound", "1001-digits"],
)
def test_a_default_budget_the_guardian_refuses_is_refused_at_cold_start(raw: str) -> None:
    # Accepted, it would fail every incident without its own budget (EXECUTION_FAILED).
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({"OPX_DEFAULT_BUDGET_USD": raw})
    assert str(caught.value) == (
        f"OPX_DEFAULT_BUDGET_USD={raw!r} must be below 1000000000000, "
        "the largest amount the budget guardian accepts"
    )


def test_the_largest_default_budget_accepted_is_one_the_guardian_accepts() -> None:
    settings = Settings.from_env({"OPX_DEFAULT_BUDGET_USD": "999999999999.999999"})
    assert str(settings.default_budget_usd) == "999999999999.999999"
    assert agent_allowance(settings.default_budget_usd, 5) == Decimal("199999999999.999999")
