"""The pytest plugin (entry point ``pytest11: opx_harness``): scenarios become tests.

Every ``<scenarios>/<name>.json`` is collected as one test,
``test_replay_matches_snapshot[<name>]``, that replays the scenario and compares the
canonical result with ``<snapshots>/<name>.json`` through syrupy -- no test file is
needed in the project. The fixtures ``replay``, ``scenario``, ``frozen_clock`` and
``aws`` give a project's own tests the same machinery.

This module is loaded into every pytest run of an environment where the package is
installed, so it imports nothing heavy at import time: LangGraph, moto, time-machine
and syrupy are imported by the tests and fixtures that need them. Its syrupy
extension is :mod:`.snapshot`; :mod:`.locations` says where both find the scenario
and snapshot directories.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness.pytest_plugin.locations import (
    DIRECTORIES,
    TEST_NAME,
    Directories,
    directories,
    snapshot_directory,
)

if TYPE_CHECKING:
    import boto3
    from syrupy.assertion import SnapshotAssertion

    from harness.replayer import FrozenClock, ReplayResult
    from harness.scenario import Scenario

#: Where ``frozen_clock`` starts when neither a parameter nor a scenario says otherwise.
DEFAULT_CLOCK_START = datetime(2026, 1, 1, tzinfo=UTC)

ScenarioRef = Any  # a Scenario, a scenario name, or a path to a scenario file


# --------------------------------------------------------------------------- options


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("opx-harness", "opx replay harness")
    group.addoption(
        "--opx-scenarios",
        dest="opx_scenarios",
        metavar="DIR",
        default=None,
        help="scenario files to test (default: ini opx_scenarios, else <rootdir>/scenarios)",
    )
    group.addoption(
        "--opx-snapshots",
        dest="opx_snapshots",
        metavar="DIR",
        default=None,
        help="approved snapshots (default: ini opx_snapshots, else <rootdir>/snapshots)",
    )
    parser.addini(
        "opx_scenarios", "scenario directory, relative to the rootdir", default="scenarios"
    )
    parser.addini(
        "opx_snapshots", "snapshot directory, relative to the rootdir", default="snapshots"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[DIRECTORIES] = Directories(
        scenarios=_directory(config, "opx_scenarios"),
        snapshots=_directory(config, "opx_snapshots"),
    )
    scenarios = config.stash[DIRECTORIES].scenarios
    if _explicit(config, "opx_scenarios"):
        # A mistyped path would otherwise collect nothing: "no tests ran" in an empty
        # project, and in one with its own tests a green run with every scenario test
        # silently gone. The default stays quiet: a project that never configured the
        # plugin (it loads wherever the package is installed) has no scenarios.
        if not scenarios.is_dir():
            raise pytest.UsageError(
                f"opx-harness: scenario directory {_display(config, scenarios)} "
                "(--opx-scenarios / opx_scenarios) does not exist"
            )
        if not _scenario_files(scenarios):
            raise pytest.UsageError(
                f"opx-harness: scenario directory {_display(config, scenarios)} "
                "(--opx-scenarios / opx_scenarios) holds no scenario (*.json)"
            )


def _explicit(config: pytest.Config, name: str) -> bool:
    """Whether the user chose the directory: on the command line, with ``-o``, or in
    the ini file -- not the built-in default."""
    overrides = config.getoption("override_ini", None) or []
    return bool(
        config.getoption(name)
        or name in config.inicfg
        or any(entry.split("=", 1)[0].strip() == name for entry in overrides)
    )


def _scenario_files(directory: Path) -> list[Path]:
    """The files the plugin collects from ``directory`` (see ``pytest_collect_file``)."""
    try:
        return sorted(p for p in directory.iterdir() if p.suffix == ".json" and p.is_file())
    except OSError:
        return []


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Where scenarios come from and how many there are -- shown by the process that
    reports (also under xdist, whose workers collect but do not print)."""
    where = directories(config)
    files = _scenario_files(where.scenarios)
    if not files and not _explicit(config, "opx_scenarios"):
        return []
    return [
        f"opx-harness: {len(files)} scenario(s) in {_display(config, where.scenarios)}, "
        f"snapshots in {_display(config, where.snapshots)}"
    ]


