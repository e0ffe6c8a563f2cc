"""The frozen clock a replay runs under.

freezegun freezes ``time.time``, ``datetime.now`` and ``monotonic`` for every thread,
parallel graph branches included. The harness moves time only on purpose: a recorded
latency or a backoff ``time.sleep`` advances the clock instead of waiting, so metric
durations are realistic and identical on every run, and a replay never sleeps.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
import warnings
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
        settle_lazy_modules()
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


_settled_at = 0


def settle_lazy_modules() -> None:
    """Read every attribute of every loaded module, as freezegun's start does, but
    before the clock is faked.

    freezegun scans ``sys.modules`` with ``datetime`` already replaced; a module whose
    ``__getattr__`` imports on access (``langchain_core.runnables`` does) then imports
    under the fake, and a pydantic model defined there fails on ``FakeDatetime``. Which
    modules are still lazy depends on what ran first in the process (found when a fresh
    interpreter replayed an action-group scenario first), so settle them here; a rescan
    happens only when modules were added since the last one.
    """
    global _settled_at
    while len(sys.modules) != _settled_at:
        _settled_at = len(sys.modules)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # deprecated attributes warn when read
            for module in list(sys.modules.values()):
                with contextlib.suppress(Exception):
                    for name in dir(module):
                        with contextlib.suppress(Exception):
                            getattr(module, name)


__all__ = ["FrozenClock", "settle_lazy_modules"]
