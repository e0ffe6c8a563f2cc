"""An independent second pass: Yelp's ``detect-secrets`` over every file before it is written.

:mod:`harness.scrub` is one hand-written rule set, and real payloads will always
find a shape it trails. So whatever ``record``/``import`` (and any other command
that writes scenarios or snapshots) is about to write goes through
``detect-secrets`` too -- a detector kept by others, with its own rules: AWS keys,
private keys, JWTs, basic-auth URLs, secret-named keywords, high-entropy strings
and the vendor token shapes (Slack, Discord, GitHub, Stripe, ...). Any finding
refuses the write (:func:`scan_before_write` raises :class:`SecretsFound`); the
committed ``scenarios/`` and ``snapshots/`` are checked the same way
(:func:`check_committed`, also ``python -m harness.capture.secret_scan``).

A finding names the file, the JSON path and the detector's kind -- never the value.

**What is scanned.** A JSON file is scanned line by line in its written form
(indented, one value per line, so each line has one JSON path), and every string
value again decoded (JSON escapes undone, each of its lines), so a secret inside
an escaped prompt or an embedded response body is seen as its detector expects
it. Any other text is scanned line by line.

**What is not a finding.** A value that is nothing but scrubber placeholders
(``REDACTED-API-TOKEN-3``, ``AKIAEXAMPLE000000001``, ``user1@example.com``, ...):
``"password": "REDACTED-API-TOKEN-1"`` is what a scrubbed secret looks like.
Everything else is silenced only by an entry of a reviewed allowlist file
(:func:`load_allowlist`), each entry with its reason. There is no switch to turn
the pass off, and detect-secrets' own inline ``pragma: allowlist secret`` comments
are not honoured (a recorded value could carry one).
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.capture.scrub import is_placeholder
from harness.capture.tomlfile import table_array

__all__ = [
    "ALLOWLIST_NAME",
    "BUILTIN_ALLOWLIST",
    "Allowlist",
    "AllowlistError",
    "Finding",
    "SecretScanError",
    "SecretsFound",
    "allowlist_for",
    "check_committed",
    "check_paths",
    "load_allowlist",
    "scan_before_write",
    "scan_files",
    "scan_text",
    "unexplained",
]

#: The reviewed allowlist committed with the scenarios: ``<scenarios dir>/<this>``.
ALLOWLIST_NAME = "secret-allowlist.toml"
#: Entries for values the harness itself computes (snapshot digests), shipped with it.
BUILTIN_ALLOWLIST = Path(__file__).with_name("secret_allowlist.toml")

#: Every detect-secrets plugin but ``IPPublicDetector`` (addresses are the
#: scrubber's business: it maps them to documentation ranges, which that plugin
#: does not know).
PLUGINS = (
    "AWSKeyDetector",
    "ArtifactoryDetector",
    "AzureStorageKeyDetector",
    "Base64HighEntropyString",
    "BasicAuthDetector",
    "CloudantDetector",
    "DiscordBotTokenDetector",
    "GitHubTokenDetector",
    "GitLabTokenDetector",
    "HexHighEntropyString",
    "IbmCloudIamDetector",
    "IbmCosHmacDetector",
    "JwtTokenDetector",
    "KeywordDetector",
    "MailchimpDetector",
    "NpmDetector",
    "OpenAIDetector",
    "PrivateKeyDetector",
    "PypiTokenDetector",
    "SendGridDetector",
    "SlackDetector",
    "SoftlayerDetector",
    "SquareOAuthDetector",
    "StripeDetector",
    "TelegramBotTokenDetector",
    "TwilioKeyDetector",
)
#: detect-secrets' default heuristic filters, without ``is_line_allowlisted``.
FILTERS = (
    "detect_secrets.filters.heuristic.is_sequential_string",
    "detect_secrets.filters.heuristic.is_potential_uuid",
    "detect_secrets.filters.heuristic.is_likely_id_string",
    "detect_secrets.filters.heuristic.is_templated_secret",
    "detect_secrets.filters.heuristic.is_prefixed_with_dollar_sign",
    "detect_secrets.filters.heuristic.is_indirect_reference",
    "detect_secrets.filters.heuristic.is_lock_file",
    "detect_secrets.filters.heuristic.is_not_alphanumeric_string",
    "detect_secrets.filters.heuristic.is_swagger_file",
)


@dataclass(frozen=True, order=True)
class Finding:
    """A possible secret: where, and which detector -- never the value."""

    file: str
    path: str  # a JSON path ($.interactions[2].request.inputText), or "line N"
    kind: str  # the detector's secret type, e.g. "AWS Access Key"
    #: SHA-256 of the value the detector flagged, for allowlist entries that name
    #: one value; never printed.
    value_sha256: str = field(default="", repr=False)

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.kind}"


# --------------------------------------------------------------------------- allowlist


class SecretScanError(Exception):
    """The detector pass cannot run; nothing may be written without it."""


class AllowlistError(SecretScanError):
    """An allowlist file that cannot be used; the message names the file and entry."""


@dataclass(frozen=True)
class AllowEntry:
    file: str  # a glob over "<directory>/<file name>", e.g. "snapshots/*.json"
    path: str  # a JSON path; [*] any index, .* any key, .. any depth
    kind: str  # the detector's secret type, exactly
    reason: str
    source: str  # "<allowlist file> entry #n", for messages
    value_sha256: str = ""  # optional: only the value with this SHA-256

    def matches(self, finding: Finding) -> bool:
        return (
            finding.kind == self.kind
            and self.value_sha256 in ("", finding.value_sha256)
            and _glob(self.file).fullmatch(finding.file) is not None
            and _json_path_pattern(self.path).fullmatch(finding.path) is not None
        )


@dataclass(frozen=True)
class Allowlist:
    entries: tuple[AllowEntry, ...] = ()

    def entry_for(self, finding: Finding) -> AllowEntry | None:
        return next((entry for entry in self.entries if entry.matches(finding)), None)

    def __add__(self, other: Allowlist) -> Allowlist:
        return Allowlist(self.entries + other.entries)


_ENTRY_FIELDS = ("file", "path", "kind", "reason")
_OPTIONAL_FIELDS = ("value_sha256",)


def load_allowlist(*paths: Path | str) -> Allowlist:
    """The entries of each existing file among ``paths`` (a missing file has none).

    The format, a TOML file of ``[[allow]]`` tables::

        [[allow]]
        file = "scenarios/ag-logs-*.json"      # glob over "<directory>/<file name>"
        path = "$.interactions[*].response.body.queryId"
        kind = "Base64 High Entropy String"    # the detector's kind, as findings name it
        reason = "Logs Insights query ids the corpus builder generates; not credentials"

        [[allow]]                               # one value, wherever it is
        file = "*.json"
        path = "$..*"
        kind = "Hex High Entropy String"
        value_sha256 = "<sha256 of the flagged value>"
        reason = "the deployment's git commit, quoted by the agents; public"

    ``file``, ``path``, ``kind`` and ``reason`` are required strings; ``reason``
    must say something. Unknown keys are refused rather than ignored.
    """
    entries: list[AllowEntry] = []
    for path in map(Path, paths):
        if not path.exists():
            continue
        tables = table_array(path, "allow", AllowlistError)
        for number, table in enumerate(tables, 1):
            entries.append(_entry(path, number, table))
    return Allowlist(tuple(entries))


def _entry(path: Path, number: int, table: object) -> AllowEntry:
    where = f"{path}: entry #{number}"
    if not isinstance(table, dict):
        raise AllowlistError(f"{where}: not a table")
    unknown = sorted(set(table) - set(_ENTRY_FIELDS) - set(_OPTIONAL_FIELDS))
    if unknown:
        raise AllowlistError(f"{where}: unknown key {unknown[0]!r}")
    digest = table.get("value_sha256", "")
    if not isinstance(digest, str) or (digest and not re.fullmatch("[0-9a-f]{64}", digest)):
        raise AllowlistError(f"{where}: 'value_sha256' must be 64 lowercase hex digits")
    for name in _ENTRY_FIELDS:
        if not isinstance(table.get(name), str) or not table[name].strip():
            raise AllowlistError(f"{where}: {name!r} must be a non-empty string")
    if not table["path"].startswith("$"):
        raise AllowlistError(f"{where}: 'path' must be a JSON path starting with '$'")
    return AllowEntry(
        table["file"], table["path"], table["kind"], table["reason"].strip(), where, digest
    )


def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(map(re.escape, pattern.split("*"))))


def _json_path_pattern(pattern: str) -> re.Pattern[str]:
    """``$.a[*].b``: ``[*]`` any index, ``.*`` any key, ``..`` any depth (``$..*`` anything)."""
    out = []
    position = 0
    while position < len(pattern):
        if pattern.startswith("..*", position):
            out.append(r"(?:\.[^.\[]+|\[[^\]]+\])+")
            position += 3
        elif pattern.startswith("[*]", position):
            out.append(r"\[[0-9]+\]")
            position += 3
        elif pattern.startswith("..", position):
            out.append(r"(?:\.[^.\[]+|\[[^\]]+\])*\.")
            position += 2
        elif pattern.startswith(".*", position):
            out.append(r"\.[^.\[]+")
            position += 2
        else:
            out.append(re.escape(pattern[position]))
            position += 1
    return re.compile("".join(out))


# --------------------------------------------------------------------------- scanning


def _key(path: str, key: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", key):
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def _json_lines(value: Any, path: str = "$", prefix: str = "") -> Iterator[tuple[str, str]]:
    """(JSON path, line) as ``json.dumps(indent=2)`` writes the value, plus every
    string again decoded, line by line."""
    if isinstance(value, dict):
        yield path, prefix + "{"
        for key, item in value.items():
            yield from _json_lines(item, _key(path, str(key)), json.dumps(str(key)) + ": ")
        yield path, "}"
    elif isinstance(value, list):
        yield path, prefix + "["
        for index, item in enumerate(value):
            yield from _json_lines(item, f"{path}[{index}]")
        yield path, "]"
    else:
        written = json.dumps(value, ensure_ascii=False)
        yield path, prefix + written
        if isinstance(value, str) and written[1:-1] != value:
            for line in value.splitlines():
                yield path, line


def _lines(text: str) -> Iterator[tuple[str, str]]:
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict | list):
        yield from _json_lines(data)
    else:
        for number, line in enumerate(text.splitlines(), 1):
            yield f"line {number}", line


def _settings() -> Any:
    from detect_secrets.settings import transient_settings

    return transient_settings(
        {
            "plugins_used": [{"name": name} for name in PLUGINS],
            "filters_used": [{"path": path} for path in FILTERS],
        }
    )


def _detect(lines: Sequence[str]) -> Iterator[tuple[int, str, str]]:
    """(index into ``lines``, kind, SHA-256 of the value) for what detect-secrets
    finds, scanning them as one ``.json`` file, as it would scan a committed one;
    values that are nothing but placeholders are not findings."""
    # scan_file, not SecretsCollection: a collection keeps one finding per secret
    # value, so the same value on a second line (a second JSON path) would go unnamed.
    try:
        from detect_secrets.core.scan import scan_file
    except ImportError:
        raise SecretScanError(
            "the secret detector is not installed (pip install 'opx-replay[harness]', "
            "which brings detect-secrets); nothing is written without it"
        ) from None

    with tempfile.TemporaryDirectory(prefix="opx-secret-scan-") as directory:
        # ".js": detect-secrets reads it exactly as a ".json" (its keyword rules for
        # both need quotes) but without the INI re-parse it tries on unknown types
        # when a first pass is clean, which would make findings depend on each other.
        path = Path(directory) / "scanned.js"
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        with _settings():
            secrets = list(scan_file(str(path)))
    for secret in secrets:
        if secret.secret_value and is_placeholder(secret.secret_value):
            continue
        digest = hashlib.sha256((secret.secret_value or "").encode()).hexdigest()
        yield secret.line_number - 1, secret.type, digest


def scan_files(files: Mapping[str, str]) -> list[Finding]:
    """Every finding in ``files`` (display name -> text), sorted; nothing allowlisted.

    Identical lines are scanned once (a corpus repeats itself a lot)."""
    where: dict[str, list[tuple[str, str]]] = {}
    for name, text in files.items():
        for path, line in _lines(text):
            line = line.strip()  # no line breaks: JSON escapes them, splitlines split them
            if line:
                where.setdefault(line, []).append((name, path))
    lines = list(where)
    findings = {
        Finding(name, path, kind, digest)
        for index, kind, digest in _detect(lines)
        for name, path in where[lines[index]]
    }
    return sorted(findings)


def scan_text(text: str, name: str) -> list[Finding]:
    return scan_files({name: text})


def display_name(path: Path) -> str:
    """How findings and allowlist entries name a file: ``<directory>/<file name>``."""
    return f"{path.parent.name}/{path.name}"


class SecretsFound(Exception):
    """The detector pass found what the allowlist does not explain; nothing was written."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        self.findings = list(findings)
        files = sorted({f.file for f in self.findings})
        super().__init__(
            f"the secret detector (detect-secrets) found {len(self.findings)} possible "
            f"secret(s) in {', '.join(files)}; if one is not a secret, allowlist it with a "
            f"reason in {ALLOWLIST_NAME} (see docs/reference/scrubber.md)"
        )

    def report(self) -> str:
        return "".join(f"  {finding}\n" for finding in self.findings)


