"""The independent detector pass (``harness.capture.secret_scan``): what it finds, how it
names a finding (never the value), the allowlist, and the committed corpus."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.capture.secret_scan import (
    ALLOWLIST_NAME,
    Allowlist,
    AllowlistError,
    Finding,
    SecretScanError,
    SecretsFound,
    allowlist_for,
    check_committed,
    load_allowlist,
    main,
    scan_before_write,
    scan_files,
)
from tests.harness.deep_secrets import AKID, SECRET_KEY, TRUNCATED_PEM

ROOT = Path(__file__).resolve().parents[2]


def kinds(data: object, name: str = "scenarios/x.json") -> list[tuple[str, str]]:
    return [(f.path, f.kind) for f in scan_files({name: json.dumps(data, indent=2)})]


def test_the_bundled_corpus_passes_the_detector() -> None:
    assert check_committed(ROOT / "scenarios", ROOT / "snapshots") == []


def test_a_hand_edited_scenario_cannot_smuggle_a_secret(tmp_path: Path) -> None:
    """The corpus check, with the fault injected: one committed file carries a key.
    One scenario, its snapshot and the allowlist are corpus enough (the test above scans
    all of it); copying and scanning every file took 13 s."""
    for directory in ("scenarios", "snapshots"):
        (tmp_path / directory).mkdir()
        shutil.copy2(ROOT / directory / "rds-failover.json", tmp_path / directory)
    for allowlist in (ROOT / "scenarios").glob("*.toml"):
        shutil.copy2(allowlist, tmp_path / "scenarios")
    assert check_committed(tmp_path / "scenarios", tmp_path / "snapshots") == []
    path = tmp_path / "scenarios" / "rds-failover.json"
    data = json.loads(path.read_text())
    data["events"][0]["detail"]["evidence_bundle"]["note"] = f"rotated {AKID} today"
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    found = check_committed(tmp_path / "scenarios", tmp_path / "snapshots")
    assert list(map(str, found)) == [
        "scenarios/rds-failover.json: $.events[0].detail.evidence_bundle.note: AWS Access Key"
    ]
    assert AKID not in "".join(map(str, found))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"k": f"seen {AKID}"}, [("$.k", "AWS Access Key")]),
        ({"password": "hunter2-not-a-placeholder"}, [("$.password", "Secret Keyword")]),
        ({"tls": TRUNCATED_PEM}, [("$.tls", "Private Key")]),
        ({"u": "https://bob:s3cr3tpass@db.example.com"}, [("$.u", "Basic Auth Credentials")]),
        # JSON text in a string (a prompt, a response body) is scanned decoded too.
        (
            {"prompt": json.dumps({"aws_secret_access_key": SECRET_KEY})},
            [("$.prompt", "Secret Keyword")],
        ),
        # detect-secrets' inline pragma is not honoured: a recorded value could carry one.
        ({"k": f"{AKID}  # pragma: allowlist secret"}, [("$.k", "AWS Access Key")]),
    ],
)
def test_findings_name_the_path_and_the_kind(data: object, expected: list[tuple[str, str]]) -> None:
    found = kinds(data)
    assert [item for item in found if item in expected] == expected


@pytest.mark.parametrize(
    "data",
    [
        {"password": "REDACTED-API-TOKEN-1", "Authorization": "Bearer REDACTED-TOKEN-2"},
        {"SecretAccessKey": "REDACTED-SECRET-KEY-1", "AccessKeyId": "AKIAEXAMPLE000000001"},
        {"u": "postgres://checkout:REDACTED-API-TOKEN-1@db.internal:5432/orders"},
        {"run": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "n": 12, "t": "2026-11-29T04:00:00Z"},
    ],
)
def test_placeholders_and_ordinary_values_are_not_findings(data: object) -> None:
    assert kinds(data) == []


def test_non_json_text_is_scanned_by_line() -> None:
    found = scan_files({"notes/x.txt": f"first line\nkey {AKID}\n"})
    assert list(map(str, found)) == ["notes/x.txt: line 2: AWS Access Key"]


def test_scan_before_write_refuses_with_file_path_and_kind_never_the_value(tmp_path: Path) -> None:
    files = {tmp_path / "scenarios" / "x.json": json.dumps({"a": {"b": [f"k={AKID}"]}}, indent=2)}
    with pytest.raises(SecretsFound) as raised:
        scan_before_write(files, allowlist=Allowlist())
    message = str(raised.value) + raised.value.report()
    assert "scenarios/x.json: $.a.b[0]: AWS Access Key" in raised.value.report()
    assert AKID not in message and "1 possible secret(s) in scenarios/x.json" in message


ALLOW_NOTE = """\
[[allow]]
file = "scenarios/*.json"
path = "$..note"
kind = "Hex High Entropy String"
reason = "a build digest the test planted on purpose"
"""


def test_an_allowlisted_false_positive_passes_with_its_reason(tmp_path: Path) -> None:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    digest = "3b18e512dba79e4c8300dd08aeb37f8e728b8dad"
    files = {scenarios / "x.json": json.dumps({"a": {"note": digest}, "b": digest}, indent=2)}
    with pytest.raises(SecretsFound) as raised:
        scan_before_write(files, allowlist=allowlist_for(scenarios))
    assert len(raised.value.findings) == 2
    (scenarios / ALLOWLIST_NAME).write_text(ALLOW_NOTE)
    allowlist = allowlist_for(scenarios)
    with pytest.raises(SecretsFound) as raised:
        scan_before_write(files, allowlist=allowlist)
    assert [str(f) for f in raised.value.findings] == [
        "scenarios/x.json: $.b: Hex High Entropy String"
    ]
    note = Finding("scenarios/x.json", "$.a.note", "Hex High Entropy String")
    entry = allowlist.entry_for(note)
    assert entry is not None and entry.reason == "a build digest the test planted on purpose"
    scan_before_write(
        {scenarios / "x.json": json.dumps({"a": {"note": digest}})}, allowlist=allowlist
    )


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("$.a[*].b", "$.a[12].b", True),
        ("$.a[*].b", "$.a.b", False),
        ("$.*.b", "$.x.b", True),
        ("$.*.b", "$.x.y.b", False),
        ("$..b", "$.x[1].y.b", True),
        ("$..b", "$.b", True),
        ("$..b", "$.bb", False),
        ("$.r..body_sha256", '$.r.x["application/json"].body_sha256', True),
    ],
)
def test_allowlist_json_paths(pattern: str, path: str, matches: bool, tmp_path: Path) -> None:
    file = tmp_path / "allow.toml"
    file.write_text(f'[[allow]]\nfile = "*"\npath = \'{pattern}\'\nkind = "K"\nreason = "r"\n')
    assert (load_allowlist(file).entry_for(Finding("s/x.json", path, "K")) is not None) is matches


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '[[allow]]\nfile = "*"\npath = "$.a"\nkind = "K"\n',
            "entry #1: 'reason' must be a non-empty string",
        ),
        (
            '[[allow]]\nfile = "*"\npath = "$.a"\nkind = "K"\nreason = "  "\n',
            "'reason' must be a non-empty",
        ),
        ('[[allow]]\nfile = "*"\npath = "a"\nkind = "K"\nreason = "r"\n', "must be a JSON path"),
        (
            '[[allow]]\nfile = "*"\npath = "$"\nkind = "K"\nreason = "r"\nall = true\n',
            "unknown key 'all'",
        ),
        (
            '[[allow]]\nfile = "*"\npath = "$"\nkind = "K"\nreason = "r"\nvalue_sha256 = "ab"\n',
            "'value_sha256' must be 64 lowercase hex digits",
        ),
        ("enabled = false\n", "unknown top-level key 'enabled'"),
        ("[allow]\n", "must be an array of tables"),
        ("[[allow]\n", "cannot read"),
    ],
)
def test_allowlist_errors_name_the_file_and_entry(tmp_path: Path, body: str, message: str) -> None:
    file = tmp_path / ALLOWLIST_NAME
    file.write_text(body)
    with pytest.raises(AllowlistError) as raised:
        load_allowlist(file)
    assert str(raised.value).startswith(f"{file}: ") and message in str(raised.value)


def test_without_detect_secrets_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "detect_secrets.core.scan", None)
    with pytest.raises(SecretScanError, match="not installed"):
        scan_before_write({tmp_path / "s" / "x.json": "{}"}, allowlist=Allowlist())


def test_the_command_line_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "snapshots").mkdir()
    (tmp_path / "scenarios" / "a.json").write_text(json.dumps({"ok": 1}))
    assert main([str(tmp_path / "scenarios")]) == 0
    (tmp_path / "snapshots" / "a.json").write_text(json.dumps({"k": AKID}, indent=2))
    assert main([str(tmp_path / "scenarios")]) == 1
    err = capsys.readouterr().err
    assert "snapshots/a.json: $.k: AWS Access Key" in err and AKID not in err
    (tmp_path / "scenarios" / ALLOWLIST_NAME).write_text("nonsense")
    assert main([str(tmp_path / "scenarios")]) == 2
