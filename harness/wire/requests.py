"""Normalize a serialized AWS request back into its operation parameters.

Matching happens on what actually went over the wire (after botocore serialized
it), read back through the service model into ``{member: value}`` -- so a recording
is independent of header order, signing, timestamps and endpoint, and a changed
prompt is a changed ``inputText``. JSON-valued strings (``inputText``) are decoded so
scenario files stay readable and diffs point inside them -- and must be the canonical
encoding of what they decode to, so the decoded form still pins every byte.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import botocore.session
from botocore.exceptions import UnknownServiceError
from botocore.model import OperationModel


@cache
def _botocore_session() -> botocore.session.Session:
    return botocore.session.get_session()


#: botocore event names carry the hyphenized service *id*; models load by service
#: *name*. The two differ for some services: the ones the harness meets are known,
#: any other is looked up once (loading every model takes seconds).
_KNOWN_NAMES = {"cloudwatch-logs": "logs"}


@cache
def service_name(service_id: str) -> str:
    """The botocore service name for the hyphenized service id in an event name."""
    if service_id in _KNOWN_NAMES:
        return _KNOWN_NAMES[service_id]
    session = _botocore_session()
    if service_id in session.get_available_services():
        return service_id
    for name in session.get_available_services():
        if session.get_service_model(name).service_id.hyphenize() == service_id:
            return name
    raise UnknownServiceError(service_name=service_id, known_service_names=[])


@cache
def operation_model(service: str, operation: str) -> OperationModel:
    """The operation's model; ``service`` as an event name spells it."""
    model = _botocore_session().get_service_model(service_name(service))
    return model.operation_model(operation)


def request_body(request: Any) -> bytes | None:
    """The body of a prepared botocore request as bytes (it may be str or a stream)."""
    body = request.body
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return body.read()


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def fingerprint(service: str, operation: str, params: dict[str, Any]) -> str:
    """Order-independent identity of a request (before any repeat ordinal)."""
    document = canonical({"operation": operation, "params": params, "service": service})
    return hashlib.sha256(document.encode()).hexdigest()


#: Added beside a decoded JSON string whose bytes are not :func:`canonical`'s.
ENCODING_KEY = "__wire_encoding__"


def encoding_difference(sent: str, expected: str) -> str:
    """One readable line: how ``sent`` differs from the canonical encoding ``expected``."""
    at = next(
        (n for n, (a, b) in enumerate(zip(sent, expected, strict=False)) if a != b),
        min(len(sent), len(expected)),
    )
    digest = hashlib.sha256(sent.encode()).hexdigest()
    window = slice(max(0, at - 24), at + 24)
    return (
        f"not the canonical JSON encoding (sorted keys, compact separators, UTF-8 unescaped): "
        f"{len(sent.encode())} bytes sent (sha256 {digest}), canonical "
        f"{len(expected.encode())}; first difference at character {at}: "
        f"sent {sent[window]!r}, canonical {expected[window]!r}"
    )


def decode_json_strings(value: Any, *, pinned: bool = True) -> Any:
    """Replace strings holding a JSON object or array by the decoded value.

    The decoded form is readable and diffs point inside it, but it forgets the bytes:
    a prompt sent pretty-printed, key-reordered or ASCII-escaped decodes the same and
    is billed (and answered) differently. So the bytes must be :func:`canonical`'s
    encoding of the decoded value -- then the decoded form pins every byte -- and a
    string that is not gets an ``ENCODING_KEY`` entry saying where it differs: its
    fingerprint matches no recording, and the unmatched-request diff shows that line.
    JSON strings *inside* a decoded one are data (an evidence field holding JSON), not
    an encoding the sender chose; they are decoded for reading (``pinned=False``), and
    the outer string's canonical bytes already pin them.
    """
    if isinstance(value, dict):
        return {key: decode_json_strings(item, pinned=pinned) for key, item in value.items()}
    if isinstance(value, list):
        return [decode_json_strings(item, pinned=pinned) for item in value]
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        if isinstance(decoded, dict | list):
            readable = decode_json_strings(decoded, pinned=False)
            expected = canonical(decoded)
            if not pinned or value == expected:
                return readable
            difference = encoding_difference(value, expected)
            if isinstance(readable, dict):
                return {**readable, ENCODING_KEY: difference}
            return {ENCODING_KEY: difference, "decoded": readable}
    return value


def _uri_pattern(template: str) -> re.Pattern[str]:
    path = template.split("?")[0]
    pattern = ""
    for piece in re.split(r"(\{[^}]+\})", path):
        if piece.startswith("{"):
            name = piece[1:-1]
            greedy = name.endswith("+")
            group = re.sub(r"\W", "_", name.rstrip("+"))
            pattern += f"(?P<{group}>{'.+' if greedy else '[^/]+'})"
        else:
            pattern += re.escape(piece)
    return re.compile(pattern + "$")


def request_params(
    service: str, operation: str, method: str, url: str, headers: Any, body: bytes | None
) -> dict[str, Any]:
    """The operation's parameters as sent, for the JSON-based protocols."""
    model = operation_model(service, operation)
    members = model.input_shape.members if model.input_shape is not None else {}
    parts = urlsplit(url)
    params: dict[str, Any] = {}
    payload = json.loads(body) if body else {}
    protocol = model.metadata["protocol"]
    if protocol == "json":
        return decode_json_strings(payload)
    uri = _uri_pattern(model.http["requestUri"]).search(parts.path)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    for name, shape in members.items():
        location = shape.serialization.get("location")
        wire = shape.serialization.get("name", name)
        if location == "uri" and uri is not None:
            params[name] = unquote(uri.group(re.sub(r"\W", "_", wire)))
        elif location == "querystring" and wire in query:
            params[name] = query[wire]
        elif location == "header" and wire in headers:
            value = headers[wire]
            params[name] = value.decode() if isinstance(value, bytes) else value
        elif location is None and isinstance(payload, dict) and wire in payload:
            params[name] = payload[wire]
    return decode_json_strings(params)


__all__ = [
    "ENCODING_KEY",
    "canonical",
    "decode_json_strings",
    "encoding_difference",
    "fingerprint",
    "operation_model",
    "request_body",
    "request_params",
    "service_name",
]
