"""Scrub secrets, account ids and personal data out of recorded incidents.

Everything ``opx-harness record``/``import`` writes into a scenario file passes
through a :class:`Scrubber` first, because scenario files are committed. The
placeholders it substitutes are

* deterministic -- ordinals by order of first occurrence, per kind -- so a secret
  seen in a Bedrock request and again in its response maps to the same placeholder
  and request matching still works after scrubbing;
* recognisably fake (``EXAMPLE``/``REDACTED`` markers, RFC 5737/3849 documentation
  addresses, ``example.com``, 555-01xx numbers);
* syntactically valid where a consumer parses them: an ARN keeps a 12-digit account,
  an IP address stays an IP address, an email stays an email;
* never re-redacted: anything shaped like a placeholder is left as it is, so
  scrubbing already-scrubbed data is a no-op (idempotence).

Overlaps between candidate matches resolve by a fixed priority, first wins (see
``_RULES`` and ``Scrubber.__init__``): aliases, then ``Bearer`` tokens, URL
passwords, chat webhook URLs, ``Cookie:`` lines, secret-named key/value pairs,
JSON text (values nested under secret names, name/value pairs), URL-encoded runs
(decoded and judged), token shapes (JWT, GitHub, Slack, PEM private keys), access
key ids, session tokens, secret access keys, base64 runs (decoded and judged), ARN
accounts, console-form accounts, emails, IPv4, IPv6, phone numbers, standalone
12-digit numbers, and configured extra patterns last. A lower-priority match that
overlaps an accepted one is dropped, never trimmed. Placeholders and harmless
values (loopback, documentation ranges) found by any rule are shielded: a match
equal to or cutting into one is dropped, one strictly containing it still counts.
Only the secret itself is replaced: ``password=x`` keeps ``password=``, ``Bearer x``
keeps ``Bearer``. A text is rescanned until it no longer changes, so the output is
exactly what a second scrub leaves alone.

Every regex is linear on any input: bounded or possessive repetitions and
lookbehinds that stop a scan from restarting inside a run it already rejected.
Nothing here logs or prints, and :class:`Redactions` holds counts, never values.
"""

from __future__ import annotations

import base64
import binascii
import enum
import ipaddress
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote, unquote

from harness.capture.tomlfile import table_array

__all__ = [
    "BUILTIN_KINDS",
    "Pattern",
    "Redactions",
    "ScrubConfigError",
    "Scrubber",
    "is_placeholder",
    "load_scrub_config",
]

BUILTIN_KINDS = (
    "account-id",
    "api-token",
    "aws-access-key-id",
    "aws-secret-access-key",
    "aws-session-token",
    "bearer-token",
    "email",
    "encoded-secret",
    "ip-address",
    "phone-number",
    "webhook-url",
)

_KIND_SYNTAX = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Where a regex that can match nothing (``a*``, ``\b``, ``x?``) shows it; one that
# slips past is harmless at run time (empty matches are skipped), just useless.
_EMPTY_PROBE = "\n a A 0 _ - . / : @ \t"


@dataclass(frozen=True)
class Pattern:
    """A project-specific secret shape the built-in rules do not know.

    Validated on construction (``ValueError``) so a bad pattern fails when the
    config is read, not halfway through scrubbing a recording.
    """

    kind: str
    regex: re.Pattern[str]
    group: int = 0

    def __post_init__(self) -> None:
        if not _KIND_SYNTAX.fullmatch(self.kind):
            raise ValueError(
                f"kind {self.kind!r} must be lowercase letters and digits joined by single hyphens"
            )
        if self.kind in BUILTIN_KINDS:
            raise ValueError(f"kind {self.kind!r} is a built-in kind")
        if isinstance(self.group, bool) or not 0 <= self.group <= self.regex.groups:
            raise ValueError(f"group {self.group!r} is not a group of the regex")
        if any(m.start() == m.end() for m in self.regex.finditer(_EMPTY_PROBE)):
            raise ValueError("regex matches the empty string")


class ScrubConfigError(Exception):
    """A scrub config file that cannot be used; the message names file and entry."""


_ENTRY_KEYS = {"kind": str, "regex": str, "group": int}


def load_scrub_config(path: str | Path) -> tuple[Pattern, ...]:
    """Extra patterns from a TOML file of ``[[pattern]]`` tables.

    Each table has ``kind`` and ``regex`` and optionally ``group``; anything else
    is refused rather than ignored, since a misspelt key silently dropping a
    pattern would let the secret it was meant to catch be committed.
    """
    path = Path(path)
    entries = table_array(path, "pattern", ScrubConfigError)
    return tuple(_config_pattern(path, number, entry) for number, entry in enumerate(entries, 1))


def _config_pattern(path: Path, number: int, entry: object) -> Pattern:
    where = f"{path}: pattern #{number}"
    if not isinstance(entry, dict):
        raise ScrubConfigError(f"{where}: not a table")
    if isinstance(entry.get("kind"), str):
        where += f" (kind {entry['kind']!r})"
    unknown = sorted(set(entry) - set(_ENTRY_KEYS))
    if unknown:
        raise ScrubConfigError(f"{where}: unknown key {unknown[0]!r}")
    for key, expected in _ENTRY_KEYS.items():
        if key == "group" and key not in entry:
            continue
        if key not in entry:
            raise ScrubConfigError(f"{where}: missing {key!r}")
        if not isinstance(entry[key], expected) or isinstance(entry[key], bool):
            raise ScrubConfigError(f"{where}: {key!r} must be a {expected.__name__}")
    try:
        regex = re.compile(entry["regex"])
    except re.error as error:
        raise ScrubConfigError(f"{where}: bad regex: {_one_line(error)}") from None
    try:
        return Pattern(entry["kind"], regex, entry.get("group", 0))
    except ValueError as error:
        raise ScrubConfigError(f"{where}: {error}") from None


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


@dataclass(frozen=True)
class Redactions:
    """What one kind of redaction amounted to; counts only, never a value."""

    kind: str
    values: int
    occurrences: int


