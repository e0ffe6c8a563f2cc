"""The process-level isolation one replay runs in: environment and network.

The executor reads its configuration from ``os.environ`` and builds its clients
from boto3's default session, so that is exactly what a replay controls: a clean
environment (fake credentials, the checkpoint table on moto, no endpoint overrides,
no profile) with the scenario's overrides on top, and no socket allowed to connect.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from unittest import mock

CHECKPOINT_TABLE = "opx-langgraph-checkpoints-replay"

#: What every replay starts from; a scenario's ``env`` is applied over it.
BASE_ENV: Mapping[str, str] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
    "USE_DYNAMODB_CHECKPOINTING": "true",
    "CHECKPOINT_TABLE_NAME": CHECKPOINT_TABLE,
    "AWS_LAMBDA_FUNCTION_NAME": "opx-executor-replay",
}
_DROPPED_PREFIXES = ("AWS_", "OPX_", "POWERTOOLS_", "CHECKPOINT_", "USE_DYNAMODB")


class NetworkBlockedError(ConnectionError):
    """A replay tried to open a socket: something escaped the transport."""


@contextmanager
def environment(overrides: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    try:
        for name in list(os.environ):
            if name.startswith(_DROPPED_PREFIXES):
                del os.environ[name]
        os.environ.update(BASE_ENV)
        os.environ.update(overrides)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _refuse(self: socket.socket, address: object, *args: object) -> None:
    raise NetworkBlockedError(f"replay attempted a network connection to {address!r}")


@contextmanager
def no_network() -> Iterator[None]:
    with (
        mock.patch.object(socket.socket, "connect", _refuse),
        mock.patch.object(socket.socket, "connect_ex", _refuse),
    ):
        yield


__all__ = ["BASE_ENV", "CHECKPOINT_TABLE", "NetworkBlockedError", "environment", "no_network"]
