"""The ``redrive`` kind: the dead-letter recovery path, replayed end to end.

:mod:`.kind` is the kind (what a replay seeds, runs and reports), :mod:`.invokes` the
transport layer that keeps SQS on moto and answers the executor's Lambda invokes, and
:mod:`.authoring` records a scenario from an author's recipe.
"""

from harness.kinds.redrive.kind import (
    MOTO_SEED,
    RedriveKind,
    RedriveReport,
    RedriveResult,
    message_body,
    queue_url,
)

__all__ = [
    "MOTO_SEED",
    "RedriveKind",
    "RedriveReport",
    "RedriveResult",
    "message_body",
    "queue_url",
]
