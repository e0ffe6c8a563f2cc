"""Capturing scenarios from production: ``record`` (a live run) and ``import`` (the
checkpoint table), scrubbed and verified before anything is written.

:mod:`.pipeline` is the verify-scrub-verify pipeline both commands share,
:mod:`.live` runs the handler against live AWS with :mod:`.recorder` on the wire,
:mod:`.rederive` rebuilds requests for a scrubbed event, :mod:`.scrub` redacts.
"""

from harness.capture.pipeline import (
    Capture,
    CaptureError,
    import_execution,
    record,
    save,
    stored_answers,
)
from harness.capture.scrub import Pattern, Redactions, Scrubber, ScrubConfigError, load_scrub_config

__all__ = [
    "Capture",
    "CaptureError",
    "Pattern",
    "Redactions",
    "ScrubConfigError",
    "Scrubber",
    "import_execution",
    "load_scrub_config",
    "record",
    "save",
    "stored_answers",
]