def pytest_report_collectionfinish(
    config: pytest.Config, start_path: Path, items: list[pytest.Item]
) -> list[str]:
    """How many scenario tests this run collected (after ``-k``/``-m`` selection)."""
    selected = sum(1 for item in items if isinstance(item, ScenarioItem))
    total = len(_scenario_files(directories(config).scenarios))
    if not total:
        return []
    return [f"opx-harness: collected {selected} of {total} scenario test(s)"]


def _directory(config: pytest.Config, name: str) -> Path:
    """A command-line path is relative to where pytest was invoked (like any path
    argument), an ini value to the rootdir; neither follows symlinks, so reports
    print paths the way the user wrote them."""
    value = config.getoption(name)
    if value:
        return Path(os.path.normpath(config.invocation_params.dir / value))
    return Path(os.path.normpath(config.rootpath / str(config.getini(name))))


# --------------------------------------------------------------------------- collection


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    scenarios = directories(parent.config).scenarios
    if file_path.suffix == ".json" and _same_directory(file_path.parent, scenarios):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


def _same_directory(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


class ScenarioFile(pytest.File):
    """A scenario file; it holds exactly one test."""

    def collect(self) -> Iterator[pytest.Item]:
        item = ScenarioItem.from_parent(
            self,
            name=f"{TEST_NAME}[{self.path.stem}]",
            callobj=test_replay_matches_snapshot,
        )
        # Set after construction: pytest >= 9.2 builds the node id from
        # ``originalname`` when given, which would drop the ``[<name>]`` part.
        item.originalname = TEST_NAME
        yield item


class ScenarioItem(pytest.Function):
    """A real ``pytest.Function`` (syrupy tracks only those), run on a scenario file.

    The file is not parsed at collection: a broken scenario fails its own test with
    a one-line reason instead of aborting the whole session's collection.
    """

    @property
    def scenario_name(self) -> str:
        return self.path.stem

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.name


def test_replay_matches_snapshot(
    request: pytest.FixtureRequest, snapshot: SnapshotAssertion
) -> None:
    """The scenario replays to exactly its approved snapshot."""
    from harness.pytest_plugin.snapshot import ScenarioSnapshotExtension, mismatch_report

    item = request.node
    assertion = snapshot.use_extension(ScenarioSnapshotExtension)
    location = snapshot_directory(item) / f"{item.scenario_name}.json"
    try:
        replayed = _replay_item(item)
    except BaseException:
        _keep_snapshot(assertion, location)
        raise
    # The comparison is syrupy's assertion (``!=`` runs its ``__eq__``): it records the
    # snapshot as used and, under --snapshot-update, queues the write.
    if assertion != replayed:
        pytest.fail(mismatch_report(assertion, _display(item.config, location)), pytrace=False)


def _replay_item(item: ScenarioItem) -> str:
    from harness.replayer import replay
    from harness.wire import UnmatchedRequestError

    scenario = _load_scenario_item(item)
    try:
        return replay(scenario).to_canonical_json()
    except UnmatchedRequestError as exc:
        unmatched = exc
    # Outside the ``except``: the report is the whole story, not a chained traceback.
    pytest.fail(
        f"{unmatched.report()}\n(the executor sent a request this recording cannot answer: "
        "re-record or re-author the scenario if the change is intended)",
        pytrace=False,
    )


def _keep_snapshot(assertion: SnapshotAssertion, location: Path) -> None:
    """Claim the approved file when the scenario could not be replayed at all.

    syrupy counts a snapshot that no assertion touched as unused: a scenario broken
    by a prompt change would also report its snapshot as unused, and
    ``--snapshot-update`` would delete the very file the fix must be checked against.
    Asserting the approved text against itself marks it used and leaves it unchanged.
    """
    try:
        approved = location.read_text(encoding="utf-8")
    except OSError:
        return
    with contextlib.suppress(AssertionError):
        assertion.assert_match(approved)


def _load_scenario_item(item: ScenarioItem) -> Scenario:
    from harness.scenario import ScenarioError, load_scenario

    shown = _display(item.config, item.path)
    try:
        scenario = load_scenario(item.path)
    except ScenarioError as exc:
        pytest.fail(str(exc).replace(str(item.path), shown, 1), pytrace=False)
    if scenario.name != item.scenario_name:
        pytest.fail(
            f"{shown}: $.name: {scenario.name!r} must equal the file name "
            f"{item.scenario_name!r} (the snapshot is named after both)",
            pytrace=False,
        )
    return scenario


def _display(config: pytest.Config, path: Path) -> str:
    try:
        return str(path.relative_to(config.rootpath))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- fixtures


def _resolve(config: pytest.Config, ref: ScenarioRef) -> Scenario:
    """A Scenario as given; a bare name from the scenario directory; else a path."""
    from harness.scenario import Scenario, load_scenario

    if isinstance(ref, Scenario):
        return ref
    path = Path(ref)
    if path.suffix != ".json" and len(path.parts) == 1:
        path = directories(config).scenarios / f"{path.name}.json"
    return load_scenario(path)


@pytest.fixture
def replay(request: pytest.FixtureRequest) -> Callable[[ScenarioRef], ReplayResult]:
    """``harness.replay``, also accepting a scenario name or a file path."""
    if "aws" in request.fixturenames:
        # Both would run on one moto backend: the replay's "fresh" state would hold
        # whatever the test put there, and its checkpoint table would already exist.
        pytest.fail(
            "`replay` brings its own fresh moto state: do not combine it with `aws`",
            pytrace=False,
        )
    from harness.replayer import replay as run

    config = request.config

    def replay_(scenario: ScenarioRef) -> ReplayResult:
        return run(_resolve(config, scenario))

    return replay_


@pytest.fixture
def scenario(request: pytest.FixtureRequest) -> Scenario:
    """A loaded scenario, chosen by indirect parametrization::

    @pytest.mark.parametrize("scenario", ["api-5xx-after-deploy"], indirect=True)
    """
    ref = getattr(request, "param", None)
    if ref is None:
        pytest.fail(
            "the `scenario` fixture needs a scenario: "
            '@pytest.mark.parametrize("scenario", ["<name>"], indirect=True)',
            pytrace=False,
        )
    return _resolve(request.config, ref)


@pytest.fixture
def frozen_clock(request: pytest.FixtureRequest) -> Iterator[FrozenClock]:
    """The replay's frozen clock, running for the test.

    Starts at the indirect parameter (a datetime or ISO 8601 string with offset),
    else at the start of the test's ``scenario``, else at ``DEFAULT_CLOCK_START``.
    ``time.sleep`` advances it instead of waiting.
    """
    from harness.replayer import FrozenClock

    _import_executor()
    start = getattr(request, "param", None)
    if start is None and "scenario" in request.fixturenames:
        start = request.getfixturevalue("scenario").clock.start
    if isinstance(start, str):
        start = datetime.fromisoformat(start)
    start = start or DEFAULT_CLOCK_START
    if start.tzinfo is None:
        pytest.fail(f"frozen_clock needs an aware datetime, got {start!r}", pytrace=False)
    clock = FrozenClock(start)
    with clock.running():
        yield clock


def _import_executor() -> None:
    """Import the executor's dependency tree before any clock is frozen, so a test
    asking for ``frozen_clock`` before ``replay`` does not time (or stamp) the
    imports with the frozen clock.
    """
    import harness.replayer  # noqa: F401
    import opx.lambda_handler  # noqa: F401


@dataclass(frozen=True)
class AwsEnvironment:
    """What ``aws`` yields: boto3 on moto, configured the way a replay is."""

    session: boto3.Session
    checkpoint_table: str
    region: str

    def client(self, service: str, **kwargs: Any) -> Any:
        return self.session.client(service, **kwargs)


@pytest.fixture
def aws() -> Iterator[AwsEnvironment]:
    """The executor's AWS on moto: the replay's clean environment (fake credentials,
    us-east-1, checkpointing on), the DynamoDB checkpoint table created, no network.

    ``boto3.client(...)`` and the executor's own clients land on moto too. Not needed
    around ``replay``, which builds its own.
    """
    import boto3
    from moto import mock_aws

    from harness.replayer import BASE_ENV, CHECKPOINT_TABLE, environment, moto_lock, no_network
    from opx.checkpointing import create_table
    from opx.lambda_handler import cold_start

    previous = boto3.DEFAULT_SESSION
    with environment({}), mock_aws(), no_network():
        session = boto3.Session()
        moto_lock.serialize(session.events)
        boto3.DEFAULT_SESSION = session
        try:
            create_table(session.client("dynamodb"), CHECKPOINT_TABLE)
            cold_start()
            yield AwsEnvironment(session, CHECKPOINT_TABLE, BASE_ENV["AWS_REGION"])
        finally:
            cold_start()
            boto3.DEFAULT_SESSION = previous
