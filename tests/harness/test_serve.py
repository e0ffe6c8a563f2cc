"""``opx-harness serve``: a scenario's recorded answers as a Bedrock Agent runtime.

The point of the server is that ``record`` (and the executor) can run against it
with no AWS account, so the main proof runs what a user types -- ``serve`` in the
background, ``record`` with the environment ``serve`` printed -- in processes of
their own; the rest drives :func:`harness.serve.serve` and a plain boto3 client.

What recording a bundled scenario's event against its own answers guarantees:
``responses``, ``final_state``, ``checkpoints`` and ``bedrock_calls`` equal the
bundled snapshot's (same answers by agent, same tokens and models, hence the same
consensus, top action and cost). ``clock`` and ``metrics`` do not: ``record`` starts
the clock at the wall-clock time of the live run and keeps the latencies it measured;
``scenario`` is the new name.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EventStreamError

from harness.cli import main
from harness.scenario import load_scenario
from harness.serve import (
    HOST,
    OverridesError,
    ScenarioRuntime,
    load_overrides,
    parse_overrides,
    serve,
)

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sysconfig.get_path("scripts")) / "opx-harness"
RDS = ROOT / "scenarios" / "rds-failover.json"
THROTTLED = ROOT / "scenarios" / "agent-throttled-then-succeeds.json"
#: The snapshot fields a recording of the same answers reproduces (module docstring).
REPRODUCED = ("responses", "final_state", "checkpoints", "bedrock_calls")


def _env(**extra: str) -> dict[str, str]:
    """The test process' environment without any AWS setting, this checkout first on
    the path (the installed script would import the main checkout's code)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    return {**env, **extra}


def _interruptible() -> None:
    """Ctrl-C reaches the server even when the test runs in a background job: a
    non-interactive shell starts ``cmd &`` with SIGINT ignored, a child inherits that,
    and Python installs its KeyboardInterrupt handler only over the default action."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def served_rds() -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``opx-harness serve scenarios/rds-failover.json`` and the one line it printed."""
    process = subprocess.Popen(
        [str(SCRIPT), "serve", str(RDS), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        preexec_fn=_interruptible,
    )
    try:
        assert process.stdout is not None
        yield process, process.stdout.readline()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def _exports(line: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in shlex.split(line.split(" -- export ", 1)[1]))


def _record(tmp_path: Path, event: Any, name: str) -> dict[str, Any]:
    event_file = tmp_path / f"{name}-event.json"
    event_file.write_text(json.dumps(event))
    argv = ["record", "--event", str(event_file), "--name", name]
    argv += ["--scenarios", str(tmp_path / "scenarios"), "--snapshots", str(tmp_path / "snapshots")]
    assert main(argv) == 0
    return json.loads((tmp_path / "snapshots" / f"{name}.json").read_text(encoding="utf-8"))


def _bundled(path: Path) -> dict[str, Any]:
    return json.loads((ROOT / "snapshots" / path.name).read_text(encoding="utf-8"))


def _top_action(snapshot: dict[str, Any]) -> str:
    return snapshot["responses"][0]["body"]["consensus"]["recommendation"]["top_action"]


def _client(runtime: ScenarioRuntime) -> Any:
    """A Bedrock Agent runtime client that does not retry: each call is one exchange."""
    return boto3.client(
        "bedrock-agent-runtime",
        region_name="us-east-1",
        endpoint_url=runtime.url,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def _invoke(client: Any, agent: str, session: str = "s-1") -> list[dict[str, Any]]:
    answer = client.invoke_agent(
        agentId="AGENT1",
        agentAliasId="ALIAS1",
        sessionId=session,
        inputText=json.dumps({"agent": agent}),
        enableTrace=True,
    )
    return list(answer["completion"])


# --------------------------------------------------------------------------- the command


def test_record_against_the_served_scenario_reproduces_its_snapshot(
    tmp_path: Path, served_rds: tuple[subprocess.Popen[str], str]
) -> None:
    """What the README tells a user to type, each command in a process of its own, and
    only the printed environment pointing ``record`` at the served answers."""
    process, line = served_rds
    assert line.startswith("serving rds-failover (6 agents) at http://127.0.0.1:"), line
    exports = _exports(line)
    assert exports["AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME"].startswith("http://127.0.0.1:")
    assert exports["AWS_ACCESS_KEY_ID"] == exports["AWS_SECRET_ACCESS_KEY"] == "testing"
    assert exports["AWS_REGION"] == "us-east-1"
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(load_scenario(RDS).events[0]))
    done = subprocess.run(
        [
            *(str(SCRIPT), "record", "--event", str(event_file), "--name", "rds-again"),
            *(
                "--scenarios",
                str(tmp_path / "scenarios"),
                "--snapshots",
                str(tmp_path / "snapshots"),
            ),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(**exports),
    )
    assert done.returncode == 0, done.stderr
    recorded = json.loads((tmp_path / "snapshots" / "rds-again.json").read_text(encoding="utf-8"))
    bundled = _bundled(RDS)
    for field in REPRODUCED:
        assert recorded[field] == bundled[field], field
    assert _top_action(recorded) == "restart"
    # SIGTERM ends it cleanly: exit 0, nothing on stderr.
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    assert process.stderr is not None and process.stderr.read() == ""


def test_ctrl_c_ends_serving_with_exit_0(served_rds: tuple[subprocess.Popen[str], str]) -> None:
    process, line = served_rds
    assert "serving" in line
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.json"], "missing.json: cannot read"),
        ([str(ROOT / "scenarios" / "ag-xray-throttled.json")], "no Bedrock agent answers"),
        ([str(RDS), "--overrides", "OVERRIDES"], "OVERRIDES: $.signal-intelligence.tokens"),
        ([str(RDS), "--port", "70000"], "not a port number"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    overrides = tmp_path / "overrides.yaml"
    overrides.write_text("signal-intelligence:\n  output: hello\n  tokens: [1, -2]\n")
    args = [str(overrides) if a == "OVERRIDES" else a for a in args]
    message = message.replace("OVERRIDES", str(overrides))
    done = subprocess.run(
        [sys.executable, "-m", "harness", "serve", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(),
    )
    assert done.returncode == 2
    assert message in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_a_taken_port_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with serve(load_scenario(RDS)) as runtime:
        assert main(["serve", str(RDS), "--port", str(runtime.port)]) == 2
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{runtime.port}" in err and err.count("\n") == 1


# --------------------------------------------------------------------------- the API


def test_an_override_changes_the_top_action(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "The model now answers differently": four of six agents now say fail back."""
    answer = {
        "answer": {
            "hypothesis": "The standby is unhealthy; fail back to the original primary",
            "confidence": 0.9,
            "recommendations": [
                {"type": "failback", "description": "Fail back", "confidence": 0.9}
            ],
        },
        "tokens": [1000, 200],
    }
    agents = ("signal-intelligence", "change-intelligence", "historical-pattern")
    overrides = parse_overrides({agent: answer for agent in (*agents, "response-strategy")})
    with serve(load_scenario(RDS), overrides=overrides) as runtime:
        for name, value in runtime.environment().items():
            monkeypatch.setenv(name, value)
        recorded = _record(tmp_path, load_scenario(RDS).events[0], "rds-failback")
    bundled = _bundled(RDS)
    assert (_top_action(bundled), _top_action(recorded)) == ("restart", "failback")
    tokens = {c["agent"]: c["input_tokens"] for c in recorded["bedrock_calls"]}
    assert tokens["signal-intelligence"] == 1000 and tokens["knowledge-rag"] != 1000
    body = recorded["responses"][0]["body"]
    assert body["cost"]["total_usd"] != bundled["responses"][0]["body"]["cost"]["total_usd"]


def test_faults_are_served_in_recorded_order_then_the_last_answer_repeats() -> None:
    """signal-intelligence's recording: throttled twice inside the stream, then it
    answers; a live runtime keeps answering after that."""
    with serve(load_scenario(THROTTLED)) as runtime:
        client = _client(runtime)
        for _ in range(2):
            with pytest.raises(EventStreamError, match="throttlingException"):
                _invoke(client, "signal-intelligence")
        answered = _invoke(client, "signal-intelligence", session="s-2")
        again = _invoke(client, "signal-intelligence", session="s-3")
    assert [(s.outcome, s.repeated) for s in runtime.served] == [
        ("fault:throttlingException", False),
        ("fault:throttlingException", False),
        ("answer", False),
        ("answer", True),
    ]
    chunks = lambda events: b"".join(e["chunk"]["bytes"] for e in events if "chunk" in e)  # noqa: E731
    assert chunks(answered) == chunks(again) and json.loads(chunks(answered))["status"]
    # Trace events echo the request's ids, as Bedrock's do.
    trace = next(e["trace"] for e in again if "trace" in e)
    assert (trace["agentId"], trace["agentAliasId"], trace["sessionId"]) == (
        "AGENT1",
        "ALIAS1",
        "s-3",
    )


def test_an_http_fault_is_an_error_status_botocore_parses() -> None:
    overrides = parse_overrides(
        {
            "knowledge-rag": {
                "faults": [{"error": "ThrottlingException", "status": 429, "message": "slow"}],
                "output": "plain text",
            }
        }
    )
    with serve(load_scenario(RDS), overrides=overrides) as runtime:
        client = _client(runtime)
        with pytest.raises(ClientError) as raised:
            _invoke(client, "knowledge-rag")
        answered = _invoke(client, "knowledge-rag")
    error = raised.value.response
    assert error["Error"] == {"Code": "ThrottlingException", "Message": "slow"}
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert b"".join(e["chunk"]["bytes"] for e in answered if "chunk" in e) == b"plain text"


def test_a_recorded_retry_is_recorded_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The executor retries the served throttles exactly as it retried the scripted ones."""
    scenario = load_scenario(THROTTLED)
    with serve(scenario) as runtime:
        for name, value in runtime.environment().items():
            monkeypatch.setenv(name, value)
        recorded = _record(tmp_path, scenario.events[0], "throttled-again")
    signal_calls = [s.outcome for s in runtime.served if s.agent == "signal-intelligence"]
    assert signal_calls == ["fault:throttlingException"] * 2 + ["answer"]
    bundled = _bundled(THROTTLED)
    assert recorded["responses"] == bundled["responses"]
    assert recorded["final_state"] == bundled["final_state"]


def test_an_unknown_agent_is_a_validation_error_naming_it() -> None:
    with serve(load_scenario(RDS)) as runtime, pytest.raises(ClientError) as raised:
        _invoke(_client(runtime), "finance-oracle")
    error = raised.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"] == "ValidationException"
    assert "'finance-oracle'" in error["Error"]["Message"]
    assert "rds-failover" in error["Error"]["Message"]


def test_it_listens_on_the_loopback_interface_only() -> None:
    with serve(load_scenario(RDS)) as runtime:
        assert runtime.url == f"http://{HOST}:{runtime.port}" and HOST == "127.0.0.1"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))  # UDP: picks a route, sends nothing
            own_address = probe.getsockname()[0]
        if own_address.startswith("127."):
            pytest.skip("no non-loopback interface to try")
        with pytest.raises(OSError):
            socket.create_connection((own_address, runtime.port), timeout=2).close()


def test_overrides_files_are_validated_naming_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "overrides.yaml"
    path.write_text("response-strategy:\n  answer: {hypothesis: x, recommendations: []}\n")
    with pytest.raises(OverridesError, match=r"overrides.yaml: \$.response-strategy.answer.confi"):
        load_overrides(path)
    path.write_text("respons-strategy:\n  output: x\n")
    with pytest.raises(OverridesError, match=r"\$.respons-strategy: unknown agent"):
        load_overrides(path)
    path.write_text("knowledge-rag: {tokens: [1, 2]}\n")
    with pytest.raises(OverridesError, match="give answer, output or error"):
        load_overrides(path)
    path.write_text('{"knowledge-rag": {"output": {"status": "SUCCESS"}, "model": "m"}}')
    [(agent, override)] = load_overrides(path).items()
    assert agent == "knowledge-rag" and override.script().model_id == "m"