# --- shapes -----------------------------------------------------------------------


class _Verdict(enum.Enum):
    SECRET = enum.auto()  # replace it
    KEEP = enum.auto()  # a placeholder or harmless value: leave it, and shield it from other rules
    SKIP = enum.auto()  # not this kind after all


class _Hit(NamedTuple):
    start: int
    end: int
    kind: str  # a redaction kind, or _KEEP / _ALIAS / _VERBATIM
    secret: str  # the identity of the secret (normalized), or an alias' replacement
    style: str = ""  # how the placeholder is spelled here: "", _DASHED or _QUOTED


_KEEP = "<keep>"
_ALIAS = "<alias>"
_VERBATIM = "<verbatim>"  # ``secret`` is the replacement text itself (already scrubbed)
_DASHED = "dashed"  # an account in the console's 1234-5678-9012 form
_QUOTED = "quoted"  # a JSON number in JSON text: the placeholder is a JSON string


def _secret(_: str) -> _Verdict:
    return _Verdict.SECRET


def _same(value: str) -> str:
    return value


@dataclass(frozen=True)
class _Rule:
    """One secret shape found by a regex; ``judge`` refines what the regex cannot."""

    kind: str
    regex: re.Pattern[str]
    group: int | str = 0
    judge: Callable[[str], _Verdict] = _secret
    identity: Callable[[str], str] = _same  # spellings of one secret that must map alike

    def hits(self, text: str) -> Iterator[_Hit]:
        for match in self.regex.finditer(text):
            start, end = match.span(self.group)
            if start >= end:  # empty, or the group did not take part
                continue
            found = match[self.group]
            verdict = _Verdict.KEEP if _is_placeholder(found) else self.judge(found)
            if verdict is _Verdict.SECRET:
                yield _Hit(start, end, self.kind, self.identity(found))
            elif verdict is _Verdict.KEEP:
                yield _Hit(start, end, _KEEP, found)


# Runs of REDACTED-<KIND>-<n> anywhere in a text, so no rule matches inside one.
_REDACTED = re.compile(r"REDACTED(?:-[A-Z0-9]{1,64}+){2,16}+")
_ACCOUNT_PLACEHOLDERS = r"123456789(?:0(?:1[2-9]|[2-9][0-9])|[1-9][0-9]{2})"
# Every fixed-shape placeholder this module issues (IPs are judged by their rules).
_PLACEHOLDER = re.compile(
    rf"""{_REDACTED.pattern}
    | AKIAEXAMPLE[0-9]{{9}}
    | user[0-9]+@example\.com
    | \+1-555-01[0-9]{{2}}
    | {_ACCOUNT_PLACEHOLDERS}""",
    re.VERBOSE,
)


def _is_placeholder(value: str) -> bool:
    return _PLACEHOLDER.fullmatch(value) is not None


_AUTH_SCHEME_WORD = re.compile(r"(?i)(?<![A-Za-z0-9])(?:basic|bearer|digest|negotiate|token)\b")


def is_placeholder(value: str) -> bool:
    """Whether ``value`` is nothing but placeholders a scrubber issues (with
    punctuation, spaces or an auth scheme between them): ``REDACTED-API-TOKEN-1``,
    ``Bearer REDACTED-TOKEN-2``, ``AKIAEXAMPLE000000001``, ``user1@example.com``.
    What a secret detector finds in a scrubbed file is then not a secret."""
    rest = _PLACEHOLDER.sub("", value)
    if rest == value:
        return False
    return re.search("[A-Za-z0-9]", _AUTH_SCHEME_WORD.sub("", rest)) is None


_ACCESS_KEY = _Rule(
    "aws-access-key-id",
    re.compile(
        r"(?<![A-Z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])"
    ),
)
# STS tokens are base64 of a structure whose first bytes spell "er/aws" or "origin_ec".
_SESSION_TOKEN = _Rule(
    "aws-session-token",
    re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9]{4}(?:ZXIvYXdz|b3JpZ2luX2Vj)[A-Za-z0-9/+=]{20,}+"),
)


def _judge_secret_key(value: str) -> _Verdict:
    # Mixed case plus a digit or /+ is what random base64 looks like; a 40-hex git
    # SHA (one case) or a 40-letter word is not a key.
    mixed = (
        any(c.isupper() for c in value)
        and any(c.islower() for c in value)
        and any(c.isdigit() or c in "/+" for c in value)
    )
    return _Verdict.SECRET if mixed else _Verdict.SKIP


_SECRET_KEY = _Rule(
    "aws-secret-access-key",
    re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"),
    judge=_judge_secret_key,
)
_PEM_LABEL = r"[A-Z ]{0,40}PRIVATE[ ]KEY(?:[ ]BLOCK)?-----"
# A whole block, or one cut short (a truncated log line or prompt): then the body
# runs as far as it looks like base64 lines or PEM headers.
_PEM = (
    rf"-----BEGIN{_PEM_LABEL}(?:(?:[^-]|-(?!-)){{0,16384}}+-----END{_PEM_LABEL}"
    r"|(?:[A-Za-z0-9+/=:,\r\n\\]|-(?!-)|[ ](?=[A-Za-z0-9])){0,16384}+)"
)
_API_TOKEN = _Rule(
    "api-token",
    re.compile(
        rf"""(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{{4,}}+\.eyJ[A-Za-z0-9_-]{{4,}}+\.[A-Za-z0-9_-]*+
        | (?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{{36,255}}+|github_pat_[A-Za-z0-9_]{{22,255}}+)
        | (?<![A-Za-z0-9-])xox[abprs]-[A-Za-z0-9-]{{10,}}+
        | {_PEM}""",
        re.VERBOSE,
    ),
)
#: Token shapes a contextual secret (a ``Bearer`` token, a secret-named value) is
#: classified by, so that it maps like the same token found on its own.
_SHAPES = (_API_TOKEN, _ACCESS_KEY, _SESSION_TOKEN, _SECRET_KEY)


