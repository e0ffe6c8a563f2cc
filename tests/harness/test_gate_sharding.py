"""``--shard I/N``: N machines together judge every scenario exactly once, in shards
whose sizes differ by at most one, whatever order the files were listed in."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.gate.sharding import WHOLE, Shard, parse_shard

NAMES = st.lists(st.from_regex(r"[a-z0-9][a-z0-9-]{0,30}", fullmatch=True), max_size=60)


@given(names=NAMES, count=st.integers(1, 9))
def test_shards_partition_the_set_and_are_balanced(names: list[str], count: int) -> None:
    shards = [Shard(index, count).select(names) for index in range(1, count + 1)]
    union = [name for shard in shards for name in shard]
    assert sorted(union) == sorted(set(names))  # every name, and none twice
    sizes = [len(shard) for shard in shards]
    assert max(sizes) - min(sizes) <= 1


@given(names=NAMES, count=st.integers(1, 9), data=st.data())
def test_a_shard_does_not_depend_on_the_listing_order(
    names: list[str], count: int, data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(names))
    index = data.draw(st.integers(1, count))
    assert Shard(index, count).select(shuffled) == Shard(index, count).select(names)


def test_the_whole_set_is_one_shard() -> None:
    assert WHOLE.select(["b", "a", "b"]) == ["a", "b"]
    assert str(WHOLE) == "1/1"


@pytest.mark.parametrize(
    ("text", "shard"), [("1/4", Shard(1, 4)), (" 4 / 4 ", Shard(4, 4)), ("1/1", WHOLE)]
)
def test_parse_shard(text: str, shard: Shard) -> None:
    assert parse_shard(text) == shard


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0/4", "--shard '0/4': shard 0/4: need 1 <= I <= N"),
        ("5/4", "--shard '5/4': shard 5/4: need 1 <= I <= N"),
        ("1/0", "--shard '1/0': shard 1/0: need 1 <= I <= N"),
        ("1-4", "--shard '1-4': expected I/N, e.g. 1/4"),
        ("", "--shard '': expected I/N, e.g. 1/4"),
    ],
)
def test_parse_shard_rejects_with_a_readable_message(text: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_shard(text)
    assert str(raised.value) == message
