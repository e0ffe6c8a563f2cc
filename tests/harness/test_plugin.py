"""The pytest plugin, black-box: pytest runs in a separate process on a throwaway
project holding only ``scenarios/`` and ``snapshots/`` (no test file), exactly as a
user's project would.

Runs are subprocesses on purpose: syrupy keeps its session in module globals, so a
nested in-process run would corrupt the outer run's snapshot bookkeeping.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.scenario import Scenario

# The scenarios tests/harness/conftest.py authors.
AGREED = "rollback-agreed"
THROTTLED = "throttled-then-ok"
ORIGINAL_HYPOTHESIS = "response-strategy: deploy d-ABC123 broke checkout"
EDITED_HYPOTHESIS = "Hand-edited: the CDN, not the deploy"


@pytest.fixture(autouse=True)
def _isolated_from_outer_xdist(monkeypatch: pytest.MonkeyPatch) -> None:
    """syrupy detects an xdist worker from the environment; when this suite itself
    runs under ``-n``, the inner pytest would otherwise believe it is a worker too
    and skip its snapshot report."""
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)


def _project(
    pytester: pytest.Pytester,
    scenarios: dict[str, str],
    snapshots: dict[str, str],
    *,
    ini: str = "",
    scenario_dir: str = "scenarios",
    snapshot_dir: str = "snapshots",
) -> Path:
    pytester.makeini(f"[pytest]\n{ini}")
    for directory, files in ((scenario_dir, scenarios), (snapshot_dir, snapshots)):
        (pytester.path / directory).mkdir(exist_ok=True)
        for name, text in files.items():
            (pytester.path / directory / name).write_text(text, encoding="utf-8")
    return pytester.path


def _files(authored: dict[str, Scenario], *names: str) -> dict[str, str]:
    return {f"{name}.json": authored[name].to_json() for name in names}


def _snapshots(approved: dict[str, str], *names: str) -> dict[str, str]:
    return {f"{name}.json": approved[name] for name in names}


#: Plugins this environment happens to have that cost ~1.7 s of start-up per run and
#: play no part here; blocking a plugin that is not installed is harmless.
UNRELATED_PLUGINS = ("hypothesispytest", "benchmark", "langsmith_plugin", "anyio", "cacheprovider")


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """pytest in a fresh process. ``--assert=plain``: the plugin reports through
    ``pytest.fail``, not assertion rewriting, and rewriting every module of every
    plugin distribution costs ~1.2 s per run when bytecode caching is off."""
    blocked = [arg for name in UNRELATED_PLUGINS for arg in ("-p", f"no:{name}")]
    return pytester.runpytest_subprocess(*blocked, "--assert=plain", "-rA", *args, timeout=300)


def _node(name: str, directory: str = "scenarios") -> str:
    """A scenario's test id, as an fnmatch pattern (brackets escaped)."""
    return _literal(f"{directory}/{name}.json::test_replay_matches_snapshot[{name}]")


def _literal(text: str) -> str:
    return re.sub(r"([\[\]*?])", r"[\1]", text)


# --------------------------------------------------------------------------- approval


def test_update_writes_one_readable_file_per_scenario(
    pytester: pytest.Pytester, authored: dict[str, Scenario], approved: dict[str, str]
) -> None:
    root = _project(
        pytester,
        _files(authored, AGREED, THROTTLED),
        {f"{AGREED}.json": "{}\n", "README.md": "Approved replays; review diffs here.\n"},
    )
    updated = _run(pytester, "--snapshot-update", "-v")
    updated.assert_outcomes(passed=2)
    updated.stdout.fnmatch_lines(["*1 snapshot generated. 1 snapshot updated.*"])
    snapshots = root / "snapshots"
    assert sorted(p.name for p in snapshots.iterdir()) == sorted(
        ["README.md", f"{AGREED}.json", f"{THROTTLED}.json"]
    )
    for name in (AGREED, THROTTLED):
        # Byte for byte what `opx-harness replay --json` prints (see test_cli).
        assert (snapshots / f"{name}.json").read_bytes() == approved[name].encode("utf-8")
    assert json.loads(approved[AGREED])["scenario"] == AGREED


def test_an_orphaned_snapshot_fails_the_run_until_update_deletes_it(
    pytester: pytest.Pytester, authored: dict[str, Scenario], approved: dict[str, str]
) -> None:
    root = _project(
        pytester,
        _files(authored, AGREED),
        {**_snapshots(approved, AGREED), "retired-scenario.json": approved[THROTTLED]},
    )
    result = _run(pytester)
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*1 snapshot passed. 1 snapshot unused.*"])

    cleaned = _run(pytester, "--snapshot-update")
    assert cleaned.ret == 0
    cleaned.stdout.fnmatch_lines(["*1 unused snapshot deleted.*"])
    assert sorted(p.name for p in (root / "snapshots").iterdir()) == [f"{AGREED}.json"]


# --------------------------------------------------------------------------- failures