def _shape_kind(value: str) -> str | None:
    for rule in _SHAPES:
        if rule.regex.fullmatch(value) and rule.judge(value) is _Verdict.SECRET:
            return rule.kind
    return None


# --- contextual rules: the secret is known by what precedes it ---------------------


def _judge_bearer(token: str) -> _Verdict:
    # "Bearer authentication" in prose is not a token; a real one is long or has digits.
    plausible = len(token) >= 20 or (len(token) >= 8 and any(c.isdigit() for c in token))
    return _Verdict.SECRET if plausible else _Verdict.SKIP


_BEARER = re.compile(
    r"(?<![A-Za-z0-9_-])(?i:bearer)[ \t]++"
    r"(?P<token>(?:[A-Za-z0-9_~+/-]|\.(?=[A-Za-z0-9_~+/-]))++=*+)"
)

#: Key names whose values are secrets, compared lowercased without non-alphanumerics:
#: a key ending in one of these, ending in ``token`` (but not a pagination or
#: idempotency token, :data:`_PUBLIC_TOKENS`), or exactly one of :data:`_SECRET_NAMES`.
_SECRET_SUFFIXES = (
    "secretaccesskey",
    "accesskeyid",
    "clientsecret",
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "secretkey",
    "secretbinary",
    "accesskey",
    "apikey",
    "clientkey",
    "sessionkey",
    "servicekey",
    "routingkey",
    "integrationkey",
    "licensekey",
    "authorization",
    "privatekey",
    "signingkey",
    "encryptionkey",
    "masterkey",
    "accountkey",
    "secretstring",
    "connectionstring",
    "cookie",
    "credential",
    "credentials",
    "signature",
    "webhookurl",
)
_TOKEN = "token"  # noqa: S105 -- a key name, not a password
_PUBLIC_TOKENS = (
    "nexttoken",
    "nextpagetoken",
    "pagetoken",
    "paginationtoken",
    "continuationtoken",
    "startingtoken",
    "resumetoken",
    "synctoken",
    "clienttoken",
    "idempotencytoken",
)
_SECRET_NAMES = ("auth", "sig", "pin", "otp")


def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _secret_name(name: str) -> bool:
    normal = _normal(name)
    if normal.endswith(_TOKEN):
        return not normal.endswith(_PUBLIC_TOKENS)
    return normal.endswith(_SECRET_SUFFIXES) or normal in _SECRET_NAMES


def _spelled(name: str) -> str:
    """``apikey`` as a regex also matching ``api_key``, ``api-key``, ``ApiKey``."""
    return "[_.-]?".join(name)


#: Where a secret name can end in text; :func:`_secret_name` judges the whole word.
_NAME_END = "|".join(
    [
        *map(_spelled, (*_SECRET_SUFFIXES, _TOKEN)),
        *(f"(?<![A-Za-z0-9_.-]){name}" for name in _SECRET_NAMES),
    ]
)
_KEY_VALUE = re.compile(
    rf"""(?i:(?P<name>{_NAME_END}))
    (?P<kq>\\*["'])?+ [ \t]*+ (?:=>|[:=]) [ \t]*+
    (?: (?P<pem>{_PEM})
      | \\++"(?P<esc>[^"\\\n]*+)
      | "(?P<dq>(?:[^"\\\n]|\\.)*+)
      | '(?P<sq>[^'\n]*+)
      | (?:(?i:basic|bearer|digest|negotiate|token)[ \t]++)?
        (?P<bare>[^\s"'\\,;&<>(){{}}\[\]]++)
    )""",
    re.VERBOSE,
)
_VALUE_GROUPS = ("pem", "esc", "dq", "sq", "bare")
_JSON_LITERAL = re.compile(r"null|true|false|-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def _word_before(text: str, end: int, start: int) -> str:
    """The whole key word that ends at ``end`` (the regex found only its tail)."""
    while start > 0 and end - start < 128 and text[start - 1] in _WORD_CHARS:
        start -= 1
    return text[start:end]


def _named_kind(name: str) -> str:
    """The kind of a secret-named value that has no token shape of its own."""
    return "aws-secret-access-key" if _normal(name).endswith("secretaccesskey") else "api-token"


def _secret_key_kind(key: object) -> str | None:
    """The kind a JSON value under ``key`` is redacted as whole, if ``key`` names a secret."""
    if isinstance(key, str) and _secret_name(key):
        return _named_kind(key)
    return None


def _secret_number(value: int | float) -> bool:
    """A number under a secret name worth hiding: four digits or more (a PIN, a key
    id); ``"token": 42`` or a flag is not a secret."""
    return sum(c.isdigit() for c in repr(value)) >= 4


#: Name/value pair conventions of AWS APIs: an object whose name field holds a
#: secret name has secret value fields (SSM ``Name``/``Value``, ECS and CodeBuild
#: ``name``/``value``, CloudFormation ``ParameterKey``/``ParameterValue``, RDS
#: ``ParameterName``/``ParameterValue``, tags ``Key``/``Value``, Elastic Beanstalk
#: ``OptionName``/``Value``, ...). An SSM ``SecureString`` value is secret whatever
#: its name.
_PAIR_NAMES = frozenset(
    {
        "name",
        "key",
        "parameterkey",
        "parametername",
        "optionname",
        "attributename",
        "variablename",
        "settingname",
        "propertyname",
        "secretname",
    }
)
_PAIR_VALUES = frozenset(
    {
        "value",
        "values",
        "parametervalue",
        "optionvalue",
        "attributevalue",
        "variablevalue",
        "settingvalue",
        "propertyvalue",
        "resolvedvalue",
        "defaultvalue",
        "secretvalue",
    }
)


def _pair_kind(field: str, value: object) -> str | None:
    """The secret kind an object's value fields take because of ``field: value``."""
    normal = _normal(field)
    if normal in _PAIR_NAMES and isinstance(value, str) and _secret_name(value):
        return _named_kind(value)
    if normal == "type" and value == "SecureString":
        return "api-token"
    return None


def _paired_secrets(obj: dict[Any, Any]) -> str | None:
    for field, value in obj.items():
        if isinstance(field, str) and (kind := _pair_kind(field, value)):
            return kind
    return None


def _pair_value(field: str) -> bool:
    return _normal(field) in _PAIR_VALUES


def _decoded(value: str) -> str:
    """A URL-encoded value decoded (``%2F`` -> ``/``), so it maps like the raw secret."""
    return unquote(value) if "%" in value else value


def _context_hit(match: re.Match[str], group: str, default_kind: str, style: str = "") -> _Hit:
    """A secret known by its context, classified by its own shape when it has one."""
    value = match[group]
    if _is_placeholder(value):
        return _Hit(*match.span(group), _KEEP, value)
    identity = _decoded(value)
    kind = _shape_kind(identity) or default_kind
    return _Hit(*match.span(group), kind, identity, style)


def _bearer_hits(text: str) -> Iterator[_Hit]:
    for match in _BEARER.finditer(text):
        if _judge_bearer(match["token"]) is _Verdict.SECRET:
            yield _context_hit(match, "token", "bearer-token")


#: ``scheme://user:password@host`` (database URLs in config dumps): the password.
_URL_PASSWORD = re.compile(
    r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,31}+://[^\s/:@\"'<>]{1,256}+:"
    r"(?P<password>[^\s/@\"'<>]{1,256}+)@"
)


