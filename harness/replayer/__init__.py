"""Replaying a scenario: the template (:class:`Replayer`), its environment and result.

:mod:`.replayer` runs one scenario with its kind filling the steps; :mod:`.sandbox`
isolates the environment and network, :mod:`.clock` freezes time, :mod:`.session`
shares the botocore plumbing across replays, :mod:`.checkpoints` reads an
execution's checkpoints back, :mod:`.result` is the base of every kind's result.
"""

from harness.replayer import moto_state
from harness.replayer.checkpoints import (
    checkpoint_trail,
    execution_id_of,
    incident_index,
    read_checkpoints,
    replay_saver,
    table_items,
)
from harness.replayer.clock import BACKOFF_JITTER, FIXED_JITTER, BackoffJitter, FrozenClock
from harness.replayer.core import (
    Delivery,
    ReplayEnvironment,
    Replayer,
    SourceFactory,
    replay,
)
from harness.replayer.result import LambdaContext, ReplayResult
from harness.replayer.sandbox import (
    BASE_ENV,
    CHECKPOINT_TABLE,
    NetworkBlockedError,
    environment,
    no_network,
)
from harness.replayer.session import captured_output
from harness.replayer.written import UnreadableWriteError, UnsupportedReadError, WrittenItems

__all__ = [
    "BACKOFF_JITTER",
    "BASE_ENV",
    "CHECKPOINT_TABLE",
    "FIXED_JITTER",
    "BackoffJitter",
    "Delivery",
    "FrozenClock",
    "LambdaContext",
    "NetworkBlockedError",
    "ReplayEnvironment",
    "ReplayResult",
    "Replayer",
    "SourceFactory",
    "UnreadableWriteError",
    "UnsupportedReadError",
    "WrittenItems",
    "captured_output",
    "checkpoint_trail",
    "environment",
    "execution_id_of",
    "incident_index",
    "moto_state",
    "no_network",
    "read_checkpoints",
    "replay",
    "replay_saver",
    "table_items",
]
