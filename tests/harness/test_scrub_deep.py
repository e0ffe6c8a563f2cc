"""The scrubber against issue 17's shapes: presigned URLs, AWS name/value pairs,
secrets nested under secret names, encoded secrets, console-form and numeric
account ids, chat webhooks -- as JSON data and as JSON text, kept consistent,
idempotent and structure-preserving."""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.capture.scrub import Redactions, Scrubber, is_placeholder
from opx.events import parse_event
from tests.harness.deep_secrets import (
    AKID,
    SECRET_KEY,
    SHAPES,
    TOKEN,
    aws_reads,
    deep_secret_event,
    leaked_shapes,
    session_token,
)


def test_the_event_plants_every_shape_and_is_a_valid_incident() -> None:
    event = deep_secret_event()
    assert set(leaked_shapes(json.dumps(event))) == set(SHAPES)
    parse_event(event)


@pytest.mark.parametrize(
    "form",
    [
        pytest.param(lambda s, e: json.dumps(s.value(e)), id="json-data"),
        pytest.param(lambda s, e: s.text(json.dumps(e)), id="json-text"),
        pytest.param(
            lambda s, e: s.text(json.dumps(e, sort_keys=True, indent=2)), id="sorted-text"
        ),
        pytest.param(lambda s, e: s.text(json.dumps(json.dumps(e))), id="escaped-json-text"),
        pytest.param(lambda s, e: s.text(json.dumps(e)[:3000]), id="truncated-json-text"),
    ],
)
def test_no_shape_survives_in_any_form(form: Any) -> None:
    scrubber = Scrubber()
    out = form(scrubber, deep_secret_event())
    assert leaked_shapes(out) == {}
    assert Scrubber().text(out) == out  # idempotent, with a fresh scrubber too
    assert leaked_shapes(scrubber.summary() + repr(scrubber.redactions())) == {}


def test_scrubbed_data_keeps_its_structure_and_is_idempotent() -> None:
    event = deep_secret_event()
    scrubber = Scrubber()
    out = scrubber.value(event)
    assert Scrubber().value(out) == out
    assert scrubber.value(out) == out
    parse_event(out)
    reads = out["detail"]["evidence_bundle"]["aws_reads"]
    # Non-secret pairs stay as they were.
    assert reads["ssm"]["Parameters"][1]["Value"] == "us-east-1"
    assert reads["ecs"]["containerDefinitions"][0]["environment"][0] == {
        "name": "LOG_LEVEL",
        "value": "info",
    }
    assert reads["cloudformation"]["Parameters"][0]["ParameterValue"] == "prod"
    # Account ids stored as numbers stay numbers: placeholder accounts (the title's
    # console-form account came first).
    assert out["detail"]["title"].startswith("5xx spike in account 1234-5678-9012 ")
    assert reads["organizations"]["Account"]["Id"] == 123456789013
    assert reads["sts"]["Account"] == 123456789014
    # A secret number becomes its placeholder (a string); the pair's name stays.
    assert reads["nested"]["pin_password"].startswith("REDACTED-API-TOKEN-")
    assert reads["ssm"]["Parameter"]["Name"] == "/prod/db/password"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # SSM, ECS, CloudFormation, RDS, tags, Elastic Beanstalk, Lambda
        ({"Name": "/prod/db/password", "Value": "v"}, {"Name": "/prod/db/password", "Value": "R1"}),
        ({"name": "DB_PASSWORD", "value": "v"}, {"name": "DB_PASSWORD", "value": "R1"}),
        (
            {"ParameterKey": "DbPassword", "ParameterValue": "v", "ResolvedValue": "w"},
            {"ParameterKey": "DbPassword", "ParameterValue": "R1", "ResolvedValue": "R2"},
        ),
        (
            {"ParameterName": "master_password", "ParameterValue": "v"},
            {"ParameterName": "master_password", "ParameterValue": "R1"},
        ),
        ({"Key": "api_token", "Value": "v"}, {"Key": "api_token", "Value": "R1"}),
        (
            {"OptionName": "STRIPE_SECRET", "Value": "v"},
            {"OptionName": "STRIPE_SECRET", "Value": "R1"},
        ),
        (
            {"Name": "/prod/dsn", "Type": "SecureString", "Value": "v"},
            {"Name": "/prod/dsn", "Type": "SecureString", "Value": "R1"},
        ),
        (
            {"Key": "GITHUB_TOKEN", "Values": ["a", "b"]},
            {"Key": "GITHUB_TOKEN", "Values": ["R1", "R2"]},
        ),
        # Not secrets: an ordinary pair, pagination and idempotency tokens, small numbers.
        (
            {"Name": "FunctionName", "Value": "checkout"},
            {"Name": "FunctionName", "Value": "checkout"},
        ),
        (
            {"nextToken": "p2", "ClientToken": "c1", "NextPageToken": "p3"},
            {"nextToken": "p2", "ClientToken": "c1", "NextPageToken": "p3"},
        ),
        (
            {"token": 42, "password": True, "secret": None},
            {"token": 42, "password": True, "secret": None},
        ),
        # Service keys and binary secrets (PagerDuty, New Relic, Azure, Secrets Manager).
        (
            {"routing_key": "a", "license_key": "b", "SharedAccessKey": "c", "SecretBinary": "d"},
            {
                "routing_key": "R1",
                "license_key": "R2",
                "SharedAccessKey": "R3",
                "SecretBinary": "R4",
            },
        ),
        # Nested under a secret name, any depth and type.
        (
            {"password": {"value": "v", "n": [{"x": 73914562}]}},
            {"password": {"value": "R1", "n": [{"x": "R2"}]}},
        ),
        (
            {"Credentials": {"AccessKeyId": "k", "Expiration": "t"}},
            {"Credentials": {"AccessKeyId": "R1", "Expiration": "R2"}},
        ),
        # More secret names.
        (
            {
                "secret_key": "a",
                "api_token": "b",
                "Cookie": "c",
                "passphrase": "d",
                "X-Auth-Token": "e",
            },
            {
                "secret_key": "R1",
                "api_token": "R2",
                "Cookie": "R3",
                "passphrase": "R4",
                "X-Auth-Token": "R5",
            },
        ),
    ],
)
def test_pairs_nesting_and_names_in_json_data(data: Any, expected: Any) -> None:
    out = Scrubber().value(data)
    assert json.loads(json.dumps(out).replace("REDACTED-API-TOKEN-", "R")) == expected
    # The same object as JSON text in a log line scrubs alike.
    text = Scrubber().text("body " + json.dumps(data))
    assert text == "body " + json.dumps(out)