def _url_password_hits(text: str) -> Iterator[_Hit]:
    for match in _URL_PASSWORD.finditer(text):
        yield _context_hit(match, "password", "api-token")


#: Chat webhook URLs: whoever has one can post as the integration. The host stays,
#: the path that is the credential goes.
_WEBHOOK = re.compile(
    r"""(?<![A-Za-z0-9+.-])https?://(?:
      hooks\.slack\.com/(?:services|workflows|triggers)/(?P<slack>[A-Za-z0-9/_-]{8,512}+)
    | (?:[a-z0-9-]{1,63}+\.)?(?:webhook\.office\.com|outlook\.office(?:365)?+\.com)
      /webhook(?:b2)?+/(?P<teams>[A-Za-z0-9@/_.-]{8,1024}+)
    | (?:(?:canary|ptb)\.)?+discord(?:app)?+\.com/api/(?:v[0-9]{1,2}/)?+webhooks/
      (?P<discord>[A-Za-z0-9/_-]{8,512}+)
    | chat\.googleapis\.com/v1/spaces/(?P<gchat>[A-Za-z0-9/_?&=%.-]{8,1024}+)
    | api\.telegram\.org/(?P<telegram>bot[0-9]{5,16}+:[A-Za-z0-9_-]{20,64}+)
    | [a-z0-9.-]{1,253}+\.logic\.azure\.com(?::443)?+/workflows/
      (?P<logic>[A-Za-z0-9/_?&=%.-]{8,1024}+)
    | [A-Za-z0-9.-]{1,253}+(?::[0-9]{1,5})?+/hooks/(?P<hooks>[A-Za-z0-9/_-]{16,512}+)
    )""",
    re.VERBOSE,
)
_WEBHOOK_GROUPS = ("slack", "teams", "discord", "gchat", "telegram", "logic", "hooks")


def _webhook_hits(text: str) -> Iterator[_Hit]:
    for match in _WEBHOOK.finditer(text):
        group = next(name for name in _WEBHOOK_GROUPS if match[name] is not None)
        yield _context_hit(match, group, "webhook-url")


#: ``Cookie:``/``Set-Cookie:`` header lines: every cookie on the line, not just the first.
_COOKIE_LINE = re.compile(
    r"(?<![A-Za-z0-9_-])(?i:set-cookie|cookie)[ \t]*+:[ \t]*+(?P<value>[^\r\n\"\\]{1,8192}+)"
)


def _cookie_hits(text: str) -> Iterator[_Hit]:
    for match in _COOKIE_LINE.finditer(text):
        yield _context_hit(match, "value", "api-token")


def _key_value_hits(text: str) -> Iterator[_Hit]:
    for match in _KEY_VALUE.finditer(text):
        name = _word_before(text, match.end("name"), match.start("name"))
        if not _secret_name(name):
            continue  # nextToken=..., spin: 5
        group = next(name for name in _VALUE_GROUPS if match[name] is not None)
        value = match[group]
        if not value:
            continue
        style = ""
        if group == "bare" and match["kq"] and _JSON_LITERAL.fullmatch(value):
            # JSON text: like value(), only strings and long numbers are secrets
            if value[0] not in "-0123456789" or not _secret_number(float(value)):
                continue
            style = _QUOTED + match["kq"][:-1]  # quoted as the key is: "x" or \"x\"
        yield _context_hit(match, group, _named_kind(name), style)


#: JSON text (a response body in a log line, JSON embedded in a prompt, with
#: ``\"``-escaped quotes too): a key, and the start of its value.
_JSON_TOKEN = re.compile(
    r"""(?P<open>\{) | (?P<close>\}) |
    (?:(?P<q>\\++)|)"(?P<key>[^"\\\n]{1,128}+)(?(q)(?P=q))"[ \t\r\n]*+:[ \t\r\n]*+
    (?: (?(q)(?P=q))"(?P<str>(?(q)[^"\\\n]*+|(?:[^"\\\n]|\\.)*+))
      | (?P<num>-?[0-9]++(?:\.[0-9]++)?+(?:[eE][+-]?+[0-9]++)?+)
      | (?P<arr>\[)
      | (?P<obj>\{)
    )?""",
    re.VERBOSE,
)
_JSON_ITEM = re.compile(
    r"""[ \t\r\n]*+(?: (?:(?P<q>\\++)|)"(?P<str>(?(q)[^"\\\n]*+|(?:[^"\\\n]|\\.)*+))(?(q)(?P=q))"
      | (?P<num>-?[0-9]++(?:\.[0-9]++)?+(?:[eE][+-]?+[0-9]++)?+) )[ \t\r\n]*+(?P<end>,|\])?""",
    re.VERBOSE,
)
_MAX_DEPTH = 256


