"""Issue 17's planted secrets: the shapes real AWS payloads take, one or more each.

Every value is fake but realistic in shape, and assembled here at run time from
parts (a seeded generator, prefixes split in two) so that no credential-shaped
literal sits in the repository for a scanner or push protection to trip over.

:data:`SHAPES` maps a shape name to the strings that must never reach a written
file; :func:`deep_secret_event` plants them all, where production puts them, into
a valid ``opx.incident`` event; :func:`leaked_shapes` says which shapes leaked.
"""

from __future__ import annotations

import base64
import json
import random
from typing import Any
from urllib.parse import quote

from tests.support import sample_event

_BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_UPPER_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_HEX = "0123456789abcdef"


def _random(seed: int, alphabet: str, length: int) -> str:
    generator = random.Random(seed)
    return "".join(generator.choice(alphabet) for _ in range(length))


def access_key(seed: int) -> str:
    return "AK" + "IA" + "FAKE" + _random(seed, _UPPER_DIGITS, 12)


def secret_access_key(seed: int) -> str:
    """40 base64-alphabet characters with a ``/`` and a ``+`` (so URL-encoding shows)."""
    body = _random(seed, _BASE64_ALPHABET, 36)
    return f"{body[:9]}/{body[9:20]}+{body[20:35]}Fk9"


def session_token(seed: int) -> str:
    return "Fwo" + "GZXIvYXdz" + "EFAKE" + _random(seed, _BASE64_ALPHABET, 180) + "=="


def private_key_body(seed: int) -> str:
    return "\n".join(_random(seed + n, _BASE64_ALPHABET, 64) for n in range(4))


def _secret(seed: int, length: int = 24) -> str:
    return "fake-" + _random(seed, "abcdefghjkmnpqrstuvwxyz23456789", length)


AKID = access_key(1)
SECRET_KEY = secret_access_key(2)
TOKEN = session_token(3)
SIGNATURE = _random(4, _HEX, 64)
TRUNCATED_PEM = "-----BEGIN OPENSSH " + "PRIVATE KEY-----\n" + private_key_body(5)
CREDENTIALS_FILE = (
    f"[default]\naws_access_key_id = {access_key(6)}\n"
    f"aws_secret_access_key = {secret_access_key(7)}\n"
)
CREDENTIALS_BASE64 = base64.b64encode(CREDENTIALS_FILE.encode()).decode()
ENCODED_SECRET_KEY = quote(secret_access_key(8), safe="")
SLACK_HOOK = "https://hooks.slack.com/services/T0FAKE0001/B0FAKE0002/" + _random(
    9, "abcdefghijABCDEFGHIJ", 24
)
TEAMS_HOOK = (
    "https://contoso.webhook.office.com/webhookb2/"
    f"{_random(10, _HEX, 8)}-0000-4000-8000-{_random(11, _HEX, 12)}@fake-tenant"
    f"/IncomingWebhook/{_random(12, _HEX, 32)}/fake-owner"
)
DISCORD_HOOK = "https://discord.com/api/webhooks/1234567890123/" + _random(
    13, _BASE64_ALPHABET[:62], 68
)

#: shape -> the strings that must not survive (each as written, and decoded forms).
SHAPES: dict[str, list[str]] = {
    "presigned-url": [TOKEN, quote(TOKEN, safe=""), SIGNATURE, AKID],
    "ssm-parameter": [_secret(20), _secret(21)],
    "ecs-environment": [_secret(22)],
    "cloudformation-parameter": [_secret(23)],
    "tag-and-option-pairs": [_secret(24), _secret(25), _secret(26)],
    "name-value-pair-in-json-text": [_secret(27), _secret(28)],
    "nested-under-secret-key": [_secret(29), _secret(30), _secret(31)],
    "secret-number": ["73914562", "5820417396"],
    "more-secret-names": [_secret(32), _secret(33), _secret(34), _secret(35), _secret(36)],
    "truncated-pem": [private_key_body(5).splitlines()[0], private_key_body(5).splitlines()[2]],
    "base64-credentials-file": [CREDENTIALS_BASE64, access_key(6), secret_access_key(7)],
    "url-encoded-secret-key": [ENCODED_SECRET_KEY, secret_access_key(8)],
    "console-account-id": ["2109-8765-4321", "210987654321"],
    "chat-webhook": [
        SLACK_HOOK.rsplit("/", 3)[-1],
        TEAMS_HOOK.split("/webhookb2/")[1],
        DISCORD_HOOK.rsplit("/", 1)[1],
    ],
    "account-id-number": ["987654321098", "55566677788"],
}


