"""moto for replays: started for each replay, or once for a batch of them.

Starting ``mock_aws`` registers ~1,250 URL callbacks with ``responses`` (it mocks
the ``requests`` library too, which no replay uses: botocore's requests reach moto
through :mod:`.moto_lock`) and stopping it removes them -- ~7.7 ms of every
replay, a tenth of a typical one. Inside :func:`batch`, moto stays started and each
replay begins from empty backends -- ``reset_model_data()`` and
``BackendDict.reset()``, exactly what ``mock_aws`` does to data when it stops and
starts -- at no measurable cost. Outside a batch each replay starts and stops its
own mock, so code around a single replay (a test using moto itself, a live
``record``) never runs under a mock it did not start.

The gate judges its scenarios in a batch (each worker process holds one for its
life), as do the checks that replay one scenario many times.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from moto import mock_aws
from moto.core.base_backend import BackendDict
from moto.core.model_instances import reset_model_data
from moto.core.models import MockAWS

_depth = 0


@contextmanager
def batch() -> Iterator[None]:
    """Keep moto started for the replays run inside (nested batches share it)."""
    global _depth
    mock = hold()
    try:
        yield
    finally:
        _depth -= 1
        mock.stop()


def hold() -> MockAWS:
    """Start moto for the replays that follow until the returned mock is stopped --
    for the rest of the process, in a gate worker's initializer."""
    global _depth
    mock = mock_aws()
    mock.start()
    _depth += 1
    return mock


@contextmanager
def fresh() -> Iterator[None]:
    """Empty moto backends for one replay: reset inside a batch, else a mock of its own."""
    if _depth:
        # What mock_aws's own stop and start do to data: without the second, moto
        # keeps every model instance a replay created (a gate worker grew to 700 MB
        # over 500 scenarios).
        reset_model_data()
        BackendDict.reset()
        yield
        return
    with mock_aws():
        yield


__all__ = ["batch", "fresh", "hold"]