@dataclass
class _Frame:
    inherited: str | None  # the kind every value takes (the object is under a secret name)
    paired: str | None = None  # the kind value fields take (a secret name/value pair)
    pending: list[_Hit] | None = None  # value fields, waiting for the pair's name field


def _value_hit(match: re.Match[str], kind: str) -> _Hit | None:
    if match["str"]:
        return _context_hit(match, "str", kind)
    if match["num"] and _secret_number(float(match["num"])):
        return _context_hit(match, "num", kind, _QUOTED + (match["q"] or ""))
    return None


def _array_hits(text: str, position: int, kind: str) -> tuple[list[_Hit], int]:
    hits: list[_Hit] = []
    for _ in range(4096):
        item = _JSON_ITEM.match(text, position)
        if item is None or item.end() == position:
            break
        position = item.end()
        hit = _value_hit(item, kind)
        if hit is not None:
            hits.append(hit)
        if item["end"] != ",":
            break
    return hits, position


def _json_text_hits(text: str) -> Iterator[_Hit]:
    """Secret-named keys at any depth and name/value pairs, in JSON text.

    A small stack machine over the keys and braces of the text: an object under a
    secret-named key passes the secret down to every value in it, and an object
    holding a name/value pair with a secret name has its value fields redacted
    when it closes (or when the text ends, for JSON cut short).
    """
    stack = [_Frame(None)]
    position = 0
    while (match := _JSON_TOKEN.search(text, position)) is not None:
        position = max(match.end(), position + 1)
        if match["str"] and '\\"' in match["str"]:
            position = match.start("str")  # JSON text inside this string: read it too
        frame = stack[-1]
        if match["open"]:
            stack.append(_Frame(frame.inherited))
            continue
        if match["close"]:
            if len(stack) > 1:
                yield from _flush(stack.pop())
            continue
        key = match["key"]
        kind = _secret_key_kind(key) or frame.inherited
        if match["obj"]:
            if len(stack) < _MAX_DEPTH:
                stack.append(_Frame(kind))
            continue
        paired = kind is None and _pair_value(key)
        if match["arr"]:
            hits, position = _array_hits(text, position, kind or "api-token")
        elif kind is None and match["num"] and match["num"].isdigit():
            account = _account_number(int(match["num"]), key)
            if account is not None:
                verdict = _KEEP if _is_placeholder(account) else "account-id"
                yield _Hit(*match.span("num"), verdict, account)
            continue
        else:
            hit = _value_hit(match, kind or "api-token") if kind or paired else None
            hits = [hit] if hit is not None else []
            if frame.paired is None and match["str"] is not None:
                frame.paired = _pair_kind(key, match["str"])
        if kind:
            yield from hits
        elif paired:
            frame.pending = [*(frame.pending or []), *hits]
    for frame in reversed(stack):
        yield from _flush(frame)


def _flush(frame: _Frame) -> Iterator[_Hit]:
    if frame.paired and frame.pending:
        for hit in frame.pending:
            if hit.kind != _KEEP:
                hit = hit._replace(kind=_shape_kind(hit.secret) or frame.paired)
            yield hit


# --- accounts, people, addresses -----------------------------------------------------

_ARN_ACCOUNT = _Rule(
    "account-id",
    re.compile(
        r"(?<![A-Za-z0-9])arn:[a-z][a-z0-9-]{0,31}+:[A-Za-z0-9-]{0,63}+:[a-z0-9-]{0,31}+:"
        r"(?P<account>[0-9]{12}):"
    ),
    group="account",
)
_STANDALONE_ACCOUNT = _Rule(
    "account-id",
    re.compile(
        r"(?<![0-9A-Za-z])(?<![0-9]\.)"
        r"(?<![0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-)"  # a UUID's last group
        r"[0-9]{12}(?![0-9A-Za-z])(?!\.[0-9])"
    ),
)
#: The account as the console shows it, ``1234-5678-9012``; maps like ``123456789012``.
_CONSOLE_ACCOUNT = re.compile(r"(?<![0-9A-Za-z-])[0-9]{4}-[0-9]{4}-[0-9]{4}(?![0-9A-Za-z]|-[0-9])")


def _console_account_hits(text: str) -> Iterator[_Hit]:
    for match in _CONSOLE_ACCOUNT.finditer(text):
        digits = match[0].replace("-", "")
        if _is_placeholder(digits):
            yield _Hit(*match.span(), _KEEP, match[0])
        else:
            yield _Hit(*match.span(), "account-id", digits, _DASHED)


#: JSON numbers that are accounts: 12 digits anywhere, or 9 to 11 under an
#: account-named key (an account id with leading zeros, stored as a number).
_ACCOUNT_KEYS = ("accountid", "account", "ownerid", "accountnumber")


def _account_number(value: int, key: object) -> str | None:
    if 10**11 <= value < 10**12:
        return str(value)
    if 10**8 <= value < 10**11 and isinstance(key, str) and _normal(key).endswith(_ACCOUNT_KEYS):
        return f"{value:012d}"
    return None


def _judge_email(text: str) -> _Verdict:
    # ``scheme://user:REDACTED-API-TOKEN-1@db.internal``: a redacted URL password
    # before the host, not a mailbox (the host would be lost to example.com).
    return _Verdict.SKIP if _REDACTED.fullmatch(text.rpartition("@")[0]) else _Verdict.SECRET


_EMAIL = _Rule(
    "email",
    re.compile(
        r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}+@"
        r"(?:[A-Za-z0-9-]{1,63}+\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])"
    ),
    judge=_judge_email,
    identity=str.casefold,
)