def test_presigned_url_tokens_map_like_the_raw_token() -> None:
    scrubber = Scrubber()
    url = (
        "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        f"&X-Amz-Credential={AKID}%2F20261129%2Fus-east-1%2Fs3%2Faws4_request"
        f"&X-Amz-Security-Token={quote(TOKEN, safe='')}&X-Amz-Signature={'ab12' * 16}"
    )
    out = scrubber.text(f"{url} and later {TOKEN} and ?X-Amz-Security-Token={TOKEN}&a=1")
    assert out == (
        "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=REDACTED-API-TOKEN-1&X-Amz-Security-Token=REDACTED-SESSION-TOKEN-1"
        "&X-Amz-Signature=REDACTED-API-TOKEN-2 and later REDACTED-SESSION-TOKEN-1 and "
        "?X-Amz-Security-Token=REDACTED-SESSION-TOKEN-1&a=1"
    )


def test_sigv4_and_sigv2_signatures() -> None:
    header = (
        f"Authorization: AWS4-HMAC-SHA256 Credential={AKID}/20261129/us-east-1/s3/aws4_request, "
        f"SignedHeaders=host;x-amz-date, Signature={'ab12' * 16}"
    )
    assert Scrubber().text(header) == (
        "Authorization: REDACTED-API-TOKEN-1 Credential=REDACTED-API-TOKEN-2, "
        "SignedHeaders=host;x-amz-date, Signature=REDACTED-API-TOKEN-3"
    )
    v2 = f"https://b.s3.amazonaws.com/k?AWSAccessKeyId={AKID}&Expires=1764388800&Signature=a%2Bb%3D"
    assert Scrubber().text(v2) == (
        "https://b.s3.amazonaws.com/k?AWSAccessKeyId=AKIAEXAMPLE000000001&Expires=1764388800"
        "&Signature=REDACTED-API-TOKEN-1"
    )


def test_url_encoded_and_base64_secrets() -> None:
    scrubber = Scrubber()
    encoded = quote(SECRET_KEY, safe="")
    assert "%2F" in encoded and "%2B" in encoded
    out = scrubber.text(f"cb?k={encoded}&x=1 raw {SECRET_KEY}")
    assert out == "cb?k=REDACTED-SECRET-KEY-1&x=1 raw REDACTED-SECRET-KEY-1"
    # Anything else URL-encoded with a secret inside: decoded, scrubbed, re-encoded.
    assert Scrubber().text("q=mail%3Djane.doe%40corp.invalid%26x%3D1 end") == (
        "q=mail%3Duser1%40example.com%26x%3D1 end"
    )
    # base64 of a credentials file or user:password: replaced whole.
    creds = base64.b64encode(f"[default]\naws_access_key_id = {AKID}\n".encode()).decode()
    scrubber = Scrubber()
    assert scrubber.text(f"file {creds} end") == "file REDACTED-ENCODED-SECRET-1 end"
    assert scrubber.redactions() == [Redactions("encoded-secret", 1, 1)]
    # base64 of harmless text, and random base64, are left alone.
    harmless = base64.b64encode(b"just a log line without secrets in it").decode()
    assert Scrubber().text(f"data {harmless}") == f"data {harmless}"
    token_like = base64.b64encode(bytes(range(200, 240))).decode()
    assert Scrubber().text(f"blob {token_like}") == f"blob {token_like}"


