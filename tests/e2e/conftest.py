from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.fake_bedrock import FakeBedrock, install


@pytest.fixture
def bedrock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBedrock]:
    monkeypatch.setenv("USE_DYNAMODB_CHECKPOINTING", "false")
    yield from install(FakeBedrock())
