"""``opx-harness``: byte-exact ``--json``, the human summary, ``list``, ``schema``, and
one-line errors with distinct exit codes (never a traceback)."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from harness import cli
from harness.scenario import Scenario, json_schema

SCRIPT = Path(sysconfig.get_path("scripts")) / "opx-harness"
# The scenarios tests/harness/conftest.py authors.
AGREED = "rollback-agreed"
THROTTLED = "throttled-then-ok"
THROTTLED_AGENT = "signal-intelligence"


@pytest.fixture(scope="module")
def scenario_dir(tmp_path_factory: pytest.TempPathFactory, authored: dict[str, Scenario]) -> Path:
    directory = tmp_path_factory.mktemp("scenarios")
    for name, scenario in authored.items():
        (directory / f"{name}.json").write_text(scenario.to_json(), encoding="utf-8")
    return directory


def _command(module: bool) -> list[str]:
    return [sys.executable, "-m", "harness"] if module else [str(SCRIPT)]


def _run(*args: str, module: bool = False) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*_command(module), *args], capture_output=True, timeout=120, check=False)


def _one_line_error(stderr: str | bytes) -> str:
    text = stderr.decode() if isinstance(stderr, bytes) else stderr
    assert "Traceback" not in text
    lines = text.splitlines()
    assert len(lines) == 1, text
    assert lines[0].startswith("opx-harness: error: ")
    return lines[0]


# --------------------------------------------------------------------------- replay


def test_replay_json_is_byte_identical_across_processes_and_equals_the_snapshot_form(
    scenario_dir: Path, approved: dict[str, str]
) -> None:
    assert SCRIPT.is_file(), "pip install -e . creates the opx-harness script"
    command = [str(SCRIPT), "replay", str(scenario_dir / f"{THROTTLED}.json"), "--json"]
    # Two processes at once: nothing but the scenario may reach the output.
    runs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)
    ]
    (first, first_err), (second, second_err) = (run.communicate(timeout=120) for run in runs)
    assert [run.returncode for run in runs] == [0, 0], first_err
    assert first_err == second_err == b""
    assert first == second
    # ... and it is exactly what the plugin writes as the snapshot file.
    assert first == approved[THROTTLED].encode("utf-8")


def test_python_m_harness_is_the_same_cli() -> None:
    done = _run("schema", module=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == _run("schema").stdout
    assert json.loads(done.stdout) == json_schema()


def test_replay_prints_a_human_summary(
    scenario_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["replay", str(scenario_dir / f"{THROTTLED}.json")]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    rows = dict(line.split("  ", 1) for line in out.splitlines())
    rows = {key.strip(): value.strip() for key, value in rows.items()}
    assert rows["scenario"] == THROTTLED
    assert rows["status code"] == "200"
    assert rows["status"] == "SUCCEEDED"
    assert rows["top action"] == "rollback"  # what was recommended, next to the status
    assert list(rows)[:4] == ["scenario", "status code", "status", "top action"]
    assert f"{THROTTLED_AGENT}=SUCCESS" in rows["agents"].split()
    assert len(rows["agents"].split()) == 6
    # 6 agents x (1200 in, 300 out) on Claude 3.5 Sonnet v2 = 6 x 0.0081 USD.
    assert rows["cost"] == "0.048600 USD (budget 0.500000, OK)"
    assert rows["checkpoints"] == "6"
    # Two throttled attempts are calls too: 8 in all, 2 faulted, billed nothing.
    assert rows["bedrock calls"] == ("8 (2 faulted), 7200 input + 1800 output tokens, 0.048600 USD")
    assert rows["clock"].startswith("2026-11-29T04:00:00+00:00 -> 2026-11-29T04:00:")


def test_replay_summarizes_an_action_group_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(__file__).resolve().parents[2]
    name = "ag-xray-throttled"
    assert cli.main(["replay", str(root / "scenarios" / f"{name}.json")]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    rows = {
        key.strip(): value.strip()
        for key, value in (line.split("  ", 1) for line in out.splitlines())
    }
    approved = json.loads((root / "snapshots" / f"{name}.json").read_text())
    assert rows["scenario"] == name
    assert rows["action group"] == approved["action_group"]
    statuses = [r["response"]["httpStatusCode"] for r in approved["responses"]]
    assert [answer.rsplit(" ", 1)[1] for answer in rows["answers"].split(", ")] == [
        str(status) for status in statuses
    ]
    assert rows["aws calls"].startswith(f"{len(approved['aws_calls'])} (")


def test_unmatched_request_exits_3_with_the_reason_then_the_diff(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edited_prompt: Scenario
) -> None:
    path = tmp_path / f"{AGREED}.json"
    path.write_text(edited_prompt.to_json(), encoding="utf-8")
    assert cli.main(["replay", str(path), "--json"]) == cli.EXIT_UNMATCHED
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err
    first, *report = err.splitlines()
    assert first == (
        f"opx-harness: error: scenario {AGREED}: unmatched bedrock-agent-runtime.InvokeAgent: "
        "the request differs from every recording: the prompt of signal-intelligence changed: "
        "its prompt text changed while prompt_version stayed v1 "
        "(opx/prompts/signal-intelligence.v1.md); bump the version when the text changes"
    )
    assert report[0].startswith("change: prompt: the prompt of signal-intelligence changed")
    assert report[1:3] == ["--- recorded (closest)", "+++ sent"]
    assert '-      "An extra line from an older prompt.",' in report


# --------------------------------------------------------------------------- errors


def test_missing_file_is_a_one_line_input_error(tmp_path: Path) -> None:
    done = _run("replay", str(tmp_path / "nope.json"))
    assert done.returncode == cli.EXIT_INPUT
    assert done.stdout == b""
    line = _one_line_error(done.stderr)
    assert (
        line
        == f"opx-harness: error: {tmp_path / 'nope.json'}: cannot read (No such file or directory)"
    )


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", ":1:2: invalid JSON (Expecting property name enclosed in double quotes)"),
        ('{"name": "x"}', ": $.description: Field required (+2 more)"),
    ],
    ids=["json", "schema"],
)
def test_invalid_scenario_is_a_one_line_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, reason: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    assert cli.main(["replay", str(path)]) == cli.EXIT_INPUT
    out, err = capsys.readouterr()
    assert out == ""
    assert _one_line_error(err) == f"opx-harness: error: {path}{reason}"


def test_invalid_field_names_its_json_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], authored: dict[str, Scenario]
) -> None:
    data = json.loads(authored[AGREED].to_json())
    data["interactions"][3]["latency_ms"] = -5
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert cli.main(["replay", str(path), "--json"]) == cli.EXIT_INPUT
    assert _one_line_error(capsys.readouterr().err) == (
        f"opx-harness: error: {path}: $.interactions[3].latency_ms: "
        "Input should be greater than or equal to 0"
    )


def test_unexpected_exception_is_one_line_exit_1(
    scenario_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import harness.replayer

    def broken(scenario: Scenario) -> None:
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr(harness.replayer, "replay", broken)
    assert cli.main(["replay", str(scenario_dir / f"{AGREED}.json")]) == cli.EXIT_INTERNAL
    out, err = capsys.readouterr()
    assert out == ""
    assert _one_line_error(err) == (
        "opx-harness: error: internal error: RuntimeError: disk on fire second line"
    )


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in ([], ["replay"], ["frobnicate"]):
        with pytest.raises(SystemExit) as exited:
            cli.main(argv)
        assert exited.value.code == cli.EXIT_INPUT
        assert "usage: opx-harness" in capsys.readouterr().err


# --------------------------------------------------------------------------- list, schema


def test_list_shows_name_tags_and_first_description_line(
    scenario_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["list", "--scenarios", str(scenario_dir)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.splitlines() == [
        "NAME               TAGS         DESCRIPTION",
        f"{AGREED}    deploy,sev1  Six agents agree: roll back deploy d-ABC123",
        f"{THROTTLED}  retry        signal-intelligence is throttled twice, then answers",
    ]


def test_list_shows_one_line_per_description() -> None:
    """A long description is its first sentence, cut at a word: one row per scenario."""
    from harness.cli.scenarios import DESCRIPTION_WIDTH, one_line

    assert one_line("SEV3: a poison record stalls a Kinesis consumer. Then more.") == (
        "SEV3: a poison record stalls a Kinesis consumer"
    )
    long = "word " * 60
    shown = one_line(long)
    assert len(shown) <= DESCRIPTION_WIDTH and shown.endswith("word\u2026")
    assert one_line("first line\nsecond line") == "first line"


def test_list_reports_invalid_files_and_still_lists_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], authored: dict[str, Scenario]
) -> None:
    (tmp_path / f"{AGREED}.json").write_text(authored[AGREED].to_json(), encoding="utf-8")
    (tmp_path / "broken.json").write_text("[]", encoding="utf-8")
    assert cli.main(["list", "--scenarios", str(tmp_path)]) == cli.EXIT_INPUT
    out, err = capsys.readouterr()
    assert [line.split()[0] for line in out.splitlines()] == ["NAME", AGREED]
    assert _one_line_error(err).startswith(f"opx-harness: error: {tmp_path / 'broken.json'}: $: ")


def test_list_of_a_missing_directory_is_an_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["list", "--scenarios", str(tmp_path / "none")]) == cli.EXIT_INPUT
    assert _one_line_error(capsys.readouterr().err) == (
        f"opx-harness: error: {tmp_path / 'none'}: not a directory"
    )


def test_schema_is_the_scenario_json_schema_with_sorted_keys(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["schema"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out) == json_schema()
    assert out == json.dumps(json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert json.loads(out)["properties"]["interactions"]["type"] == "array"