def test_truncated_pem_and_truncated_json_text() -> None:
    pem_head = "-----BEGIN RSA " + "PRIVATE KEY-----\nMIIEowIBAAKCAQEA0FAKEfakeFAKEfake"
    assert Scrubber().text(f"key: {pem_head}") == "key: REDACTED-API-TOKEN-1"
    assert Scrubber().text(f'{{"k": "{pem_head[:40]}') == '{"k": "REDACTED-API-TOKEN-1'
    cut = '{"Parameter": {"Name": "/prod/db/password", "Type": "String", "Value": "s3cr3t-FA'
    assert Scrubber().text(cut) == cut.replace("s3cr3t-FA", "REDACTED-API-TOKEN-1")


def test_console_accounts_and_webhooks() -> None:
    scrubber = Scrubber()
    out = scrubber.text("acct 2109-8765-4321 = 210987654321; ours 1234-5678-9012")
    assert out == "acct 1234-5678-9012 = 1234567890 12; ours 1234-5678-9012".replace(
        "90 12", "9012"
    )
    assert scrubber.redactions() == [Redactions("account-id", 1, 2)]
    slack = "https://hooks.slack.com/services/T0FAKE001/B0FAKE002/" + "Fake" * 6
    discord = "https://discord.com/api/webhooks/123456789/" + "fAkE" * 17
    mattermost = "https://chat.example.com/hooks/" + "fake" * 7
    out = Scrubber().text(f"{slack} {discord} {mattermost}")
    assert out == (
        "https://hooks.slack.com/services/REDACTED-WEBHOOK-URL-1 "
        "https://discord.com/api/webhooks/REDACTED-WEBHOOK-URL-2 "
        "https://chat.example.com/hooks/REDACTED-WEBHOOK-URL-3"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"pin_password": 73914562}', '{"pin_password": "REDACTED-API-TOKEN-1"}'),
        ('{\\"pin_password\\": 73914562}', '{\\"pin_password\\": \\"REDACTED-API-TOKEN-1\\"}'),
        (
            '{\\"password\\": {\\"n\\": 73914562}}',
            '{\\"password\\": {\\"n\\": \\"REDACTED-API-TOKEN-1\\"}}',
        ),
        ('{"token": 42, "pin": 1234}', '{"token": 42, "pin": "REDACTED-API-TOKEN-1"}'),
    ],
)
def test_a_secret_number_in_json_text_becomes_a_quoted_placeholder(
    text: str, expected: str
) -> None:
    """Quoted the way the key is, so JSON embedded in JSON stays JSON."""
    assert Scrubber().text(text) == expected
    assert Scrubber().text(expected) == expected


def test_a_redacted_url_password_keeps_its_host() -> None:
    """Found by the detector pass: the redacted password read as an email's local part."""
    out = Scrubber().text("postgres://checkout:s3cr3t-FAKE-dbpass@db.internal:5432/orders")
    assert out == "postgres://checkout:REDACTED-API-TOKEN-1@db.internal:5432/orders"


def test_is_placeholder() -> None:
    for value in [
        "REDACTED-API-TOKEN-3",
        "Bearer REDACTED-TOKEN-1",
        "AKIAEXAMPLE000000001",
        "user1@example.com",
        "123456789012",
        "REDACTED-A-1, REDACTED-B-2",
    ]:
        assert is_placeholder(value), value
    for value in ["hunter2", "REDACTED-API-TOKEN-3x", "xREDACTED-API-TOKEN-3", "", "Bearer abc"]:
        assert not is_placeholder(value), value


DEEP_FRAGMENTS = [
    json.dumps(aws_reads()),
    "X-Amz-Security-Token=",
    quote(session_token(7), safe=""),
    "%2F",
    "%3D",
    '{"Name": "',
    '", "Value": "',
    "/prod/db/password",
    "1234-",
    "5678-",
    "hooks.slack.com/services/",
    "https://",
    base64.b64encode(b"password=hunter2\n").decode(),
    "-----BEGIN RSA " + "PRIVATE KEY-----\n",
    '\\"',
    "{",
    "}",
    ": 73914562",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(DEEP_FRAGMENTS) | st.text(max_size=4), max_size=10).map("".join))
def test_deep_rules_are_idempotent_and_deterministic(text: str) -> None:
    first, second = Scrubber(), Scrubber()
    once = first.text(text)
    assert second.text(text) == once
    assert first.text(once) == once
    assert Scrubber().text(once) == once


def test_a_megabyte_of_near_misses_for_the_new_rules() -> None:
    blocks = [
        "%2F" * 40_000,
        "a%" * 40_000,
        '{"Name": "x", ' * 8_000,
        '{"password": {' * 5_000,
        "{" * 60_000,
        "QUJD" * 30_000,
        "1234-5678-" * 10_000,
        "https://hooks.slack.com/services/" * 3_000,
        ("-----BEGIN RSA " + "PRIVATE KEY-----") * 2_500,
        '"pin_password": 1' * 5_000,
        "Cookie: " * 12_000,
    ]
    text = "".join(blocks)
    assert len(text) > 1_000_000
    started = time.perf_counter()
    Scrubber().text(text)
    assert time.perf_counter() - started < 60  # linear: seconds; a backtracking rule: hours