def allowlist_for(scenarios: Path) -> Allowlist:
    """The built-in entries and those committed with the scenarios in ``scenarios``."""
    return load_allowlist(BUILTIN_ALLOWLIST, scenarios / ALLOWLIST_NAME)


def unexplained(findings: Iterable[Finding], allowlist: Allowlist) -> list[Finding]:
    return [finding for finding in findings if allowlist.entry_for(finding) is None]


def scan_before_write(files: Mapping[Path, str], *, allowlist: Allowlist) -> None:
    """Raise :class:`SecretsFound` if any of ``files`` (path -> the text about to be
    written) holds a finding ``allowlist`` does not explain. Call it last, right
    before writing, with everything that will be written."""
    findings = scan_files({display_name(path): text for path, text in files.items()})
    left = unexplained(findings, allowlist)
    if left:
        raise SecretsFound(left)


def check_committed(
    scenarios: Path = Path("scenarios"), snapshots: Path = Path("snapshots")
) -> list[Finding]:
    """The unexplained findings in every committed ``*.json`` of ``scenarios`` and
    ``snapshots`` (the allowlist is ``scenarios/secret-allowlist.toml`` plus the
    built-in one). Empty means clean. For the gate and ``python -m harness.capture.secret_scan``."""
    paths = [
        path for directory in (scenarios, snapshots) for path in sorted(directory.glob("*.json"))
    ]
    return check_paths(paths, allowlist=allowlist_for(scenarios))


