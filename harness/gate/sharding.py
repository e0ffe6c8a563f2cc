"""Splitting scenarios across CI machines: ``--shard I/N``.

N machines must together judge every scenario exactly once, whatever order each
machine's filesystem lists the files in, and none may get much more work than the
others. So names are ordered by the SHA-256 of the name (a property of the name,
not of its position in a listing) and dealt round-robin: shard sizes differ by at
most one, and a machine's share does not depend on how the directory was listed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count``, 1-based like a CI matrix (``1/4`` ... ``4/4``)."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 1 <= self.index <= self.count:
            raise ValueError(f"shard {self.index}/{self.count}: need 1 <= I <= N")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def select(self, names: Iterable[str]) -> list[str]:
        """This shard's names, sorted."""
        ordered = sorted(set(names), key=lambda name: (_key(name), name))
        return sorted(ordered[self.index - 1 :: self.count])


#: The whole set as one shard: what the gate judges without ``--shard``.
WHOLE = Shard(1, 1)


def parse_shard(text: str) -> Shard:
    """``"2/4"`` -> ``Shard(2, 4)``; ``ValueError`` with a readable message otherwise."""
    match = _SHARD.match(text)
    if match is None:
        raise ValueError(f"--shard {text!r}: expected I/N, e.g. 1/4")
    try:
        return Shard(int(match.group(1)), int(match.group(2)))
    except ValueError as exc:
        raise ValueError(f"--shard {text!r}: {exc}") from None


def _key(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8")).hexdigest()


__all__ = ["WHOLE", "Shard", "parse_shard"]
