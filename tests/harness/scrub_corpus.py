"""Planted secrets: one or more of every kind the scrubber redacts, all documented-fake.

Shared by the scrubber's own tests and by the record/import tests, which feed
:func:`secret_bearing_event` through the real pipeline and then assert that no
string in :data:`PLANTED` reaches the scenario file. Every value is a
documentation example (AWS's example keys and accounts, RFC 1918/3849-style
addresses, ``.invalid``/``example.net`` domains, a 555 number) or made up in the
right shape; none is a real credential, account or person.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from tests.support import sample_event

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiJmYWtlLXVzZXItMDAwMSIsImlzcyI6Im9weC10ZXN0In0"
    ".RkFLRS1zaWduYXR1cmUtbm90LXJlYWw"
)
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIFAKEFAKEFAKEnotARealKeyJustTheShapeOfOne0123456789+/\n"
    "AAAAFAKEFAKEFAKEfakefakefake==\n"
    "-----END RSA PRIVATE KEY-----"
)

#: kind -> secret strings that must never survive scrubbing.
PLANTED: dict[str, list[str]] = {
    "aws-access-key-id": ["AKIAIOSFODNN7EXAMPLE", "ASIAIOSFODNN7EXAMPLE"],
    "aws-secret-access-key": [
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    ],
    "aws-session-token": [
        "FwoGZXIvYXdzEFAKEfakeSessionTokenForTestsOnly0123456789+/==",
        "IQoJb3JpZ2luX2VjEFAKEfakeSessionTokenNotReal//////////0123456789abcdef=",
    ],
    "account-id": ["111122223333", "444455556666"],
    "email": ["jane.doe@corp.invalid", "oncall-team@example.net"],
    "ip-address": ["10.20.30.40", "172.16.5.4", "2600:1f18:abcd::42"],
    "bearer-token": ["opxFAKEbearer0123456789abcdef"],
    "api-token": [
        JWT,
        "ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0000",
        "xoxb-000000000000-FAKEnotarealtoken",
        "hunter2-Correct-Horse",
        "fake-api-key-7f3a9c",
        PEM,
        "s3cr3t-FAKE-dbpass",
    ],
    "phone-number": ["+1-202-555-0147", "(202) 555-0199"],
    # Assembled, so that no webhook-shaped literal sits in the repository.
    "webhook-url": ["https://hooks.slack" + ".com/services/T0FAKE000/B0FAKE000/" + "FAKE" * 6],
    "encoded-secret": [base64.b64encode(b"[ci]\ndb_password = hunter3-FAKE-in-base64\n").decode()],
}


def leaked(text: str) -> list[str]:
    """The planted secrets (or lines of multi-line ones) found in ``text``.

    Looks for each as written and as JSON-escaped, so ``text`` may be a raw string,
    a JSON dump or a scenario file.
    """
    pieces = {secret for secrets in PLANTED.values() for secret in secrets}
    pieces |= {line for s in pieces if "\n" in s for line in s.splitlines() if "-----" not in line}
    escaped = {piece: json.dumps(piece)[1:-1] for piece in pieces}
    return sorted(p for p in pieces if p in text or escaped[p] in text)


def secret_bearing_event() -> dict[str, Any]:
    """A valid ``opx.incident``/``IncidentCreated`` event carrying every planted secret.

    Built on the shared sample incident; the secrets sit where production puts
    them: the account in the envelope and in resource ARNs, people and addresses in
    the title and service, credentials deep in the evidence bundle as log lines,
    config maps and embedded JSON text.
    """
    p = PLANTED
    event = sample_event("opx_incident")
    event["account"] = p["account-id"][0]
    event["resources"] = [
        f"arn:aws:lambda:us-east-1:{p['account-id'][0]}:function:checkout-api",
        f"arn:aws:iam::{p['account-id'][1]}:role/opx-cross-account",
    ]
    detail = event["detail"]
    detail["service"] = f"checkout-api on {p['ip-address'][0]}"
    detail["title"] = f"5xx spike after deploy by {p['email'][0]}; paged {p['phone-number'][0]}"
    detail["evidence_bundle"]["deployment"] |= {
        "commit": COMMIT,
        "author": p["email"][1],
        "env": [
            f"AWS_ACCESS_KEY_ID={p['aws-access-key-id'][0]}",
            f"AWS_SECRET_ACCESS_KEY={p['aws-secret-access-key'][0]}",
            f"AWS_SESSION_TOKEN={p['aws-session-token'][0]}",
        ],
    }
    detail["evidence_bundle"] |= {
        "app_logs": [
            f"2026-11-29T03:51:02.113Z WARN upstream {p['ip-address'][1]} reset; "
            f"Authorization: Bearer {p['bearer-token'][0]}",
            f"2026-11-29T03:51:07.004Z ERROR [{p['ip-address'][2]}]:443 refused "
            f"token={p['api-token'][2]} (callback {p['phone-number'][1]})",
            f"assumed {p['aws-access-key-id'][1]} with {p['aws-session-token'][1]}",
        ],
        "config": {
            "db": {
                "host": "db.internal",
                "password": p["api-token"][3],
                "url": f"postgres://checkout:{p['api-token'][6]}@db.internal:5432/orders",
            },
            "x-api-key": p["api-token"][4],
            "ci": {"GITHUB_TOKEN": p["api-token"][1], "Authorization": p["api-token"][0]},
            "tls": {"private_key": p["api-token"][5]},
        },
        "notify": f"posting to {p['webhook-url'][0]}",
        "build_env": f"ENV_FILE={p['encoded-secret'][0]}",
        "raw_response": (
            '{"Credentials": {"SecretAccessKey": "'
            + p["aws-secret-access-key"][1]
            + '", "Expiration": "2026-11-29T05:00:00Z"}, "nextToken": "AAAA-page-2"}'
        ),
    }
    return event


COMMIT = "3b18e512dba79e4c8300dd08aeb37f8e728b8dad"
#: The one false positive the detector pass (harness.capture.secret_scan) finds in a
#: scrubbed secret-bearing event: the deployment's git commit, 40 hex digits, in
#: the event and wherever the agents quote it. Allowlisted the way a project
#: would, by its value, with its reason.
COMMIT_ALLOWLIST = f"""\
[[allow]]
file = "*.json"
path = "$..*"
kind = "Hex High Entropy String"
value_sha256 = "{hashlib.sha256(COMMIT.encode()).hexdigest()}"
reason = "a git commit SHA of the deployment: public in the repository, not a credential"
"""


def allow_the_commit(scenarios: Path) -> None:
    """Commit :data:`COMMIT_ALLOWLIST` with the scenarios in ``scenarios``."""
    scenarios.mkdir(parents=True, exist_ok=True)
    (scenarios / "secret-allowlist.toml").write_text(COMMIT_ALLOWLIST, encoding="utf-8")
