"""Test-wide safety: fake credentials and a fixed region, so no test can reach a
real AWS account even by accident, and nothing depends on the developer's profile."""

from __future__ import annotations

import os

import pytest

_FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def pytest_configure(config: pytest.Config) -> None:
    os.environ.update(_FAKE_AWS_ENV)
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        os.environ.pop(name, None)
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull


def pytest_sessionstart(session: pytest.Session) -> None:
    # Safety net: a Bedrock call that no test hook answers goes to a closed loopback
    # port and fails at once, instead of leaving the machine.
    os.environ["AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME"] = "http://127.0.0.1:9"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``slow`` first, the rest in collection order: with ``-n 2`` a
    two-minute test collected last (the add-a-scenario guide, ``author --check``) ran on
    one worker while the other sat idle, and that tail set the suite's wall time.
    Every xdist worker sorts the same collection the same way, as xdist requires."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
