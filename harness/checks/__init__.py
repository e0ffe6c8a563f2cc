"""Checks: what the harness proves about a scenario, one vocabulary everywhere.

A snapshot match proves one run equals one stored run; the other checks prove the
same input *always* gives the same output, and the bill is exact:

* ``snapshot`` (:mod:`.snapshot`) -- the replay equals its approved snapshot;
* ``repeat`` (:mod:`.repeat`) -- N replays in one process, byte-identical;
* ``process`` (:mod:`.process`) -- fresh interpreters under different hash seeds;
* ``order`` (:mod:`.order`, forced by :mod:`.ordering`) -- any completion order of the
  five parallel agents;
* ``resume`` (:mod:`.resume`) -- a crash at every checkpoint, then redelivery,
  ends like the uninterrupted run without paying an agent twice;
* ``cost`` (:mod:`.cost`) -- every bill equals an exact, independent recomputation;
* ``secrets`` (:mod:`.secrets`) -- no committed scenario or snapshot holds a secret.

Each returns an :class:`Outcome`; :mod:`.divergence` says where two runs part ways.
The registry (:mod:`.registry`) is the extension point.
"""

from harness.checks.base import Check, CheckContext, not_applicable
from harness.checks.outcome import FAILED, Outcome, Status
from harness.checks.registry import (
    CHECK_NAMES,
    CHECKS,
    DEFAULT_CHECKS,
    DEFAULT_REPEAT,
    check_named,
)

__all__ = [
    "CHECKS",
    "CHECK_NAMES",
    "DEFAULT_CHECKS",
    "DEFAULT_REPEAT",
    "FAILED",
    "Check",
    "CheckContext",
    "Outcome",
    "Status",
    "check_named",
    "not_applicable",
]
