"""The frozen clock a replay runs under.

Every thread of the code under replay, parallel graph branches and LangGraph's
background writers included, reads the same frozen time. The harness moves it only
on purpose: a recorded latency or a backoff ``time.sleep`` advances the clock
instead of waiting, so metric durations are realistic and identical on every run,
and a replay never sleeps.

The clock is time-machine's, not freezegun's. freezegun fakes time by rebinding
every module attribute that holds a real clock function, so each start scans every
loaded module (~13 ms of a ~90 ms replay, for ~2,000 modules) and it has no
supported way to skip that scan short of nesting inside another freeze (which would
freeze the caller between replays); it also hands callers with a ``threading``
frame near the top of their stack the *real* time unless its inspection limit is
patched. time-machine patches the C-level clock functions themselves, so no module
is scanned, every reference (``from time import time`` too) and every thread sees
the frozen time, and ``datetime`` stays the real class (freezegun's fake classes
broke pydantic models defined under them). Its one gap is ``time.monotonic``, which
it leaves real by design: the harness freezes that itself, as ``time.time``
(what freezegun's fake returned), for code that looks it up at call time -- as the
executor does (the Logs Insights deadline) and LangGraph's step timeouts do.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import time_machine


def _monotonic() -> float:
    return time.time()


def _monotonic_ns() -> int:
    return time.time_ns()


@dataclass
class FrozenClock:
    start: datetime
    slept: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._traveller: Any = None

    def advance(self, seconds: float) -> None:
        """Move time forward; safe from concurrent branches (a lost tick would leak
        scheduling order into every later timestamp)."""
        if seconds <= 0:
            return
        with self._lock:
            self._traveller.shift(timedelta(seconds=seconds))

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)

    @contextmanager
    def running(self) -> Iterator[FrozenClock]:
        with (
            time_machine.travel(self.start, tick=False) as traveller,
            mock.patch.object(time, "sleep", self.sleep),
            mock.patch.object(time, "monotonic", _monotonic),
            mock.patch.object(time, "monotonic_ns", _monotonic_ns),
        ):
            self._traveller = traveller
            try:
                yield self
            finally:
                self._traveller = None


__all__ = ["FrozenClock"]
