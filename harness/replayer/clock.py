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

A backoff is only as repeatable as its length. botocore's standard retries (the
executor's DynamoDB client) sleep ``random.random() * min(base * 2**i, 20)`` before
each retry -- ``botocore.retries.standard.ExponentialBackoff`` draws the jitter from
the ``random`` callable it was built with, ``random.random`` by default -- so a replayed
DynamoDB fault would sleep a different time, and stamp different times, on every run.
:data:`BACKOFF_JITTER` is the callable the replay session builds its clients' backoff
with instead (:mod:`.session`): a fixed 0.5, the mean of the real draw, so a retried
call waits what it waits on average, and the same on every run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import time_machine

#: The jitter a replay's retry backoff uses in place of ``random.random()``.
FIXED_JITTER = 0.5


class BackoffJitter:
    """The ``random`` callable of a replay client's retry backoff: ``source()``,
    :data:`FIXED_JITTER` unless a test swaps ``source`` to show what it fixes."""

    def __init__(self) -> None:
        self.source: Callable[[], float] = lambda: FIXED_JITTER

    def __call__(self) -> float:
        return self.source()


#: The one jitter every replay client's standard-retry backoff draws.
BACKOFF_JITTER = BackoffJitter()


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


__all__ = ["BACKOFF_JITTER", "FIXED_JITTER", "BackoffJitter", "FrozenClock"]
