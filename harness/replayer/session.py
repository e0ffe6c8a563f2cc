"""The one boto3 session replays run on, and where the executor's output goes.

botocore copies a session's event hooks into each client when the client is
created, so a transport cannot be registered per replay on clients that outlive it.
Instead the session registers one dispatcher, ahead of moto, and each replay points
it at its own transport for as long as it runs (:meth:`ReplaySession.serving`).

The clients it hands out back off deterministically: botocore builds a client's
standard-retry backoff when the client is created, from the module attribute
``botocore.retries.standard.ExponentialBackoff``, whose ``random`` argument says where
the jitter comes from. While this session creates a client -- and only then, under
its lock -- that attribute is the same class with ``random`` bound to the replay's
fixed jitter (:data:`harness.replayer.clock.BACKOFF_JITTER`); clients made anywhere
else keep botocore's random jitter.

They also start every replay with a full retry quota. Standard retries draw 5 (10 for
a timeout) from a per-client bucket of 500 before each retry, and refund it only when
the retried call finally succeeds: a call that fails on every attempt keeps its draw.
A reused client would carry one replay's drain into the next, and once the bucket ran
dry a fault stopped being retried -- ``lease-release-timeout`` (three timeout retries
that never succeed) answered differently from its 22nd replay in one process on, so a
result depended on what else the process had replayed. Each client is therefore built
with a :class:`RefillableRetryQuota`, and :meth:`ReplaySession.serving` refills them all: a
replay retries as a cold Lambda container would.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from functools import partial
from typing import Any
from unittest import mock

import boto3
from botocore.config import Config
from botocore.retries import quota, standard

from harness.replayer import moto_lock
from harness.replayer.clock import BACKOFF_JITTER
from harness.wire import TransportLayer

#: The executor's powertools logger, whose handler writes to a stream of its own.
LAMBDA_LOGGER = "opx-executor"
_MAX_CLIENTS = 64


def client_key(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """Everything a client is built from: its arguments (a ``Config`` by the options it
    was given) and the ``AWS_*`` environment botocore reads at creation (region,
    endpoints, credentials, retry settings)."""

    def plain(value: Any) -> Any:
        if isinstance(value, Config):
            # A Config has no equality; what it was given identifies it.
            options = getattr(value, "_user_provided_options", None)
            return ("Config", sorted(options.items())) if options is not None else id(value)
        return value

    environ = sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_"))
    arguments = [plain(a) for a in args], sorted((k, plain(v)) for k, v in kwargs.items())
    return repr((arguments, environ))


class RefillableRetryQuota(quota.RetryQuota):
    """botocore's retry quota, with a way back to full (see the module docstring)."""

    def __init__(
        self, initial_capacity: int = quota.RetryQuota.INITIAL_CAPACITY, lock: Any = None
    ) -> None:
        super().__init__(initial_capacity, lock)
        self._initial_capacity = initial_capacity

    def refill(self) -> None:
        # ``release`` truncates at the bucket's capacity: this fills it, no more.
        self.release(self._initial_capacity)


