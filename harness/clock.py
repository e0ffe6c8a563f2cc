"""The frozen clock a replay runs under.

freezegun freezes ``time.time``, ``datetime.now`` and ``monotonic`` for every thread,
parallel graph branches included. The harness moves time only on purpose: a recorded
latency or a backoff ``time.sleep`` advances the clock instead of waiting, so metric
durations are realistic and identical on every run, and a replay never sleeps.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from unittest import mock

import freezegun.api
from freezegun import freeze_time


@dataclass
class FrozenClock:
    start: datetime
    slept: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._factory = None

    def advance(self, seconds: float) -> None:
        """Move time forward; safe from concurrent branches (a lost tick would leak
        scheduling order into every later timestamp)."""
        if seconds <= 0:
            return
        with self._lock:
            self._factory.tick(timedelta(seconds=seconds))

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)

    @contextmanager
    def running(self) -> Iterator[FrozenClock]:
        # freezegun hands out the *real* time to any caller with a ``threading`` frame
        # within 5 frames of the stack -- which is how LangGraph's background writer
        # threads call the checkpointer, so pending writes got wall-clock TTLs. A limit
        # of 0 turns that stack inspection off: every thread sees the frozen clock,
        # while threading's own (unpatched) timeouts keep real time.
        with (
            freeze_time(self.start) as factory,
            # Inside the freeze: restored before freezegun's own teardown needs it.
            mock.patch.object(freezegun.api, "call_stack_inspection_limit", 0),
            mock.patch.object(time, "sleep", self.sleep),
        ):
            self._factory = factory
            try:
                yield self
            finally:
                self._factory = None
