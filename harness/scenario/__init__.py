"""The scenario file format: one recorded incident, readable and hand-editable.

:mod:`.model` holds the pydantic models (the JSON Schema ``opx-harness schema``
prints), :mod:`.loading` reads files with one-line errors.
"""

from harness.scenario.loading import (
    ScenarioError,
    discover,
    error_line,
    json_path,
    json_schema,
    load_scenario,
)
from harness.scenario.model import (
    KIND_FIELDS,
    NETWORK_ERRORS,
    SCHEMA_VERSION,
    SETUP_SERVICE_IDS,
    Answer,
    AttributeValue,
    ChunkEvent,
    Clock,
    ErrorAnswer,
    EventStreamAnswer,
    ExceptionEvent,
    Fault,
    HttpAnswer,
    Interaction,
    Provenance,
    Scenario,
    SetupCall,
    StreamError,
    StreamEvent,
    TableItem,
    TraceEvent,
)

__all__ = [
    "KIND_FIELDS",
    "NETWORK_ERRORS",
    "SCHEMA_VERSION",
    "SETUP_SERVICE_IDS",
    "Answer",
    "AttributeValue",
    "ChunkEvent",
    "Clock",
    "ErrorAnswer",
    "EventStreamAnswer",
    "ExceptionEvent",
    "Fault",
    "HttpAnswer",
    "Interaction",
    "Provenance",
    "Scenario",
    "ScenarioError",
    "SetupCall",
    "StreamError",
    "StreamEvent",
    "TableItem",
    "TraceEvent",
    "discover",
    "error_line",
    "json_path",
    "json_schema",
    "load_scenario",
]