_IPV4_POOLS = tuple(
    ipaddress.IPv4Network(block)
    for block in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "198.18.0.0/15")
)
_IPV6_POOL = ipaddress.IPv6Network("2001:db8::/32")


def _judge_ipv4(text: str) -> _Verdict:
    address = ipaddress.IPv4Address(text)
    harmless = address.is_loopback or address.is_unspecified
    return _Verdict.KEEP if harmless or any(address in p for p in _IPV4_POOLS) else _Verdict.SECRET


def _judge_ipv6(text: str) -> _Verdict:
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:  # 12:30:45, a MAC address, ...
        return _Verdict.SKIP
    groups = [part for part in text.split(":") if part]
    if len(groups) < 3 and not re.search("[a-fA-F]", text):
        return _Verdict.SKIP  # 1::2 reads as well as a ratio or a C++ scope as an address
    harmless = address.is_loopback or address.is_unspecified or address in _IPV6_POOL
    return _Verdict.KEEP if harmless else _Verdict.SECRET


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = _Rule(
    "ip-address",
    re.compile(rf"(?<![0-9A-Za-z.]){_OCTET}(?:\.{_OCTET}){{3}}(?![0-9]|\.[0-9])"),
    judge=_judge_ipv4,
)
_IPV6 = _Rule(
    "ip-address",
    re.compile(
        r"(?<![0-9A-Za-z:.])(?=[0-9A-Fa-f]{0,4}+:[0-9A-Fa-f]{0,4}+:)"
        r"(?:[0-9A-Fa-f:]{1,38}(?:[0-9A-Fa-f]|::)|::)"
        r"(?![0-9A-Za-z]|:[0-9A-Fa-f:]|\.[0-9])"
    ),
    judge=_judge_ipv6,
    identity=lambda text: ipaddress.IPv6Address(text).compressed,
)


def _phone_identity(text: str) -> str:
    digits = re.sub(r"[^0-9]", "", text)
    return "1" + digits if len(digits) == 10 and not text.startswith("+") else digits


def _judge_international(text: str) -> _Verdict:
    return _Verdict.SECRET if 8 <= sum(c.isdigit() for c in text) <= 15 else _Verdict.SKIP


# A leading "+" or North-American separators are required, so that dates, times,
# versions, 12-digit ids and counts never read as phone numbers.
_PHONE_INTERNATIONAL = _Rule(
    "phone-number",
    re.compile(
        r"(?<![\w+])\+[1-9][0-9]{0,2}+(?:[ .-]?+\([0-9]{1,4}+\))?+"  # +44 (20)
        r"(?:[ .-]?+[0-9]{1,4}+){1,6}+(?![0-9])"
    ),
    judge=_judge_international,
    identity=_phone_identity,
)
_PHONE_NORTH_AMERICAN = _Rule(
    "phone-number",
    re.compile(
        r"(?<![\w+./-])(?:1[ .-])?(?:\([2-9][0-9]{2}\)[ .-]?+|[2-9][0-9]{2}[.-])"
        r"[0-9]{3}[.-][0-9]{4}(?![0-9]|[.-][0-9])"
    ),
    identity=_phone_identity,
)

_Finder = Callable[[str], Iterator[_Hit]]

#: Built-in finders, highest priority first; configured patterns come after them.
_RULES: tuple[_Finder, ...] = (
    _bearer_hits,
    _url_password_hits,
    _webhook_hits,
    _cookie_hits,
    _key_value_hits,
    _json_text_hits,
    *(rule.hits for rule in _SHAPES),
    _ARN_ACCOUNT.hits,
    _console_account_hits,
    _EMAIL.hits,
    _IPV4.hits,
    _IPV6.hits,
    _PHONE_INTERNATIONAL.hits,
    _PHONE_NORTH_AMERICAN.hits,
    _STANDALONE_ACCOUNT.hits,
)


# --- placeholders --------------------------------------------------------------------


def _ipv4_placeholder(n: int) -> str:
    for pool in _IPV4_POOLS[:-1]:
        hosts = pool.num_addresses - 2
        if n <= hosts:
            return str(pool.network_address + n)
        n -= hosts
    return str(_IPV4_POOLS[-1].network_address + n)


def _phone_placeholder(n: int) -> str:
    # 555-0100..0199 are the only fictional NANP lines; past 100, an extension keeps
    # them apart (a number *with an area code* could be a real one, so none is used).
    extension, line = divmod(n - 1, 100)
    return f"+1-555-01{line:02d}" + (f";ext={extension}" if extension else "")


#: Placeholder makers by family (a kind, or a kind's sub-family), given the ordinal.
_MINT: dict[str, Callable[[int], str]] = {
    "aws-access-key-id": lambda n: f"AKIAEXAMPLE{n:09d}",
    "aws-secret-access-key": lambda n: f"REDACTED-SECRET-KEY-{n}",
    "aws-session-token": lambda n: f"REDACTED-SESSION-TOKEN-{n}",
    "account-id": lambda n: str(123456789011 + n),
    "email": lambda n: f"user{n}@example.com",
    "ipv4": _ipv4_placeholder,
    "ipv6": lambda n: str(_IPV6_POOL.network_address + n),
    "bearer-token": lambda n: f"REDACTED-TOKEN-{n}",
    "phone-number": _phone_placeholder,
}


def _family(kind: str, secret: str) -> str:
    """IPv4 and IPv6 number their placeholders apart: 192.0.2.1 and 2001:db8::1 coexist."""
    if kind == "ip-address":
        return "ipv6" if ":" in secret else "ipv4"
    return kind


def _spelling(placeholder: str, style: str) -> str:
    if style == _DASHED:
        return f"{placeholder[:4]}-{placeholder[4:8]}-{placeholder[8:]}"
    if style.startswith(_QUOTED):
        quote_mark = style[len(_QUOTED) :] + '"'
        return f"{quote_mark}{placeholder}{quote_mark}"
    return placeholder


