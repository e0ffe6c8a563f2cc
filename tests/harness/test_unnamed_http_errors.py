"""A bare 5xx from Bedrock: the harness's fault stands for an error page botocore cannot name.

``consensus-single-voter`` scripts Bedrock answering 500, 502, 503 and 504 with the code
``"500"`` ... ``"504"`` (``harness.wire.eventstream.error_response``: a JSON body and an
``x-amzn-errortype`` header). In production such an answer is a load balancer's HTML page
with neither. The scenario stands for it only if botocore makes the same ``(code, status)``
of both -- the pair ``opx.agents.retry.is_retryable`` decides on (an unnamed code falls back
to the status). These tests hold botocore to that: if a botocore release began to name an
HTML 503 otherwise, the scenario would pin a retry production no longer takes.
"""

from __future__ import annotations

from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config

from harness.wire.eventstream import error_response, http_response
from opx.agents import is_retryable

PAGE = (
    b"<html><head><title>{status} Service Temporarily Unavailable</title></head>"
    b"<body><center><h1>{status}</h1></center><hr><center>awselb/2.0</center></body></html>"
)


def _error_of(answer: AWSResponse) -> tuple[str, int]:
    """What the executor's Bedrock client raises for ``answer``: its code and status."""
    client = boto3.client(
        "bedrock-agent-runtime",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 0}),
    )

    def send(**_: Any) -> AWSResponse:
        return answer

    client.meta.events.register("before-send", send)
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        client.invoke_agent(
            agentId="OPXCHANGE1", agentAliasId="TSTALIASID", sessionId="s-1", inputText="x"
        )
    response = raised.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_an_html_error_page_reads_as_the_scripted_bare_fault(status: int) -> None:
    page = PAGE.replace(b"{status}", str(status).encode())
    html = http_response(status, {"content-type": "text/html"}, page)
    scripted = error_response(status, str(status), "Service Temporarily Unavailable")
    assert _error_of(html) == _error_of(scripted) == (str(status), status)
    assert is_retryable(str(status), status)


def test_a_bare_4xx_is_not_retried() -> None:
    # The fallback is for transient statuses only: an unnamed 400 is final.
    code, status = _error_of(error_response(400, "400", "Bad Request"))
    assert not is_retryable(code, status)
