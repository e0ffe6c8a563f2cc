from __future__ import annotations

import hashlib
import json
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from harness import canonical

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=4), c, max_size=4),
    max_leaves=30,
)


@given(JSON)
def test_plain_json_is_unchanged_and_dumps_is_key_order_independent(value: object) -> None:
    assert canonical.plain(value) == value
    if isinstance(value, dict):
        reordered = dict(reversed(list(value.items())))
        assert canonical.dumps(reordered) == canonical.dumps(value)


def test_decimals_tuples_and_sets_become_json() -> None:
    assert canonical.plain({"a": (Decimal("0.10"), {3, 1})}) == {"a": ["0.10", [1, 3]]}


def test_large_lists_and_strings_are_elided_by_digest_inside_open_mappings() -> None:
    lines = [f"line {n}" for n in range(10)]
    state = {"incident": {"evidence": {"logs": lines, "id": "d-1"}, "title": "t"}}

    elided = canonical.elide_large(state, limit=40)

    text = json.dumps(lines, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert elided == {
        "incident": {
            "evidence": {
                "logs": {
                    "elided": {
                        "chars": len(text),
                        "sha256": hashlib.sha256(text.encode()).hexdigest(),
                    }
                },
                "id": "d-1",
            },
            "title": "t",
        }
    }
    assert canonical.elide_large(state, limit=10_000) == state


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(_json_values, _json_values)
def test_compact_and_indented_forms_agree_on_equality(a: object, b: object) -> None:
    """Replays are compared by the compact form (``ReplayResult.to_compact_json``),
    snapshots hold the indented one: the two must never disagree on "same"."""
    assert (canonical.dumps(a) == canonical.dumps(b)) == (
        canonical.pretty(a) == canonical.pretty(b)
    )
    assert canonical.dumps(a) == canonical.dumps(json.loads(canonical.pretty(a)))
