"""``opx-harness`` (also ``python -m harness``): replay, judge, record and import scenarios.

:mod:`.main` assembles the commands each module adds: :mod:`.scenarios` (replay,
list, schema), :mod:`.gate`, :mod:`.capture` (record, import), :mod:`.author`
(scenario specs); :mod:`.output` holds the exit codes and output helpers they share.
"""

from harness.cli.main import main
from harness.cli.output import EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, EXIT_UNMATCHED

__all__ = ["EXIT_INPUT", "EXIT_INTERNAL", "EXIT_OK", "EXIT_UNMATCHED", "main"]