class ReplaySession(boto3.Session):
    """The one boto3 session replays run on, hooked once, handing out reused clients.

    A new session costs ~50 ms; a new client ~3 ms plus ~2.5 ms more on its first
    call (endpoint resolution, handler caches) -- and a replay used to build four of
    them, ~20 ms of a ~100 ms warm replay. A botocore client holds no data between calls:
    requests go to moto's global state or the transport, both per replay; the one
    thing it counts, the standard-retry quota, is refilled at the start of every replay
    (see the module docstring). So an identical request for a client -- same
    arguments, same ``AWS_*`` environment -- gets the same client object back. The
    executor still cold-starts every replay (settings, graph and checkpointer are
    rebuilt); only the botocore plumbing underneath is shared.
    """

    def __init__(self) -> None:
        super().__init__()
        self.active: TransportLayer | None = None
        self.events.register_first("before-send", self._dispatch)
        # After the dispatcher: moto serves what the transport lets through, one at a time.
        moto_lock.serialize(self.events, observer=self._served)
        self._clients: dict[str, Any] = {}
        self._quotas: list[RefillableRetryQuota] = []
        self._configured: list[dict[str, Any]] = []
        self._clients_lock = threading.Lock()

    def _dispatch(self, **kwargs: Any) -> Any:
        return self.active.before_send(**kwargs) if self.active is not None else None

    def _served(self, request: Any, event_name: str, response: Any) -> None:
        if self.active is not None:
            self.active.served(request, event_name, response)

    @contextmanager
    def serving(self, transport: TransportLayer) -> Iterator[None]:
        """Route every request of this session's clients to ``transport``, and make
        this the default session (the executor builds its clients from it)."""
        previous_default = boto3.DEFAULT_SESSION
        with self._clients_lock:
            for bucket in self._quotas:
                bucket.refill()
            self._configured.clear()
        self.active = transport
        boto3.DEFAULT_SESSION = self
        try:
            yield
        finally:
            self.active = None
            boto3.DEFAULT_SESSION = previous_default

    def configured_clients(self) -> list[dict[str, Any]]:
        """The clients built with a ``config`` since this replay began serving: service,
        region and the options the code gave its ``Config``, each once, sorted. Clients
        the harness builds for itself pass no ``config`` and do not show."""
        with self._clients_lock:
            unique = {repr(sorted(r.items())): r for r in self._configured}
            return [unique[key] for key in sorted(unique)]

    def client(self, *args: Any, **kwargs: Any) -> Any:
        key = client_key(args, kwargs)
        config = kwargs.get("config")
        with self._clients_lock:
            if isinstance(config, Config) and self.active is not None:
                self._configured.append(
                    {
                        "service": kwargs.get("service_name", args[0] if args else None),
                        "region": kwargs.get("region_name"),
                        "config": dict(getattr(config, "_user_provided_options", {})),
                    }
                )
            client = self._clients.get(key)
            if client is None:
                if len(self._clients) >= _MAX_CLIENTS:  # keys that never repeat: start over
                    self._clients.clear()
                    self._quotas.clear()
                client = self._clients[key] = self._new_client(args, kwargs)
            return client

    def _new_client(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """A client whose standard-retry backoff draws :data:`BACKOFF_JITTER` and whose
        retry quota refills with every replay (see the module docstring); called under
        the clients lock."""
        backoff = partial(standard.ExponentialBackoff, random=BACKOFF_JITTER)

        def bucket(*a: Any, **kw: Any) -> RefillableRetryQuota:
            self._quotas.append(RefillableRetryQuota(*a, **kw))
            return self._quotas[-1]

        with (
            mock.patch.object(standard, "ExponentialBackoff", backoff),
            mock.patch.object(quota, "RetryQuota", bucket),
        ):
            return super().client(*args, **kwargs)


_process_session: ReplaySession | None = None


def replay_session() -> ReplaySession:
    """One session per process (see :class:`ReplaySession`)."""
    global _process_session
    if _process_session is None:
        _process_session = ReplaySession()
    return _process_session


@contextmanager
def captured_output() -> Iterator[io.StringIO]:
    """EMF metric lines (``print``), the executor's JSON logs and stray log records,
    kept off the terminal."""
    buffer = io.StringIO()
    handlers = [
        h for h in logging.getLogger(LAMBDA_LOGGER).handlers if isinstance(h, logging.StreamHandler)
    ]
    # Swap streams directly: ``setStream`` flushes the old stream first, and the
    # logger's stream may be a buffer a test framework has already closed.
    previous = []
    for handler in handlers:
        with handler.lock:
            previous.append(handler.stream)
            handler.stream = buffer
    try:
        with redirect_stdout(buffer), redirect_stderr(buffer):
            yield buffer
    finally:
        for handler, stream in zip(handlers, previous, strict=True):
            with handler.lock:
                handler.stream = sys.stdout if getattr(stream, "closed", False) else stream


__all__ = [
    "LAMBDA_LOGGER",
    "RefillableRetryQuota",
    "ReplaySession",
    "captured_output",
    "client_key",
    "replay_session",
]