def check_paths(paths: Iterable[Path], *, allowlist: Allowlist) -> list[Finding]:
    """The unexplained findings in these committed files -- for a per-scenario gate
    check: ``check_paths([scenario, snapshot], allowlist=allowlist_for(scenarios))``,
    each finding one line (``str(finding)``), empty when clean."""
    files = {display_name(path): path.read_text(encoding="utf-8") for path in paths}
    return unexplained(scan_files(files), allowlist)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m harness.capture.secret_scan [SCENARIOS [SNAPSHOTS]]``: exit 1 with one line per
    finding, 0 when clean (a pre-commit hook or CI step)."""
    args = list(sys.argv[1:] if argv is None else argv)
    scenarios = Path(args[0]) if args else Path("scenarios")
    snapshots = Path(args[1]) if len(args) > 1 else scenarios.parent / "snapshots"
    paths = [
        path for directory in (scenarios, snapshots) for path in sorted(directory.glob("*.json"))
    ]
    try:
        allowlist = allowlist_for(scenarios)
        every = scan_files({display_name(path): path.read_text(encoding="utf-8") for path in paths})
    except SecretScanError as error:
        sys.stderr.write(f"secret scan: {error}\n")
        return 2
    findings = unexplained(every, allowlist)
    for finding in findings:
        sys.stderr.write(f"{finding}\n")
    if findings:
        sys.stderr.write(f"{SecretsFound(findings)}\n")
        return 1
    reasons = len({allowlist.entry_for(finding) for finding in every})
    sys.stdout.write(
        f"secret scan: {len(paths)} files clean ({len(every)} findings explained by "
        f"{reasons} allowlist entries)\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
