"""Every item the code under replay left in the checkpoint table, in a comparable form.

The checkpoint trail (:mod:`.checkpoints`) reads the table back through the
executor's own saver, so it sees what LangGraph sees -- and nothing the saver does
not hand back: ``ttl`` (DynamoDB deletes expired items), the ``incident_id`` /
``created_at`` attributes the ``incident-id-index`` GSI (and ``opx-harness import``)
depends on, ``parent_cid``, the chunking of large payloads. A wrong TTL or a dropped
index attribute would leave every snapshot byte-identical. So the result also holds
a *scan* of the table: every item, every attribute, read with a plain DynamoDB
client (not the saver, so a saver bug cannot hide its own output).

Volatile values are made stable, never dropped:

* checkpoint ids (uuid6) become the trail's ordinal aliases (``checkpoint-3``) and
  task ids (derived from them) the task's path, which LangGraph derives from the node;
* epoch-second numbers (``ttl``, any ``N`` between 2001 and 2286) and ISO timestamps
  are written relative to the scenario clock (``clock.start+30d+7s``), so a TTL a
  day off, or a timestamp from the wrong clock, is a visible difference;
* binary payloads are shown by length and field tags; what they hold is pinned,
  decoded, by the trail (state and pending-write digests, metadata).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from harness import canonical

#: ``N`` values in this range are epoch seconds (2001-09-09 .. 2286-11-20).
EPOCH_RANGE = (1_000_000_000, 10_000_000_000)
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)$")
SEPARATOR = "#"
SECONDS_PER_DAY = 86_400


def relative_time(seconds: float) -> str:
    """An offset from the scenario clock: ``clock.start+30d+7s``, ``clock.start+17.1s``."""
    sign = "-" if seconds < 0 else "+"
    magnitude = abs(seconds)
    days, rest = divmod(magnitude, SECONDS_PER_DAY)
    rest_text = f"{round(rest, 6):g}s"
    if days:
        return f"clock.start{sign}{int(days)}d+{rest_text}"
    return f"clock.start{sign}{rest_text}"


def _epoch_number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if EPOCH_RANGE[0] <= value < EPOCH_RANGE[1] else None


def _iso_time(text: str) -> datetime | None:
    if not _ISO.match(text):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


class ItemReader:
    """Turns raw table items into canonical ones (see the module docstring).

    ``checkpoints`` is the trail's alias map, so an item and the trail name the same
    checkpoint alike, and ``times`` the trail's checkpoint times by alias; ``fields``
    opens a sealed payload into its typed fields (or
    ``None``): a write item's first field is its task path.
    """

    def __init__(
        self,
        start: datetime,
        end: datetime,
        checkpoints: canonical.Aliases,
        times: dict[str, str],
        fields: Callable[[bytes], list[tuple[str, bytes]] | None],
    ) -> None:
        self.start = start.timestamp()
        self.end = end.timestamp() - self.start
        self.checkpoints = checkpoints
        self.times = times
        self.fields = fields
        self.volatile: dict[bytes, bytes] = {}

    def _checkpoint(self, cid: str) -> str:
        alias = self.checkpoints(cid) or cid
        self.volatile[cid.encode()] = alias.encode()
        return alias

    def sort_key(self, raw: str, payload: bytes | None) -> str:
        """The sort key with checkpoint ids and task ids replaced by stable names."""
        parts = raw.split(SEPARATOR)
        if len(parts) >= 2 and parts[1]:
            parts[1] = self._checkpoint(parts[1])
        if len(parts) >= 4 and parts[2] == "w":
            task = parts[3]
            fields = self.fields(payload) if payload is not None else None
            path = fields[0][1].decode() if fields and fields[0][0] == "text" else None
            if path is not None:
                name = f"task[{path}]"
                self.volatile[task.encode()] = name.encode()
                parts[3] = name
            elif task.encode() in self.volatile:
                parts[3] = self.volatile[task.encode()].decode()
        return SEPARATOR.join(parts)

    def value(
        self, name: str, typed: dict[str, Any], window: tuple[str, float, float] | None = None
    ) -> Any:
        """One attribute, typed as DynamoDB stores it, made stable.

        ``window`` is, for an item of a checkpoint, a label and the time span from that
        checkpoint to the one after next: parallel branches finish in any order and
        LangGraph writes from background threads (an item may land while the next
        step runs), so only "within that span" is deterministic; whole days are exact.
        """
        ((kind, value),) = typed.items()
        if kind == "N":
            epoch = _epoch_number(value)
            if epoch is None:
                return {"N": value}
            offset = epoch - self.start
            if window is not None:
                alias, low, high = window
                days = (offset - math.floor(low)) // SECONDS_PER_DAY
                # ``ttl`` is whole seconds: int(time.time()) may fall below ``created_at``.
                if math.floor(low) <= offset - days * SECONDS_PER_DAY <= high:
                    sign = "-" if days < 0 else "+"
                    return {"N": f"clock.start{sign}{abs(int(days))}d+(between {alias})"}
            return {"N": relative_time(offset)}
        if kind == "S":
            moment = _iso_time(value)
            if moment is not None and moment.tzinfo is not None:
                return {"S": relative_time(moment.timestamp() - self.start)}
            if name == "parent_cid":
                return {"S": self._checkpoint(value)}
            return {"S": value}
        if kind == "B":
            return {"B": self.payload(bytes(value))}
        return canonical.plain({kind: value})

    def payload(self, blob: bytes) -> dict[str, Any]:
        """A payload's size and field tags. Its content is pinned by the trail (state,
        metadata and pending-write digests, decoded); its bytes embed uuid6 ids and
        msgpack maps LangGraph fills in completion order, so they are not stable."""
        fields = self.fields(blob)
        shown: dict[str, Any] = {"bytes": len(blob)}
        if fields is not None:
            shown["fields"] = [tag for tag, _ in fields]
        return shown

    def items(self, raw_items: Iterable[dict[str, dict[str, Any]]], pk: str, sk: str) -> list[Any]:
        """Canonical items, ordered by partition, checkpoint ordinal and sort key."""
        # uuid6 checkpoint ids sort by time, and an owner's key sorts before its chunks'.
        ordered = sorted(raw_items, key=lambda item: (str(item[pk]), item[sk]["S"]))
        blobs = {
            (str(item[pk]), item[sk]["S"]): bytes(item["payload"]["B"])
            for item in ordered
            if "B" in item.get("payload", {})
        }
        keyed = []
        # Keys first (heads name every checkpoint and writes every task), then values.
        for item in ordered:
            raw_key = item[sk]["S"]
            blob = blobs.get((str(item[pk]), raw_key))
            if blob is None and "chunks" in item:  # reassemble: the task path is inside
                prefix = f"{raw_key}{SEPARATOR}c"
                blob = b"".join(
                    piece
                    for (partition, key), piece in sorted(blobs.items())
                    if partition == str(item[pk]) and key.startswith(prefix)
                )
            keyed.append((self.sort_key(raw_key, blob), item))
        decoded = []
        windows = self._windows(keyed, pk, sk)
        for key, item in keyed:
            parts = key.split(SEPARATOR)
            window = windows.get((str(item[pk]), parts[1])) if len(parts) > 1 else None
            attributes = {
                name: self.value(name, typed, window)
                for name, typed in sorted(item.items())
                if name != sk
            }
            attributes[sk] = {"S": key}
            decoded.append(attributes)

        def order(item: dict[str, Any]) -> tuple[Any, ...]:
            parts = item[sk]["S"].split(SEPARATOR)
            match = re.fullmatch(r"checkpoint-(\d+)", parts[1]) if len(parts) > 1 else None
            return (canonical.dumps(item.get(pk)), int(match.group(1)) if match else -1, parts)

        return sorted(decoded, key=order)

    def _windows(
        self, keyed: list[tuple[str, dict[str, Any]]], pk: str, sk: str
    ) -> dict[tuple[str, str], tuple[str, float, float]]:
        """Per checkpoint: its time and that of the checkpoint after next.

        Times are LangGraph's (the trail's ``ts``), not the items' ``created_at``: a
        wrong ``created_at`` must show as itself, not move every window.
        """
        heads: dict[str, list[tuple[float, str]]] = {}
        for key, item in keyed:
            parts = key.split(SEPARATOR)
            moment = _iso_time(self.times.get(parts[1], "")) if len(parts) == 2 else None
            if moment is not None and moment.tzinfo is not None:
                offset = moment.timestamp() - self.start
                heads.setdefault(str(item[pk]), []).append((offset, parts[1]))
        windows = {}
        for partition, entries in heads.items():
            entries.sort()
            for n, (offset, alias) in enumerate(entries):
                # Writes of the step from checkpoint k are put by background threads
                # and may land while the step after it runs: up to checkpoint k+2.
                later = entries[n + 2] if n + 2 < len(entries) else None
                end = later[0] if later is not None else self.end
                label = f"{alias}..{later[1] if later is not None else 'end'}"
                windows[(partition, alias)] = (label, offset, end)
        return windows


__all__ = ["EPOCH_RANGE", "ItemReader", "relative_time"]