#: Encoded text inside a text: URL-encoded runs (a presigned URL's query, a form
#: body) and base64 runs (a credentials file, a docker ``auth``, user data).
_URL_ENCODED = re.compile(
    r"(?<![A-Za-z0-9._~%-])(?=[A-Za-z0-9._~-]{0,4096}+%[0-9A-Fa-f]{2})"
    r"(?:[A-Za-z0-9._~-]|%[0-9A-Fa-f]{2}){6,4096}+"
)
_BASE64 = re.compile(
    r"(?<![A-Za-z0-9+/_-])(?:[A-Za-z0-9+/]{20,65536}+|[A-Za-z0-9_-]{20,65536}+)={0,2}+"
    r"(?![A-Za-z0-9+/=_-])"
)


def _base64_text(run: str) -> str | None:
    """What a base64 run says, if it decodes to readable text."""
    padded = run.rstrip("=")
    if len(padded) % 4 == 1:
        return None
    padded += "=" * (-len(padded) % 4)
    try:
        raw = base64.b64decode(
            padded, altchars=b"-_" if "-" in run or "_" in run else None, validate=True
        )
        text = raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not all(c.isprintable() or c in "\r\n\t" for c in text):
        return None
    return text


#: ``text`` rescans until nothing changes. A later pass only replaces a span that
#: takes in an earlier placeholder, so two passes are usual; the bound keeps an
#: adversarial input linear.
_MAX_PASSES = 4

# --- the scrubber ----------------------------------------------------------------------