def leaked_shapes(text: str) -> dict[str, list[str]]:
    """Shape -> how many of its planted strings appear in ``text`` (as written or JSON-escaped).

    Values are never returned, only counts per shape, so a failing test does not
    print a (fake) secret either.
    """
    found = {}
    for shape, secrets in SHAPES.items():
        hits = [s for s in secrets if s in text or json.dumps(s)[1:-1] in text]
        if hits:
            found[shape] = [f"#{secrets.index(s)}" for s in hits]
    return found


def aws_reads() -> dict[str, Any]:
    """Structured AWS answers as an evidence bundle quotes them."""
    s = SHAPES
    return {
        "ssm": {
            "Parameter": {
                "Name": "/prod/db/password",
                "Type": "String",
                "Value": s["ssm-parameter"][0],
            },
            "Parameters": [
                {
                    "Name": "/prod/checkout/dsn",
                    "Type": "SecureString",
                    "Value": s["ssm-parameter"][1],
                },
                {"Name": "/prod/checkout/region", "Type": "String", "Value": "us-east-1"},
            ],
        },
        "ecs": {
            "containerDefinitions": [
                {
                    "name": "checkout",
                    "environment": [
                        {"name": "LOG_LEVEL", "value": "info"},
                        {"name": "DB_PASSWORD", "value": s["ecs-environment"][0]},
                    ],
                }
            ]
        },
        "cloudformation": {
            "Parameters": [
                {"ParameterKey": "Environment", "ParameterValue": "prod"},
                {"ParameterKey": "DbPassword", "ParameterValue": s["cloudformation-parameter"][0]},
            ]
        },
        "tags": [{"Key": "api_token", "Value": s["tag-and-option-pairs"][0]}],
        "beanstalk": [
            {
                "Namespace": "aws:elasticbeanstalk:application:environment",
                "OptionName": "STRIPE_SECRET",
                "Value": s["tag-and-option-pairs"][1],
            }
        ],
        "lambda": {"Environment": {"Variables": {"SIGNING_KEY": s["tag-and-option-pairs"][2]}}},
        "nested": {
            "password": {"value": s["nested-under-secret-key"][0]},
            "db": {"credentials": {"user": "app", "pass": s["nested-under-secret-key"][1]}},
            "pin_password": int(s["secret-number"][0]),
        },
        "organizations": {"Account": {"Id": int(s["account-id-number"][0]), "Name": "payments"}},
        "sts": {"Account": int(s["account-id-number"][1])},
    }


def deep_secret_event() -> dict[str, Any]:
    """A valid ``opx.incident`` event carrying every shape above."""
    s = SHAPES
    event = sample_event("opx_incident")
    presigned = (
        "https://opx-artifacts.s3.amazonaws.com/report.json?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        f"&X-Amz-Credential={AKID}%2F20261129%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20261129T035100Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host"
        f"&X-Amz-Security-Token={quote(TOKEN, safe='')}&X-Amz-Signature={SIGNATURE}"
    )
    detail = event["detail"]
    detail["title"] = f"5xx spike in account {s['console-account-id'][0]} after deploy"
    detail["evidence_bundle"] |= {
        "aws_reads": aws_reads(),
        "app_logs": [
            f"2026-11-29T03:51:02.113Z WARN fetched {presigned}",
            f"2026-11-29T03:51:03.000Z DEBUG presign X-Amz-Security-Token={TOKEN}",
            f"boot: secret_key={s['more-secret-names'][0]} region=us-east-1",
            f"request headers: Cookie: session={s['more-secret-names'][1]}; theme=dark",
            f"gpg passphrase: {s['more-secret-names'][2]}",
            f"deploy key (cut off): {TRUNCATED_PEM[:260]}",
            f"uploaded credentials file {CREDENTIALS_BASE64} to the build",
            f"callback https://internal.example.com/cb?key_material={ENCODED_SECRET_KEY}&x=1",
            f"notify {SLACK_HOOK} and {TEAMS_HOOK} and {DISCORD_HOOK}",
        ],
        "config": {"api_token": s["more-secret-names"][3], "Passphrase": s["more-secret-names"][4]},
        "raw_ssm_response": json.dumps(
            {
                "Parameter": {
                    "Name": "/prod/payments/api_key",
                    "Type": "String",
                    "Value": s["name-value-pair-in-json-text"][0],
                    "Version": 3,
                }
            }
        ),
        "raw_nested_response": json.dumps(
            {
                "Tags": [{"Key": "db_password", "Value": s["name-value-pair-in-json-text"][1]}],
                "password": {"value": s["nested-under-secret-key"][2]},
                "pin_password": int(s["secret-number"][1]),
            }
        ),
    }
    return event
