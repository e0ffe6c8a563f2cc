"""moto, one request at a time.

moto's in-memory backends are not thread-safe: DynamoDB's ``TransactWriteItems``
deep-copies a table while another thread's ``PutItem`` inserts into it
(``RuntimeError: dictionary changed size during iteration``). The executor's
checkpointer writes from LangGraph's background threads, so a replay (or a
``record``/``import`` on the embedded table) can hit that race and report an error
or a false nondeterminism.

:func:`serialize` registers one more ``before-send`` handler on a session's (or a
client's) botocore event emitter. It runs moto's own handler -- the one moto adds to
every session through ``botocore.handlers.BUILTIN_HANDLERS`` -- under a process-wide
lock, and unregisters the builtin copy of that handler from the emitter. A request
moto answered is also readdressed to an ``.invalid`` host, which moto leaves alone
(the transport keeps moto off the requests it answers the same way), so even a
builtin copy this could not remove would not execute it twice. What is sent is
unchanged; moto serves it atomically, as DynamoDB itself would. Only moto's work is
under the lock: the transport answers Bedrock before, botocore parses after.

It must come after any handler that answers requests itself (the transport, the
recorder): ``register_first`` after theirs puts it right behind them. The one moto
internal this relies on, ``moto.core.models.botocore_stubber``, is imported here and
nowhere else; ``tests/harness/test_moto_lock.py`` fails if a moto upgrade moves it.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.core.models import botocore_stubber

#: Held while moto serves one request (re-entrant: a moto backend calling back
#: into botocore on the same thread must not deadlock).
LOCK = threading.RLock()
#: Where a request moto answered is readdressed (``.invalid`` never resolves).
SERVED_URL = "https://served-by-moto.invalid/"
_UNIQUE_ID = "harness.replayer.moto_lock"

#: Told of every request moto served and moto's response, under :data:`LOCK` -- so in
#: the order moto applied them (a replay keeps what the executor wrote this way).
Observer = Callable[[Any, str, Any], None]


def _serve(observer: Observer | None, request: Any, event_name: str, **kwargs: Any) -> Any:
    with LOCK:
        response = botocore_stubber(event_name=event_name, request=request, **kwargs)
        if response is not None and observer is not None:
            observer(request, event_name, response)
    if response is not None:
        request.url = SERVED_URL
    return response


def serialize(events: Any, observer: Observer | None = None) -> None:
    """Serve every request sent through ``events`` (``boto3.Session().events``,
    ``client.meta.events``) that moto answers under :data:`LOCK`. Idempotent (the
    first registration's ``observer`` stays)."""
    handler = functools.partial(_serve, observer)
    events.register_first("before-send", handler, unique_id=_UNIQUE_ID)
    # The builtin copy would only look again at a URL it cannot serve (~25 us of
    # pattern matching per request); the readdress above keeps things right if a
    # moto upgrade registers it in a way this does not remove.
    events.unregister("before-send", botocore_stubber)


__all__ = ["LOCK", "SERVED_URL", "Observer", "serialize"]
