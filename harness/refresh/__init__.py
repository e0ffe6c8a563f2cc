"""Refreshing recordings after a prompt, model or agent change, and saying what the
change does: :mod:`.plan` picks the scenarios and how to renew each, :mod:`.spend`
projects and caps live spend, :mod:`.renew` renews and verifies, :mod:`.run` puts it
together and writes, :mod:`.report` renders the impact report.
"""

from harness.refresh.plan import Mode, PlanError, Planned, plan
from harness.refresh.run import DEFAULT_MAX_USD, RefreshConfig, RefreshResult, Renewed, refresh

__all__ = [
    "DEFAULT_MAX_USD",
    "Mode",
    "PlanError",
    "Planned",
    "RefreshConfig",
    "RefreshResult",
    "Renewed",
    "plan",
    "refresh",
]