def test_an_edited_agent_response_fails_its_scenario_with_a_unified_diff(
    pytester: pytest.Pytester,
    authored: dict[str, Scenario],
    approved: dict[str, str],
    edited_response: Scenario,
) -> None:
    _project(
        pytester,
        {f"{AGREED}.json": edited_response.to_json(), **_files(authored, THROTTLED)},
        _snapshots(approved, AGREED, THROTTLED),
    )
    result = _run(pytester)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            f"*_ test_replay_matches_snapshot[[]{AGREED}[]] _*",
            f"the replay differs from the approved snapshot snapshots/{AGREED}.json first at "
            "$.final_state.* (if the change is intended, re-approve with "
            "`pytest --snapshot-update`)",
            "divergence: snapshot vs replay",
            "first divergent checkpoint: #* (step *, written by response-strategy; "
            "channels: strategy)",
            "  final_state: first difference at $.final_state.*",
            f"--- approved snapshot snapshots/{AGREED}.json",
            "+++ this replay",
            "@@ *",
        ]
    )
    result.stdout.fnmatch_lines([f'-*"hypothesis": "{ORIGINAL_HYPOTHESIS}",'])
    result.stdout.fnmatch_lines([f'+*"hypothesis": "{EDITED_HYPOTHESIS}",'])
    # One test per scenario, with the id the snapshot is known by; the untouched
    # scenario still matches its approved file.
    result.stdout.fnmatch_lines([f"PASSED {_node(THROTTLED)}", f"FAILED {_node(AGREED)}*"])
    result.stdout.no_fnmatch_line("*Traceback*")


def test_broken_scenarios_fail_only_their_own_tests_with_a_readable_reason(
    pytester: pytest.Pytester,
    authored: dict[str, Scenario],
    approved: dict[str, str],
    edited_prompt: Scenario,
) -> None:
    changed_prompt = edited_prompt.model_copy(update={"name": "prompt-changed"})
    misnamed = authored[THROTTLED].model_copy(update={"name": "another-name"})
    _project(
        pytester,
        {
            **_files(authored, AGREED),
            "prompt-changed.json": changed_prompt.to_json(),
            "not-json.json": "{not json",
            "misnamed.json": misnamed.to_json(),
        },
        {
            **_snapshots(approved, AGREED),
            "prompt-changed.json": approved[AGREED],
            "not-json.json": approved[AGREED],
        },
    )
    result = _run(pytester)
    result.assert_outcomes(passed=1, failed=3)
    # A scenario that cannot replay keeps its snapshot: not "unused", so
    # --snapshot-update would not delete the file its fix is checked against.
    result.stdout.no_fnmatch_line("*unused*")
    # Unmatched request: the transport's report (reason, then the diff against the
    # closest recording), not a traceback.
    result.stdout.fnmatch_lines(
        [
            "scenario prompt-changed: unmatched bedrock-agent-runtime.InvokeAgent: "
            "the request differs from every recording: the prompt of signal-intelligence "
            "changed*",
            "change: prompt: *",
            "--- recorded (closest)",
            "+++ sent",
            "@@ *",
        ]
    )
    result.stdout.fnmatch_lines(['-      "An extra line from an older prompt.",'])
    # Invalid files: one line naming the file and the spot.
    result.stdout.fnmatch_lines(
        [
            "scenarios/not-json.json:1:2: invalid JSON "
            "(Expecting property name enclosed in double quotes)",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "scenarios/misnamed.json: $.name: 'another-name' must equal the file name "
            "'misnamed' (the snapshot is named after both)"
        ]
    )
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*harness/pytest_plugin.py:*")


# --------------------------------------------------------------------------- options


def test_directories_come_from_ini_and_the_command_line(
    pytester: pytest.Pytester, authored: dict[str, Scenario], approved: dict[str, str]
) -> None:
    _project(
        pytester,
        _files(authored, AGREED),
        _snapshots(approved, AGREED),
        ini="opx_scenarios = cases\n",
        scenario_dir="cases",
        snapshot_dir="approved",
    )
    # The default directory is no longer a scenario directory: never collected.
    (pytester.path / "scenarios").mkdir()
    (pytester.path / "scenarios" / "ignored.json").write_text("{not json", encoding="utf-8")
    result = _run(pytester, "--opx-snapshots", "approved", "-v")
    result.assert_outcomes(passed=1)
    assert result.ret == 0
    result.stdout.fnmatch_lines([f"{_node(AGREED, 'cases')} PASSED*"])


@pytest.mark.parametrize(
    ("how", "problem"),
    [
        ("option", "does not exist"),
        ("ini", "does not exist"),
        ("override", "does not exist"),
        ("empty", "holds no scenario (*.json)"),
    ],
)
def test_a_configured_scenario_directory_that_is_missing_or_empty_is_a_usage_error(
    pytester: pytest.Pytester, how: str, problem: str
) -> None:
    """A mistyped path must not turn every scenario test into silence."""
    pytester.makeini("[pytest]\n" + ("opx_scenarios = scenaros\n" if how == "ini" else ""))
    pytester.makepyfile(test_own="def test_own():\n    pass\n")  # the project's own tests
    args = {
        "option": ["--opx-scenarios=scenaros"],
        "ini": [],
        "override": ["-o", "opx_scenarios=scenaros"],
        "empty": ["--opx-scenarios=scenaros"],
    }[how]
    if how == "empty":
        (pytester.path / "scenaros").mkdir()
    result = _run(pytester, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            f"ERROR: opx-harness: scenario directory scenaros (--opx-scenarios / opx_scenarios) "
            f"{_literal(problem)}"
        ]
    )


