"""Parameter types every action group shares: strict models, UTC windows, lists.

An agent fills parameters from a model's guess, so every value is checked before AWS
sees it: unknown names are rejected (a schema/handler mismatch shows up as a 400, not
as a silently ignored filter), times must carry an offset and are normalized to UTC,
and a window must be ordered, bounded in span, not in the future and not older than
the data the service keeps. "Now" is ``datetime.now(timezone.utc)``, which a replay
freezes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationInfo,
    field_validator,
)
from pydantic.alias_generators import to_camel

#: How far past "now" an end time may reach (clock skew between agent and Lambda).
CLOCK_SKEW = timedelta(minutes=5)


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


#: An ISO 8601 time with an offset (``Z`` or ``+02:00``), normalized to UTC.
UtcDateTime = Annotated[AwareDatetime, AfterValidator(_to_utc)]


def parse_list(value: Any) -> Any:
    """A list parameter as agents send it: a JSON array, ``[a, b]`` or ``a,b``."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        try:
            decoded = json.loads(text)
        except ValueError:
            text = text[1:-1] if text.endswith("]") else text[1:]
        else:
            return decoded
    return [part.strip().strip("\"'") for part in text.split(",") if part.strip()]


#: A list of strings from any of the forms :func:`parse_list` reads.
StringList = Annotated[list[str], BeforeValidator(parse_list)]


def iso(value: datetime) -> str:
    """A time as the answer shows it: UTC, seconds, ``Z``."""
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def span_text(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


class Params(BaseModel):
    """Parameters of one operation: camelCase names as the schema spells them,
    nothing unknown, whitespace stripped."""

    model_config = ConfigDict(
        alias_generator=to_camel, extra="forbid", frozen=True, str_strip_whitespace=True
    )


class Window(Params):
    """``startTime``/``endTime``: ordered, at most ``MAX_SPAN`` long, not in the
    future, starting no earlier than ``MAX_AGE`` ago (the service's retention)."""

    MAX_SPAN: ClassVar[timedelta]
    MAX_AGE: ClassVar[timedelta]

    start_time: UtcDateTime
    end_time: UtcDateTime

    @field_validator("start_time")
    @classmethod
    def _recent_enough(cls, start: datetime) -> datetime:
        oldest = datetime.now(UTC) - cls.MAX_AGE
        if start < oldest:
            limit = span_text(cls.MAX_AGE)
            raise ValueError(f"must be within the last {limit} (after {iso(oldest)})")
        return start

    @field_validator("end_time")
    @classmethod
    def _ordered_and_bounded(cls, end: datetime, info: ValidationInfo) -> datetime:
        latest = datetime.now(UTC) + CLOCK_SKEW
        if end > latest:
            raise ValueError(f"is in the future (now is {iso(datetime.now(UTC))})")
        start = info.data.get("start_time")
        if start is None:
            return end
        if end <= start:
            raise ValueError("must be after startTime")
        if end - start > cls.MAX_SPAN:
            raise ValueError(f"the window may span at most {span_text(cls.MAX_SPAN)}")
        return end

    @property
    def span(self) -> timedelta:
        return self.end_time - self.start_time