class Scrubber:
    """Replaces secrets consistently for the lifetime of one instance.

    Use one instance per scenario file so request and response agree; two fresh
    instances fed the same inputs in the same order give the same output.
    """

    def __init__(self, extra: Sequence[Pattern] = ()) -> None:
        self._extra = tuple(extra)
        extras = tuple(_Rule(p.kind, p.regex, p.group).hits for p in extra)
        shapes = _RULES.index(_SHAPES[0].hits)
        self._finders: tuple[_Finder, ...] = (
            self._alias_hits,
            *_RULES[:shapes],
            self._url_encoded_hits,
            *_RULES[shapes : shapes + len(_SHAPES)],
            self._base64_hits,
            *_RULES[shapes + len(_SHAPES) :],
            *extras,
        )
        self._maps: dict[str, dict[str, str]] = {}  # kind -> secret -> placeholder
        self._ordinals: Counter[str] = Counter()  # family -> placeholders issued
        self._occurrences: Counter[str] = Counter()
        self._issued: set[str] = set()
        self._aliases: dict[str, str] = {}
        self._alias_regex: re.Pattern[str] | None = None

    # public API

    def text(self, value: str) -> str:
        """``value`` with every secret replaced by its placeholder.

        Repeated until nothing changes: a replacement can change what its
        neighbourhood reads as (``password=(202) 555-0199x`` only reads as one
        password once the phone number is a placeholder), and the result must be
        what a second scrub would leave alone.
        """
        for _ in range(_MAX_PASSES):
            scrubbed = self._pass(value)
            if scrubbed == value:
                break
            value = scrubbed
        return value

    def value(self, obj: Any) -> Any:
        """A scrubbed deep copy of JSON-like data; keys are scrubbed as text too.

        A value under a secret-named key (``password``, ``apiKey``, ``api_token``,
        ...) is replaced whole, at any depth below it (lists, objects); so are the
        value fields of a name/value pair whose name is a secret name (SSM
        ``Name``/``Value``, ECS ``name``/``value``, CloudFormation
        ``ParameterKey``/``ParameterValue``, tags, ...). A secret number (four
        digits or more) becomes its placeholder string; an account id stored as a
        number becomes a placeholder account number. Keys that scrub to an earlier
        key get a `` (2)`` suffix rather than merge. Non-JSON types raise
        ``TypeError``: an unknown value might carry a secret nobody looked at.
        """
        return self._walk(obj, None, None)

    def alias(self, original: str, replacement: str) -> None:
        """Replace ``original`` verbatim, before any pattern, and shield ``replacement``.

        For values derived from secrets that no pattern recognises (an id hashed
        from an ARN). Not counted as a redaction.
        """
        if not original:
            raise ValueError("alias original must be non-empty")
        if self._aliases.setdefault(original, replacement) != replacement:
            raise ValueError("alias original is already mapped to another replacement")
        self._alias_regex = None

    def redactions(self) -> list[Redactions]:
        """Counts per kind, sorted by kind."""
        return [
            Redactions(kind, len(self._maps[kind]), self._occurrences[kind])
            for kind in sorted(self._maps)
        ]

    def summary(self) -> str:
        """One line for the CLI, e.g. ``redacted: email 1 value (3 occurrences)``."""
        parts = [
            f"{r.kind} {_plural(r.values, 'value')} ({_plural(r.occurrences, 'occurrence')})"
            for r in self.redactions()
        ]
        return "redacted: " + (", ".join(parts) if parts else "nothing")

    # internals

    def _pass(self, value: str) -> str:
        hits = self._select(value)
        if not hits:
            return value
        parts: list[str] = []
        position = 0
        for hit in hits:
            parts.append(value[position : hit.start])
            replacement = (
                hit.secret
                if hit.kind in (_ALIAS, _VERBATIM)
                else _spelling(self._placeholder(hit.kind, hit.secret), hit.style)
            )
            parts.append(replacement)
            position = hit.end
        parts.append(value[position:])
        return "".join(parts)

    def _walk(self, obj: Any, secret_kind: str | None, key: object) -> Any:
        if isinstance(obj, str):
            return self._whole(obj, secret_kind) if secret_kind else self.text(obj)
        if isinstance(obj, dict):
            paired = _paired_secrets(obj)
            scrubbed: dict[Any, Any] = {}
            for field, item in obj.items():
                new_key = _unique(self.text(field), scrubbed) if isinstance(field, str) else field
                kind = _secret_key_kind(field) or secret_kind
                if kind is None and paired and isinstance(field, str) and _pair_value(field):
                    kind = paired
                scrubbed[new_key] = self._walk(item, kind, field)
            return scrubbed
        if isinstance(obj, list):
            return [self._walk(item, secret_kind, key) for item in obj]
        if obj is None or isinstance(obj, bool):
            return obj
        if isinstance(obj, int | float):
            return self._number(obj, secret_kind, key)
        raise TypeError(f"cannot scrub a {type(obj).__name__}: not JSON data")

    def _number(self, value: int | float, secret_kind: str | None, key: object) -> Any:
        if secret_kind and _secret_number(value):
            return self._placeholder(secret_kind, repr(value))
        account = _account_number(value, key) if isinstance(value, int) else None
        if account is None or _is_placeholder(account):
            return value
        return int(self._placeholder("account-id", account))

    def _url_encoded_hits(self, text: str) -> Iterator[_Hit]:
        """A URL-encoded run is decoded and scrubbed: a token shape maps like the raw
        token; anything else with a secret inside is scrubbed and re-encoded."""
        for match in _URL_ENCODED.finditer(text):
            decoded = unquote(match[0])
            if decoded == match[0]:
                continue
            if _is_placeholder(decoded):
                yield _Hit(*match.span(), _KEEP, match[0])
            elif kind := _shape_kind(decoded):
                yield _Hit(*match.span(), kind, decoded)
            elif (scrubbed := self.text(decoded)) != decoded:
                yield _Hit(*match.span(), _VERBATIM, quote(scrubbed, safe="-._~"))

    def _base64_hits(self, text: str) -> Iterator[_Hit]:
        """A base64 run that decodes to text holding a secret (a credentials file,
        ``user:password``) is replaced whole; the secrets inside are not counted."""
        for match in _BASE64.finditer(text):
            decoded = _base64_text(match[0])
            if decoded is not None and Scrubber(self._extra).text(decoded) != decoded:
                yield _Hit(*match.span(), "encoded-secret", match[0])

    def _whole(self, value: str, named_kind: str) -> str:
        if not value or self._kept(value):
            return value
        return self._placeholder(_shape_kind(value) or named_kind, value)

    def _kept(self, value: str) -> bool:
        return value in self._issued or value in self._aliases.values() or _is_placeholder(value)

    def _placeholder(self, kind: str, secret: str) -> str:
        self._occurrences[kind] += 1
        table = self._maps.setdefault(kind, {})
        placeholder = table.get(secret)
        if placeholder is None:
            family = _family(kind, secret)
            self._ordinals[family] += 1
            mint = _MINT.get(family, lambda n: f"REDACTED-{kind.upper()}-{n}")
            placeholder = table[secret] = mint(self._ordinals[family])
            self._issued.add(placeholder)
        return placeholder

    def _shield_issued(self, text: str, hit: _Hit) -> _Hit:
        """A hit on a placeholder this instance issued is kept, whatever its shape."""
        if hit.kind != _ALIAS and text[hit.start : hit.end] in self._issued:
            return hit._replace(kind=_KEEP)
        return hit

    def _alias_hits(self, text: str) -> Iterator[_Hit]:
        if not self._aliases:
            return
        if self._alias_regex is None:
            # Longest first, so an alias that extends another wins at the same place.
            def longest_first(literals: set[str]) -> str:
                return "|".join(map(re.escape, sorted(literals, key=len, reverse=True)))

            replacements = {r for r in self._aliases.values() if r}
            keep = f"(?P<keep>{longest_first(replacements)})|" if replacements else ""
            self._alias_regex = re.compile(
                f"{keep}(?P<original>{longest_first(set(self._aliases))})"
            )
        for match in self._alias_regex.finditer(text):
            if match["keep"] is not None:
                yield _Hit(*match.span(), _KEEP, match[0])
            else:
                yield _Hit(*match.span(), _ALIAS, self._aliases[match[0]])

    def _select(self, text: str) -> list[_Hit]:
        """The hits to replace, in text order.

        Placeholders (and harmless values) found by any rule are shielded: a hit
        that equals or cuts into one is dropped, one that strictly contains it wins
        (``password=pw192.0.2.1`` is still a password). Among the rest, the first
        rule wins an overlap.
        """
        found = [[_Hit(*m.span(), _KEEP, m[0]) for m in _REDACTED.finditer(text)]]
        found += [
            [self._shield_issued(text, hit) for hit in finder(text)] for finder in self._finders
        ]
        kept = _merge(sorted((h.start, h.end) for hits in found for h in hits if h.kind == _KEEP))
        taken = bytearray(len(text))
        chosen: list[_Hit] = []
        for hits in found:
            for hit in hits:
                if hit.kind == _KEEP or _cuts_into(kept, hit.start, hit.end):
                    continue
                if taken.find(1, hit.start, hit.end) != -1:
                    continue
                taken[hit.start : hit.end] = b"\x01" * (hit.end - hit.start)
                chosen.append(hit)
        return sorted(chosen)


def _merge(spans: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Overlapping spans merged; returned as parallel start and end lists for bisecting."""
    starts: list[int] = []
    ends: list[int] = []
    for start, end in spans:
        if starts and start < ends[-1]:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


def _cuts_into(kept: tuple[list[int], list[int]], start: int, end: int) -> bool:
    """Whether ``[start, end)`` equals or partly overlaps a shielded span."""
    starts, ends = kept
    first = bisect_right(starts, start) - 1
    if first >= 0 and ends[first] > start and (starts[first] < start or ends[first] >= end):
        return True
    last = bisect_right(starts, end - 1) - 1
    return last >= 0 and ends[last] > end


def _unique(key: str, taken: dict[Any, Any]) -> str:
    """``key``, or ``key (2)``, ... when scrubbing made it equal to an earlier key.

    Happens when data holds a secret and its placeholder side by side (accounts
    111122223333 and 123456789012); merging the two entries would lose one.
    """
    candidate, n = key, 1
    while candidate in taken:
        n += 1
        candidate = f"{key} ({n})"
    return candidate


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