def test_no_scenario_directory_is_fine_when_never_configured(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\n")
    pytester.makepyfile(test_own="def test_own():\n    pass\n")
    result = _run(pytester)
    result.assert_outcomes(passed=1)
    result.stdout.no_fnmatch_line("*opx-harness:*")


def test_the_run_says_how_many_scenarios_it_collected(
    pytester: pytest.Pytester, authored: dict[str, Scenario], approved: dict[str, str]
) -> None:
    _project(pytester, _files(authored, AGREED, THROTTLED), _snapshots(approved, AGREED))
    result = _run(pytester, "--collect-only", "-k", AGREED)
    result.stdout.fnmatch_lines(
        [
            "opx-harness: 2 scenario(s) in scenarios, snapshots in snapshots",
            "*opx-harness: collected 1 of 2 scenario test(s)",
        ]
    )


def test_runs_under_xdist_and_still_reports_unused_snapshots(
    pytester: pytest.Pytester, authored: dict[str, Scenario], approved: dict[str, str]
) -> None:
    _project(
        pytester,
        _files(authored, AGREED, THROTTLED),
        {**_snapshots(approved, AGREED, THROTTLED), "retired-scenario.json": approved[AGREED]},
    )
    result = _run(pytester, "-n", "2")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*2 snapshots passed. 1 snapshot unused.*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


# --------------------------------------------------------------------------- fixtures


USER_TESTS = """
import time
from datetime import datetime, timezone

import boto3
import pytest


def test_a_replay_under_the_frozen_clock(frozen_clock, replay):
    # First in the file: nothing of the executor is imported yet when the clock freezes.
    before = time.time()
    result = replay("rollback-agreed")
    assert time.time() == before
    with open("snapshots/rollback-agreed.json", encoding="utf-8") as approved:
        assert result.to_canonical_json() == approved.read()


@pytest.mark.parametrize("scenario", ["rollback-agreed"], indirect=True)
def test_scenario_by_name_and_replay(scenario, replay):
    result = replay(scenario)
    assert result.scenario == "rollback-agreed"
    assert result.responses[0]["statusCode"] == 200
    assert len(result.bedrock_calls) == 6


def test_replay_takes_a_name_or_a_path(replay):
    by_name = replay("rollback-agreed").to_canonical_json()
    assert by_name == replay("scenarios/rollback-agreed.json").to_canonical_json()
    with open("snapshots/rollback-agreed.json", encoding="utf-8") as approved:
        assert by_name == approved.read()


@pytest.mark.parametrize("scenario", ["rollback-agreed"], indirect=True)
def test_frozen_clock_starts_at_the_scenario_and_sleep_advances_it(scenario, frozen_clock):
    assert datetime.now(timezone.utc) == scenario.clock.start
    time.sleep(90)
    assert (datetime.now(timezone.utc) - scenario.clock.start).total_seconds() == 90
    assert frozen_clock.slept == [90]


@pytest.mark.parametrize("frozen_clock", ["2030-01-01T00:00:00+00:00"], indirect=True)
def test_frozen_clock_takes_a_start(frozen_clock):
    assert time.time() == datetime(2030, 1, 1, tzinfo=timezone.utc).timestamp()


def test_aws_is_moto_with_the_checkpoint_table(aws):
    assert boto3.client("dynamodb").list_tables()["TableNames"] == [aws.checkpoint_table]
    aws.client("cloudwatch").put_metric_data(
        Namespace="opx", MetricData=[{"MetricName": "Probe", "Value": 1.0}]
    )
    metrics = aws.client("cloudwatch").list_metrics(Namespace="opx")["Metrics"]
    assert [m["MetricName"] for m in metrics] == ["Probe"]


def test_aws_state_is_fresh_per_test(aws):
    assert aws.client("cloudwatch").list_metrics(Namespace="opx")["Metrics"] == []


def test_scenario_needs_a_parameter(scenario):
    pass


def test_replay_refuses_to_share_moto_with_aws(aws, replay):
    pass
"""


def test_fixtures_serve_a_projects_own_tests(
    pytester: pytest.Pytester, authored: dict[str, Scenario], approved: dict[str, str]
) -> None:
    _project(pytester, _files(authored, AGREED), _snapshots(approved, AGREED))
    pytester.makepyfile(test_mine=USER_TESTS)
    result = _run(pytester, "test_mine.py")
    result.assert_outcomes(passed=7, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_scenario_needs_a_parameter*",
            "the `scenario` fixture needs a scenario: "
            '@pytest.mark.parametrize("scenario", [[]"<name>"[]], indirect=True)',
            "*ERROR at setup of test_replay_refuses_to_share_moto_with_aws*",
            "`replay` brings its own fresh moto state: do not combine it with `aws`",
        ]
    )
