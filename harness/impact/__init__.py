"""What a change does to behaviour, scenario by scenario: the roll-up a reviewer reads
before any diff (the gate's reports and the refresh command's impact report).

:mod:`.behaviour` compares what a scenario's kind says matters between two canonical
results; :mod:`.report` renders the roll-up as a table.
"""

from harness.impact.behaviour import (
    HEADLINE_FIELD,
    BehaviourChange,
    behaviour_of,
    compare_behaviour,
    first_by_impact,
)
from harness.impact.report import COLUMNS, Row, markdown_table, no_result, rows_of, text_table

__all__ = [
    "COLUMNS",
    "HEADLINE_FIELD",
    "BehaviourChange",
    "Row",
    "behaviour_of",
    "compare_behaviour",
    "first_by_impact",
    "markdown_table",
    "no_result",
    "rows_of",
    "text_table",
]
