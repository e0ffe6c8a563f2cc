#!/usr/bin/env python3
"""Author the bundled scenario corpus: ``scenarios/<name>.json``.

Why a script and not hand-written JSON: a scenario's requests are what the executor
really sends (prompt text, bounded evidence, session ids), so they must be *recorded*
by running the handler (``harness.authoring.author``), never typed. What a reviewer
decides -- the incident, what each agent answers, its tokens, model, latency and
faults -- is written here once, readably; the files are this script's output, and
``--check`` keeps the two from drifting (CI runs it; a prompt change shows up as a
stale corpus, not as a silently re-recorded one).

Usage::

    python tools/build_corpus.py                  # (re)write every corpus file
    python tools/build_corpus.py --check          # exit 1 if a file differs or is missing
    python tools/build_corpus.py --only NAME ...  # just these scenarios
    python tools/build_corpus.py --out DIR        # another directory than scenarios/

Deterministic by construction: fixed event ids and clocks, no randomness, no wall
clock; generated log lines are arithmetic on the line number.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from harness.authoring import AgentScript, agent_output, author
from harness.scenario import ErrorAnswer, Fault, Scenario

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "scenarios"

ACCOUNT = "123456789012"
REGION = "us-east-1"

SONNET = "anthropic.claude-3-5-sonnet-20241022-v2:0"
HAIKU = "anthropic.claude-3-5-haiku-20241022-v1:0"
SONNET_37 = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
NOVA_PRO = "amazon.nova-pro-v1:0"
#: Deliberately absent from opx/data/pricing.json (see the unpriced-model scenario).
OPUS_4 = "us.anthropic.claude-opus-4-20250514-v1:0"

DISCLAIMER = "Machine-generated advisory analysis; a human must verify it before acting."

Builder = Callable[[str], Scenario]
#: Registered builders by scenario name, in definition order.
BUILDERS: dict[str, Builder] = {}


def scenario(name: str, registry: dict[str, Builder] = BUILDERS) -> Callable[[Builder], Builder]:
    def register(builder: Builder) -> Builder:
        if name in registry:
            raise ValueError(f"duplicate scenario name {name}")
        registry[name] = builder
        return builder

    return register


# --------------------------------------------------------------------------- helpers


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def signal(
    metric: str,
    namespace: str,
    dimensions: Mapping[str, str],
    threshold: float,
    observed: float,
    timestamp: str,
    alarm: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "metric_name": metric,
        "namespace": namespace,
        "dimensions": dict(dimensions),
        "threshold": threshold,
        "observed_value": observed,
        "timestamp": timestamp,
    }
    if alarm is not None:
        out["alarm_name"] = alarm
    return out


def incident_event(
    *,
    event_id: str,
    time: str,
    incident_id: str,
    service: str,
    severity: str,
    title: str,
    signals: list[dict[str, Any]],
    evidence: dict[str, Any],
    budget_usd: str | None = None,
    resources: Sequence[str] = (),
) -> dict[str, Any]:
    """An ``opx.incident`` / ``IncidentCreated`` event as EventBridge delivers it."""
    detail: dict[str, Any] = {
        "incident_id": incident_id,
        "service": service,
        "severity": severity,
        "title": title,
        "signals": signals,
        "evidence_bundle": evidence,
    }
    if budget_usd is not None:
        detail["budget_usd"] = budget_usd
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "IncidentCreated",
        "source": "opx.incident",
        "account": ACCOUNT,
        "time": time,
        "region": REGION,
        "resources": list(resources),
        "detail": detail,
    }


def answer(
    hypothesis: str,
    recommendations: list[tuple[str, str, float]],
    *,
    confidence: float,
    citations: Sequence[str] = (),
    evidence: Mapping[str, Any] | None = None,
    status: str = "SUCCESS",
) -> dict[str, Any]:
    """An agent output meeting the contract; ``evidence`` adds keys to ``findings``."""
    out = agent_output(
        hypothesis,
        recommendations,
        confidence=confidence,
        status=status,
        citations=tuple(citations),
    )
    out["disclaimer"] = DISCLAIMER
    if evidence:
        out["findings"].update(evidence)
    return out


def agent(
    output: Mapping[str, Any] | str | None,
    *,
    tokens: tuple[int, int],
    latency_ms: int,
    model: str = SONNET,
    faults: Iterable[Fault] = (),
    error: ErrorAnswer | None = None,
) -> AgentScript:
    return AgentScript(
        output=output,
        input_tokens=tokens[0],
        output_tokens=tokens[1],
        model_id=model,
        latency_ms=latency_ms,
        faults=tuple(faults),
        error=error,
    )


def agent_env(ids: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    """``OPX_AGENT_<AGENT>_ID`` / ``_ALIAS_ID`` overrides for real-looking agent ids."""
    env: dict[str, str] = {}
    for name, (agent_id, alias_id) in sorted(ids.items()):
        key = name.upper().replace("-", "_")
        env[f"OPX_AGENT_{key}_ID"] = agent_id
        env[f"OPX_AGENT_{key}_ALIAS_ID"] = alias_id
    return env


# --------------------------------------------------------------------------- scenarios


@scenario("apigw-5xx-after-deploy")
def apigw_5xx_after_deploy(name: str) -> Scenario:
    api = {"ApiName": "checkout-api", "Stage": "prod"}
    alb = {
        "LoadBalancer": "app/checkout-prod-alb/50dc6c495c0c9188",
        "TargetGroup": "targetgroup/checkout-svc-prod/73e2d6bc24d8a067",
    }
    event = incident_event(
        event_id="48d4d9d2-f9f3-4afb-96ea-881959fedb24",
        time="2026-03-12T14:26:41Z",
        incident_id="INC-2026-0312-0042",
        service="checkout-api",
        severity="SEV1",
        title="checkout-api 5XX rate 18.4% on POST /v1/checkout/confirm after deploy d-7Q2KX9ABC",
        signals=[
            signal(
                "5XXError",
                "AWS/ApiGateway",
                api,
                1.0,
                18.4,
                "2026-03-12T14:24:00Z",
                alarm="checkout-api-prod-5xx-rate",
            ),
            signal(
                "Latency",
                "AWS/ApiGateway",
                api,
                1500.0,
                4870.0,
                "2026-03-12T14:23:00Z",
                alarm="checkout-api-prod-p99-latency",
            ),
            signal(
                "HTTPCode_Target_5XX_Count",
                "AWS/ApplicationELB",
                alb,
                50.0,
                1312.0,
                "2026-03-12T14:24:00Z",
            ),
        ],
        evidence={
            "deployment": {
                "id": "d-7Q2KX9ABC",
                "application": "checkout-service",
                "deployment_group": "checkout-prod",
                "revision": "checkout-service:v2.41.0 (git 3f9c2e1)",
                "previous_revision": "checkout-service:v2.40.3 (git a81d07b)",
                "started_at": "2026-03-12T14:02:11Z",
                "finished_at": "2026-03-12T14:09:47Z",
                "initiated_by": "codepipeline/checkout-service-prod",
            },
            "error_breakdown_pct": {"502": 61.2, "503": 8.9, "504": 29.9},
            "log_excerpt": [
                "2026-03-12T14:10:12.418Z ERROR [checkout-service] PaymentTokenResolver: missing "
                "config key payments.tokenizer.endpoint (requestId=6f1c0e2a)",
                "2026-03-12T14:10:12.420Z WARN  [checkout-service] returning 502 to integration "
                "route=POST /v1/checkout/confirm latency_ms=41",
                '{"requestId":"b7a1e0d4-3c55-4c0e-9e51-0d2f8a0c1f77","httpMethod":"POST",'
                '"resourcePath":"/v1/checkout/confirm","status":"504","integrationLatency":"29012"}',
                "2026-03-12T14:11:03.007Z ERROR [checkout-service] PaymentTokenResolver: missing "
                "config key payments.tokenizer.endpoint (requestId=91d4b7c0)",
            ],
            "config_diff": {
                "removed": ["payments.tokenizer.endpoint"],
                "added": ["payments.tokenizer.endpoints"],
            },
            "runbook": "https://runbooks.example.com/checkout-api/5xx-after-deploy",
            "on_call": "checkout-oncall@example.com",
        },
        budget_usd="0.50",
    )
    agents = {
        "change-intelligence": agent(
            answer(
                "Deployment d-7Q2KX9ABC (checkout-service v2.41.0) finished at 14:09:47Z and the "
                "5XX rate left its 0.2% baseline at 14:10. The config diff renames "
                "payments.tokenizer.endpoint to payments.tokenizer.endpoints, and the first "
                "errors are PaymentTokenResolver failing on exactly that key: the release is the "
                "cause.",
                [
                    (
                        "rollback",
                        "Roll back checkout-service to v2.40.3 with CodeDeploy "
                        "(redeploy revision a81d07b to checkout-prod).",
                        0.93,
                    ),
                    (
                        "config_change",
                        "If a rollback is blocked, add "
                        "payments.tokenizer.endpoint back to the prod parameter set.",
                        0.55,
                    ),
                ],
                confidence=0.91,
                citations=["d-7Q2KX9ABC", "checkout-api-prod-5xx-rate", "3f9c2e1"],
                evidence={"change_window": "2026-03-12T14:02:11Z/2026-03-12T14:09:47Z"},
            ),
            tokens=(3180, 620),
            latency_ms=6200,
        ),
        "historical-pattern": agent(
            answer(
                "Matches INC-2025-0417: a checkout-service release that renamed a config key "
                "produced 502s from the confirm route within a minute of the deploy; it was "
                "resolved by rollback in 11 minutes.",
                [("rollback", "Roll back d-7Q2KX9ABC as in INC-2025-0417.", 0.85)],
                confidence=0.78,
                citations=["d-7Q2KX9ABC"],
            ),
            tokens=(2450, 410),
            latency_ms=4800,
        ),
        "knowledge-rag": agent(
            answer(
                "The checkout 5xx runbook prescribes an immediate CodeDeploy rollback when the "
                "5XX rate exceeds 5% within 30 minutes of a deployment, then a status-page "
                "notice for checkout.",
                [
                    ("rollback", "Follow runbook step 2: stop and roll back the deployment.", 0.8),
                    (
                        "communicate",
                        "Post the checkout degradation notice on the status page.",
                        0.7,
                    ),
                ],
                confidence=0.74,
                citations=["https://runbooks.example.com/checkout-api/5xx-after-deploy"],
            ),
            tokens=(2980, 380),
            latency_ms=3100,
            model=HAIKU,
        ),
        "risk-blast-radius": agent(
            answer(
                "Impact is confined to POST /v1/checkout/confirm in prod: about 18% of order "
                "confirmations fail. v2.40.3 ran for nine days without incident, so rolling "
                "back is low risk and fully reversible.",
                [
                    (
                        "rollback",
                        "Rolling back is low risk: no schema change ships in v2.41.0.",
                        0.82,
                    ),
                    (
                        "communicate",
                        "Tell payments support that failed confirmations can be "
                        "retried by customers.",
                        0.75,
                    ),
                ],
                confidence=0.8,
                citations=["checkout-api-prod-5xx-rate"],
            ),
            tokens=(2210, 350),
            latency_ms=2900,
            model=HAIKU,
        ),
        "signal-intelligence": agent(
            answer(
                "Earliest anomaly is HTTPCode_Target_5XX_Count on checkout-svc-prod at 14:10, "
                "then API Gateway 5XXError at 14:10-14:24. The p99 Latency rise is a symptom: "
                "30% of the errors are 504s at the 29 s integration timeout.",
                [
                    (
                        "rollback",
                        "The target group is the origin of the errors; revert the code it runs.",
                        0.88,
                    ),
                    (
                        "investigate",
                        "Check why some requests hang until the integration "
                        "timeout instead of failing fast.",
                        0.5,
                    ),
                ],
                confidence=0.86,
                citations=["HTTPCode_Target_5XX_Count", "5XXError", "Latency"],
            ),
            tokens=(3620, 540),
            latency_ms=5600,
        ),
        "response-strategy": agent(
            answer(
                "All five agents point at deployment d-7Q2KX9ABC: the renamed tokenizer config "
                "key breaks confirmations. Roll back first, communicate, then fix the config "
                "key before re-releasing.",
                [
                    ("rollback", "Roll back checkout-service to v2.40.3 now.", 0.9),
                    ("communicate", "Status page notice until the 5XX rate is under 1%.", 0.8),
                    (
                        "investigate",
                        "Before re-release, make the tokenizer key rename backward compatible.",
                        0.6,
                    ),
                ],
                confidence=0.88,
                citations=["change-intelligence", "signal-intelligence", "d-7Q2KX9ABC"],
            ),
            tokens=(3950, 720),
            latency_ms=7400,
            model=SONNET_37,
        ),
    }
    return author(
        name=name,
        description=(
            "SEV1: API Gateway 5XX spike on checkout-api minutes after CodeDeploy deployment "
            "d-7Q2KX9ABC renamed a config key. All six agents succeed and agree on a rollback "
            "(HIGH agreement). Agents use production-style ids from env overrides; models mix "
            "Claude 3.5 Sonnet v2, 3.5 Haiku and a us. cross-region 3.7 Sonnet profile."
        ),
        events=[event],
        agents=agents,
        clock_start=utc("2026-03-12T14:27:00Z"),
        tags=["api-gateway", "deploy", "env-overrides", "rollback", "sev1", "succeeded"],
        env=agent_env(
            {
                "change-intelligence": ("K3ZQ7WD1MA", "PRD2XV8LQA"),
                "historical-pattern": ("H8RT2NC5VB", "PRD7KD3MWE"),
                "knowledge-rag": ("N6PL4QX9JS", "PRD5TR1ZCY"),
                "risk-blast-radius": ("R2WM8FK3HT", "PRD9BN6QXU"),
                "signal-intelligence": ("S9DX5JB7LE", "PRD3HW2KPV"),
                "response-strategy": ("T4GC1YV6RN", "PRD8MF4JDS"),
            }
        ),
    )


@scenario("rds-failover")
def rds_failover(name: str) -> Scenario:
    db = {"DBInstanceIdentifier": "orders-db-prod"}
    event = incident_event(
        event_id="1ce3f03c-6a73-4985-a6fb-173a55521622",
        time="2026-04-03T02:17:20Z",
        incident_id="INC-2026-0403-0007",
        service="orders-api",
        severity="SEV2",
        title="orders-api 5xx after Multi-AZ failover of orders-db-prod",
        signals=[
            signal(
                "HTTPCode_Target_5XX_Count",
                "AWS/ApplicationELB",
                {
                    "LoadBalancer": "app/orders-prod-alb/8f1e2d3c4b5a6978",
                    "TargetGroup": "targetgroup/orders-api-prod/1a2b3c4d5e6f7a8b",
                },
                25.0,
                418.0,
                "2026-04-03T02:13:00Z",
                alarm="orders-api-prod-5xx",
            ),
            signal(
                "DatabaseConnections",
                "AWS/RDS",
                db,
                1500.0,
                1843.0,
                "2026-04-03T02:14:00Z",
                alarm="orders-db-prod-connections-high",
            ),
            signal("WriteLatency", "AWS/RDS", db, 0.05, 0.21, "2026-04-03T02:12:00Z"),
        ],
        evidence={
            "rds_events": [
                {
                    "time": "2026-04-03T02:09:31Z",
                    "id": "RDS-EVENT-0013",
                    "message": "Multi-AZ instance failover started.",
                },
                {
                    "time": "2026-04-03T02:10:02Z",
                    "id": "RDS-EVENT-0049",
                    "message": "Multi-AZ instance failover completed.",
                },
            ],
            "instance": {
                "engine": "postgres 15.5",
                "class": "db.r6g.2xlarge",
                "multi_az": True,
                "primary_az_before": "us-east-1a",
                "primary_az_after": "us-east-1c",
                "max_connections": 2000,
            },
            "app_logs": [
                "2026-04-03T02:10:04.551Z ERROR orders-api HikariPool-1 - Connection is not "
                "available, request timed out after 30000ms.",
                "2026-04-03T02:10:04.552Z ERROR orders-api org.postgresql.util.PSQLException: "
                "This connection has been closed.",
                "2026-04-03T02:12:41.090Z WARN  orders-api HikariPool-1 - Failed to validate "
                "connection (This connection has been closed.)",
            ],
            "deployments_last_24h": [],
            "jvm": {"networkaddress.cache.ttl": "-1 (cache forever)"},
        },
    )
    agents = {
        "change-intelligence": agent(
            answer(
                "No deployment or configuration change in the last 24 hours. The trigger is "
                "the RDS Multi-AZ failover (RDS-EVENT-0013 at 02:09:31Z), not a change.",
                [
                    (
                        "restart",
                        "Restart orders-api tasks so their pools reconnect to the new primary.",
                        0.7,
                    )
                ],
                confidence=0.72,
                citations=["RDS-EVENT-0013", "RDS-EVENT-0049"],
            ),
            tokens=(2140, 290),
            latency_ms=3900,
        ),
        "historical-pattern": agent(
            answer(
                "Two earlier orders-db failovers (INC-2025-1102, INC-2026-0118) left orders-api "
                "with stale pooled connections for 20+ minutes until tasks were recycled.",
                [("restart", "Recycle orders-api tasks (rolling restart).", 0.8)],
                confidence=0.76,
            ),
            tokens=(1980, 330),
            latency_ms=3600,
        ),
        "knowledge-rag": agent(
            answer(
                "AWS guidance for Multi-AZ failover: clients must re-resolve the DNS endpoint; "
                "a JVM with networkaddress.cache.ttl=-1 never does, so pools keep dialing the "
                "old primary.",
                [
                    ("config_change", "Set networkaddress.cache.ttl=5 for orders-api.", 0.74),
                    ("restart", "Restart orders-api to pick up the new primary now.", 0.72),
                ],
                confidence=0.7,
                citations=["networkaddress.cache.ttl"],
            ),
            tokens=(2760, 420),
            latency_ms=2700,
            model=NOVA_PRO,
        ),
        "risk-blast-radius": agent(
            answer(
                "Order writes fail for every customer; reads from the replica-backed catalog "
                "are unaffected. A rolling restart keeps half the tasks serving.",
                [("restart", "Rolling restart, 50% at a time, behind the ALB.", 0.78)],
                confidence=0.75,
                citations=["orders-api-prod-5xx"],
            ),
            tokens=(1870, 260),
            latency_ms=2500,
            model=HAIKU,
        ),
        "signal-intelligence": agent(
            answer(
                "WriteLatency rose at 02:12 and 5xx started at 02:10, right after the failover "
                "completed; DatabaseConnections climbing to 1843 is connection churn from "
                "retries, not load. The database is healthy; the clients are not.",
                [
                    ("restart", "Restart the clients holding closed connections.", 0.82),
                    ("investigate", "Confirm no long transactions on the new primary.", 0.45),
                ],
                confidence=0.81,
                citations=["DatabaseConnections", "WriteLatency", "orders-api-prod-5xx"],
            ),
            tokens=(2590, 470),
            latency_ms=4400,
        ),
        "response-strategy": agent(
            answer(
                "Failover completed at 02:10:02Z; orders-api kept stale connections because its "
                "JVM caches DNS forever. Restart the service now, then fix the DNS TTL so the "
                "next failover heals itself.",
                [
                    ("restart", "Rolling restart of orders-api.", 0.84),
                    (
                        "config_change",
                        "Set networkaddress.cache.ttl=5 and pool validation timeouts.",
                        0.7,
                    ),
                ],
                confidence=0.83,
                citations=["signal-intelligence", "knowledge-rag", "RDS-EVENT-0049"],
            ),
            tokens=(3410, 560),
            latency_ms=6100,
            model=SONNET_37,
        ),
    }
    return author(
        name=name,
        description=(
            "SEV2: orders-db-prod (RDS PostgreSQL, Multi-AZ) fails over to us-east-1c and "
            "orders-api keeps stale pooled connections. All agents succeed; the consensus "
            "recommends a restart (knowledge-rag, on Amazon Nova Pro, puts a DNS TTL config "
            "change first). No budget in the event: the default budget applies."
        ),
        events=[event],
        agents=agents,
        clock_start=utc("2026-04-03T02:18:00Z"),
        tags=["default-budget", "rds", "restart", "sev2", "succeeded"],
    )


@scenario("lambda-timeout-cold-starts")
def lambda_timeout_cold_starts(name: str) -> Scenario:
    fn = {"FunctionName": "payments-webhook-handler"}
    event = incident_event(
        event_id="6bfa25c6-8cac-488d-8bc6-545b55932896",
        time="2026-05-19T09:40:18Z",
        incident_id="INC-2026-0519-0113",
        service="payments-webhook-handler",
        severity="SEV2",
        title="payments-webhook-handler timeouts and cold starts during partner retry burst",
        signals=[
            signal(
                "Errors",
                "AWS/Lambda",
                fn,
                10.0,
                287.0,
                "2026-05-19T09:37:00Z",
                alarm="payments-webhook-errors",
            ),
            signal(
                "Duration",
                "AWS/Lambda",
                fn,
                25000.0,
                29810.0,
                "2026-05-19T09:37:00Z",
                alarm="payments-webhook-p99-duration",
            ),
            signal("ConcurrentExecutions", "AWS/Lambda", fn, 400.0, 912.0, "2026-05-19T09:36:00Z"),
            signal("Throttles", "AWS/Lambda", fn, 1.0, 64.0, "2026-05-19T09:38:00Z"),
        ],
        evidence={
            "function": {
                "runtime": "python3.12",
                "memory_mb": 1024,
                "timeout_s": 30,
                "reserved_concurrency": 1000,
                "provisioned_concurrency": 0,
                "vpc": True,
                "package_size_mb": {"before": 48, "after": 71},
                "version": "57 (published 2026-05-18T16:02:00Z, layer psp-sdk:14 -> psp-sdk:15)",
            },
            "log_excerpt": [
                "REPORT RequestId: 3c0e7a52-1d4b-4c4e-9b8e-4f2a9c6d1e03 Duration: 30000.00 ms "
                "Billed Duration: 30000 ms Memory Size: 1024 MB Max Memory Used: 612 MB "
                "Init Duration: 6214.37 ms",
                "2026-05-19T09:36:41.212Z 3c0e7a52-1d4b-4c4e-9b8e-4f2a9c6d1e03 Task timed out "
                "after 30.00 seconds",
                "2026-05-19T09:36:52.877Z WARN psp_client: partner retry burst detected "
                "(x-retry-attempt=4, backlog=18233)",
            ],
            "traffic": {
                "baseline_rps": 45,
                "peak_rps": 620,
                "cause": "partner webhook retry burst",
            },
        },
        budget_usd="0.40",
    )
    agents = {
        "change-intelligence": agent(
            answer(
                "Version 57 (published yesterday) upgraded layer psp-sdk:14 to :15 and grew the "
                "package from 48 to 71 MB; Init Duration of 6.2 s on cold starts eats a fifth "
                "of the 30 s timeout during the burst.",
                [
                    ("rollback", "Point the live alias back to version 56 (psp-sdk:14).", 0.62),
                    ("config_change", "Raise memory to 2048 MB to shorten init.", 0.55),
                ],
                confidence=0.64,
                citations=["payments-webhook-p99-duration"],
            ),
            tokens=(2890, 510),
            latency_ms=4700,
            model=SONNET_37,
        ),
        "historical-pattern": agent(
            answer(
                "No comparable payments-webhook incident in the last 90 days; partner retry "
                "bursts were absorbed before version 57. Evidence for a recurring pattern is "
                "thin.",
                [("investigate", "Compare Init Duration of versions 56 and 57.", 0.4)],
                confidence=0.35,
                status="PARTIAL",
            ),
            tokens=(1450, 190),
            latency_ms=2200,
            model=HAIKU,
        ),
        "knowledge-rag": agent(
            answer(
                "Lambda guidance for latency-sensitive bursty functions: provisioned "
                "concurrency removes cold starts; VPC functions also benefit from more memory "
                "(more CPU during init).",
                [
                    ("scale_out", "Enable provisioned concurrency of 300 on the live alias.", 0.77),
                    ("config_change", "Raise memory to 2048 MB.", 0.6),
                ],
                confidence=0.72,
            ),
            tokens=(3120, 450),
            latency_ms=3300,
            model=HAIKU,
        ),
        "risk-blast-radius": agent(
            answer(
                "Timed-out webhooks are retried by the partner, so no payment is lost yet, but "
                "the backlog (18,233) grows and delays order confirmation by minutes.",
                [("scale_out", "Provisioned concurrency is safe and immediately effective.", 0.74)],
                confidence=0.7,
            ),
            tokens=(1760, 280),
            latency_ms=2400,
            model=HAIKU,
        ),
        "signal-intelligence": agent(
            answer(
                "ConcurrentExecutions rose first (09:36, 912), then Duration p99 hit 29.8 s and "
                "Errors 287 (timeouts); Throttles at 09:38 follow. Cold starts under a burst "
                "are the failure mode.",
                [
                    ("scale_out", "Add provisioned concurrency to absorb the burst.", 0.8),
                    ("config_change", "Raise memory to cut init time.", 0.58),
                ],
                confidence=0.79,
                citations=["ConcurrentExecutions", "Duration", "Errors", "Throttles"],
            ),
            tokens=(3340, 600),
            latency_ms=5200,
            model=SONNET_37,
        ),
        "response-strategy": agent(
            answer(
                "Cold starts of the heavier version 57 during a partner retry burst push "
                "invocations over the 30 s timeout. Provisioned concurrency is the fastest safe "
                "mitigation; memory and the layer regression follow.",
                [
                    ("scale_out", "Provisioned concurrency 300 on the live alias.", 0.8),
                    ("config_change", "Memory 2048 MB.", 0.6),
                    ("rollback", "If init stays above 4 s, return the alias to version 56.", 0.5),
                ],
                confidence=0.76,
                citations=["signal-intelligence", "knowledge-rag", "change-intelligence"],
            ),
            tokens=(3760, 690),
            latency_ms=6800,
            model=SONNET_37,
        ),
    }
    return author(
        name=name,
        description=(
            "SEV2: a partner's webhook retry burst hits payments-webhook-handler (Lambda, VPC, "
            "no provisioned concurrency) right after a heavier version shipped: cold starts "
            "and 30 s timeouts. All agents succeed, one with status PARTIAL; consensus picks "
            "scale_out over config_change and rollback. Mostly on a us. 3.7 Sonnet profile."
        ),
        events=[event],
        agents=agents,
        clock_start=utc("2026-05-19T09:41:00Z"),
        tags=["cold-start", "lambda", "partial-output", "scale-out", "sev2", "succeeded"],
    )


@scenario("dynamodb-throttling")
def dynamodb_throttling(name: str) -> Scenario:
    table = {"TableName": "inventory-reservations"}
    event = incident_event(
        event_id="e9bd7ad4-8850-4e54-a399-1c37bdf63a51",
        time="2026-06-07T18:04:09Z",
        incident_id="INC-2026-0607-0031",
        service="inventory-service",
        severity="SEV2",
        title="inventory-reservations write throttling during flash sale",
        signals=[
            signal(
                "WriteThrottleEvents",
                "AWS/DynamoDB",
                table,
                100.0,
                18422.0,
                "2026-06-07T18:01:00Z",
                alarm="inventory-reservations-write-throttles",
            ),
            signal(
                "ThrottledRequests",
                "AWS/DynamoDB",
                {"TableName": "inventory-reservations", "Operation": "UpdateItem"},
                50.0,
                9120.0,
                "2026-06-07T18:01:00Z",
            ),
            signal(
                "ConsumedWriteCapacityUnits",
                "AWS/DynamoDB",
                table,
                3600.0,
                3998.0,
                "2026-06-07T18:00:00Z",
            ),
            signal(
                "SuccessfulRequestLatency",
                "AWS/DynamoDB",
                {"TableName": "inventory-reservations", "Operation": "UpdateItem"},
                20.0,
                87.0,
                "2026-06-07T18:01:00Z",
            ),
        ],
        evidence={
            "table": {
                "billing_mode": "PROVISIONED",
                "provisioned_wcu": 4000,
                "autoscaling": {
                    "target_utilization": 70,
                    "max_wcu": 8000,
                    "last_scale_out": "2026-06-07T17:22:00Z",
                },
                "gsi": ["by-sku-status"],
            },
            "contributor_insights_top_keys": [
                {"pk": "sku#FLASH-SALE-2291", "share_pct": 64.0},
                {"pk": "sku#FLASH-SALE-2290", "share_pct": 11.5},
                {"pk": "sku#BUNDLE-0077", "share_pct": 2.1},
            ],
            "campaign": {"id": "flash-sale-june-7", "start": "2026-06-07T18:00:00Z"},
            "app_logs": [
                "2026-06-07T18:00:41.113Z ERROR inventory-service ProvisionedThroughputExceeded"
                "Exception on UpdateItem pk=sku#FLASH-SALE-2291 (retries=10)",
            ],
        },
        budget_usd="0.30",
    )
    agents = {
        "change-intelligence": agent(
            answer(
                "No code change; the flash-sale campaign started at 18:00 and auto scaling last "
                "scaled out at 17:22, to a max of 8000 WCU it has not yet reached.",
                [
                    (
                        "scale_out",
                        "Raise provisioned WCU to 12000 now; auto scaling lags "
                        "minutes behind a sale spike.",
                        0.74,
                    )
                ],
                confidence=0.7,
                citations=["flash-sale-june-7"],
            ),
            tokens=(2230, 300),
            latency_ms=3500,
        ),
        "historical-pattern": agent(
            answer(
                "The March flash sale (INC-2026-0314-0019) throttled the same table; raising "
                "capacity ahead of the sale fixed it, and a hot SKU partition remained the "
                "bottleneck.",
                [
                    ("scale_out", "Raise WCU as in March.", 0.78),
                    ("investigate", "Shard writes for hot SKUs (write sharding suffix).", 0.55),
                ],
                confidence=0.74,
            ),
            tokens=(2060, 380),
            latency_ms=3000,
        ),
        "knowledge-rag": agent(
            answer(
                "DynamoDB guidance for unpredictable spikes is on-demand capacity; a single "
                "partition is still limited to 1000 WCU, so the hot key sku#FLASH-SALE-2291 "
                "needs write sharding either way.",
                [
                    (
                        "config_change",
                        "Switch inventory-reservations to on-demand for the sale.",
                        0.72,
                    ),
                    ("scale_out", "Or raise provisioned WCU.", 0.6),
                ],
                confidence=0.69,
                citations=["sku#FLASH-SALE-2291"],
            ),
            tokens=(2840, 430),
            latency_ms=2600,
            model=HAIKU,
        ),
        "risk-blast-radius": agent(
            answer(
                "Reservations for the two sale SKUs fail; other SKUs are throttled by retry "
                "pressure. Raising capacity is safe; switching billing mode is allowed once per "
                "24 h and cannot be undone quickly.",
                [("scale_out", "Prefer raising provisioned WCU: reversible.", 0.76)],
                confidence=0.73,
            ),
            tokens=(1690, 240),
            latency_ms=2100,
            model=HAIKU,
        ),
        "signal-intelligence": agent(
            answer(
                "ConsumedWriteCapacityUnits sat at the 4000 WCU ceiling from 18:00; "
                "WriteThrottleEvents (18,422) and UpdateItem ThrottledRequests follow, and 64% "
                "of writes target one partition key.",
                [
                    ("scale_out", "Raise table WCU.", 0.81),
                    ("investigate", "Spread the hot key's writes.", 0.5),
                ],
                confidence=0.82,
                citations=["WriteThrottleEvents", "ConsumedWriteCapacityUnits"],
            ),
            tokens=(2970, 520),
            latency_ms=4300,
        ),
        "response-strategy": agent(
            answer(
                "A flash sale saturates provisioned capacity while auto scaling lags, and one "
                "SKU concentrates 64% of writes. Raise WCU now; plan write sharding before the "
                "next sale.",
                [
                    ("scale_out", "Set provisioned WCU to 12000 for the sale.", 0.83),
                    ("investigate", "Write sharding for hot SKUs.", 0.55),
                ],
                confidence=0.8,
                citations=["signal-intelligence", "risk-blast-radius", "flash-sale-june-7"],
            ),
            tokens=(3530, 610),
            latency_ms=5900,
        ),
    }
    return author(
        name=name,
        description=(
            "SEV2: a flash sale saturates the provisioned write capacity of the DynamoDB table "
            "inventory-reservations; one hot partition key takes 64% of writes. All agents "
            "succeed; knowledge-rag prefers on-demand mode, the rest scale out, so the "
            "consensus reports a minority opinion."
        ),
        events=[event],
        agents=agents,
        clock_start=utc("2026-06-07T18:05:00Z"),
        tags=["dynamodb", "minority-opinion", "scale-out", "sev2", "succeeded", "throttling"],
    )


def _cloudwatch_alarm_event() -> dict[str, Any]:
    """AWS's documented ``CloudWatch Alarm State Change`` shape (single metric alarm)."""
    alarm = "search-api-ecs-cpu-high"
    arn = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{alarm}"
    metric = {
        "id": "m1",
        "metricStat": {
            "metric": {
                "dimensions": {"ClusterName": "prod-cluster", "ServiceName": "search-api"},
                "name": "CPUUtilization",
                "namespace": "AWS/ECS",
            },
            "period": 60,
            "stat": "Average",
        },
        "returnData": True,
    }
    return {
        "version": "0",
        "id": "48409337-e0e3-4fee-9d85-1816292875ff",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": ACCOUNT,
        "time": "2026-07-22T11:31:12Z",
        "region": REGION,
        "resources": [arn],
        "detail": {
            "alarmName": alarm,
            "configuration": {
                "description": "search-api average CPU above 85% for 3 of 3 minutes. "
                "Runbook: https://runbooks.example.com/search-api/cpu",
                "metrics": [metric],
            },
            "previousState": {
                "reason": "Threshold Crossed: 3 out of the last 3 datapoints [41.2 "
                "(22/07/26 11:25:00), 39.8 (22/07/26 11:24:00), 40.6 (22/07/26 11:23:00)] were "
                "not greater than the threshold (85.0) (minimum 3 datapoints for ALARM -> OK "
                "transition).",
                "reasonData": '{"version":"1.0","queryDate":"2026-07-22T11:26:12.447+0000",'
                '"startDate":"2026-07-22T11:23:00.000+0000","statistic":"Average","period":60,'
                '"recentDatapoints":[40.6,39.8,41.2],"threshold":85.0,'
                '"evaluatedDatapoints":[{"timestamp":"2026-07-22T11:25:00.000+0000",'
                '"sampleCount":1.0,"value":41.2}]}',
                "timestamp": "2026-07-22T11:26:12.451+0000",
                "value": "OK",
            },
            "state": {
                "reason": "Threshold Crossed: 3 out of the last 3 datapoints [97.3 "
                "(22/07/26 11:30:00), 94.1 (22/07/26 11:29:00), 91.7 (22/07/26 11:28:00)] were "
                "greater than the threshold (85.0) (minimum 3 datapoints for OK -> ALARM "
                "transition).",
                "reasonData": '{"version":"1.0","queryDate":"2026-07-22T11:31:12.383+0000",'
                '"startDate":"2026-07-22T11:28:00.000+0000","statistic":"Average","period":60,'
                '"recentDatapoints":[91.7,94.1,97.3],"threshold":85.0,'
                '"evaluatedDatapoints":[{"timestamp":"2026-07-22T11:30:00.000+0000",'
                '"sampleCount":1.0,"value":97.3}]}',
                "timestamp": "2026-07-22T11:31:12.389+0000",
                "value": "ALARM",
            },
        },
    }


@scenario("cloudwatch-native-alarm")
def cloudwatch_native_alarm(name: str) -> Scenario:
    agents = {
        "change-intelligence": agent(
            answer(
                "The alarm event carries no change data; nothing links the CPU rise to a "
                "deployment. Cannot confirm or exclude a change.",
                [
                    (
                        "investigate",
                        "List search-api task definition revisions of the last 24 h.",
                        0.45,
                    )
                ],
                confidence=0.3,
                status="PARTIAL",
                citations=["search-api-ecs-cpu-high"],
            ),
            tokens=(1240, 180),
            latency_ms=2300,
        ),
        "historical-pattern": agent(
            answer(
                "search-api CPU alarms at this hour previously tracked the daily catalog "
                "re-index traffic and cleared after scaling out from 6 to 10 tasks.",
                [("scale_out", "Scale search-api from its current desired count by 4 tasks.", 0.7)],
                confidence=0.62,
            ),
            tokens=(1310, 240),
            latency_ms=2600,
        ),
        "knowledge-rag": agent(
            answer(
                "The linked runbook says: scale out the ECS service first when CPU stays above "
                "85% for three minutes, then look for expensive queries.",
                [
                    ("scale_out", "Runbook step 1: raise desired count.", 0.75),
                    ("investigate", "Runbook step 2: check slow query log.", 0.5),
                ],
                confidence=0.68,
                citations=["https://runbooks.example.com/search-api/cpu"],
            ),
            tokens=(1520, 300),
            latency_ms=2000,
            model=HAIKU,
        ),
        "risk-blast-radius": agent(
            answer(
                "Saturated CPU raises search latency for all storefront users; scaling out is "
                "low risk while the cluster has spare capacity.",
                [("scale_out", "Scale out within the cluster's spare capacity.", 0.72)],
                confidence=0.66,
            ),
            tokens=(1180, 200),
            latency_ms=1900,
            model=HAIKU,
        ),
        "signal-intelligence": agent(
            answer(
                "CPUUtilization went from about 40% to 91.7, 94.1 and 97.3% over three "
                "consecutive minutes: a step change, not a slow drift, consistent with a load "
                "increase on prod-cluster/search-api.",
                [("scale_out", "Add capacity to search-api.", 0.78)],
                confidence=0.74,
                citations=["CPUUtilization", "search-api-ecs-cpu-high"],
            ),
            tokens=(1390, 330),
            latency_ms=2800,
        ),
        "response-strategy": agent(
            answer(
                "Only the alarm is known: a sudden CPU step on search-api. Scale out now (runbook "
                "step 1) and look for the traffic source or a costly query.",
                [
                    ("scale_out", "Raise search-api desired count by 4.", 0.77),
                    ("investigate", "Find the source of the load step.", 0.5),
                ],
                confidence=0.7,
                citations=["signal-intelligence", "knowledge-rag", "search-api-ecs-cpu-high"],
            ),
            tokens=(2650, 480),
            latency_ms=4900,
            model=SONNET_37,
        ),
    }
    return author(
        name=name,
        description=(
            "A native aws.cloudwatch 'CloudWatch Alarm State Change' event (AWS's documented "
            "shape, OK -> ALARM) for ECS service search-api CPU: normalized to incident "
            "INC-CW-<hash>, service from the ServiceName dimension, default severity SEV2, "
            "threshold and newest datapoint from reasonData, budget from "
            "OPX_DEFAULT_BUDGET_USD=0.25. Agents succeed, one PARTIAL."
        ),
        events=[_cloudwatch_alarm_event()],
        agents=agents,
        clock_start=utc("2026-07-22T11:32:00Z"),
        tags=["cloudwatch-alarm", "ecs", "native-event", "scale-out", "sev2", "succeeded"],
        env={"OPX_DEFAULT_BUDGET_USD": "0.25"},
    )


@scenario("agent-malformed-output")
def agent_malformed_output(name: str) -> Scenario:
    queue = {"QueueName": "notifications-email-prod"}
    event = incident_event(
        event_id="d716350b-9f00-4dc8-8bf0-18c9fe15c86f",
        time="2026-08-14T20:49:30Z",
        incident_id="INC-2026-0814-0088",
        service="notifications-service",
        severity="SEV3",
        title="notifications-email-prod backlog: oldest message 41 minutes",
        signals=[
            signal(
                "ApproximateAgeOfOldestMessage",
                "AWS/SQS",
                queue,
                600.0,
                2460.0,
                "2026-08-14T20:46:00Z",
                alarm="notifications-email-age",
            ),
            signal(
                "ApproximateNumberOfMessagesVisible",
                "AWS/SQS",
                queue,
                50000.0,
                212_400.0,
                "2026-08-14T20:46:00Z",
            ),
            signal("Send", "AWS/SES", {}, 14.0, 14.0, "2026-08-14T20:45:00Z"),
        ],
        evidence={
            "ses_account": {
                "max_send_rate_per_s": 14,
                "sent_last_24h": 49_870,
                "max_24h_send": 50_000,
            },
            "campaign": {
                "id": "spring-promo-blast",
                "feature_flag": "marketing.spring_promo",
                "recipients": 180_000,
                "started_at": "2026-08-14T19:55:00Z",
            },
            "consumer_logs": [
                "2026-08-14T20:31:07.554Z WARN notifications-worker SES Throttling: Maximum "
                "sending rate exceeded. (retry in 2s)",
                "2026-08-14T20:44:19.020Z ERROR notifications-worker SES Throttling: Daily "
                "message quota exceeded.",
            ],
        },
        budget_usd="0.25",
    )
    malformed = (
        "Here is my analysis of the notification backlog:\n\n"
        "{'status': 'SUCCESS', 'confidence': 0.7, 'hypothesis': 'The SES account hit its "
        "24 hour sending quota because of spring-promo-blast', 'findings': "
        "{'recommendations': [{'type': 'disable_feature_flag', 'description': 'Pause "
        "marketing.spring_promo', 'confidence': 0.8},]},}\n\n"
        "Let me know if you need the runbook steps as well."
    )
    agents = {
        "change-intelligence": agent(
            answer(
                "Feature flag marketing.spring_promo started spring-promo-blast at 19:55; "
                "180,000 recipients exceed the SES 24 h quota (50,000) on their own.",
                [
                    ("disable_feature_flag", "Turn off marketing.spring_promo.", 0.86),
                    ("config_change", "Request an SES sending quota increase.", 0.6),
                ],
                confidence=0.84,
                citations=["spring-promo-blast", "marketing.spring_promo"],
            ),
            tokens=(1960, 350),
            latency_ms=3200,
        ),
        "historical-pattern": agent(
            answer(
                "Marketing blasts have exhausted the SES quota twice before; transactional "
                "email (password resets) queued behind them each time.",
                [
                    (
                        "disable_feature_flag",
                        "Pause the campaign, let transactional mail drain.",
                        0.8,
                    )
                ],
                confidence=0.75,
            ),
            tokens=(1720, 290),
            latency_ms=2800,
        ),
        "knowledge-rag": agent(malformed, tokens=(2310, 410), latency_ms=2500, model=HAIKU),
        "risk-blast-radius": agent(
            answer(
                "Transactional mail (password resets, receipts) shares the queue, so customers "
                "cannot reset passwords; pausing marketing mail has no customer-facing risk.",
                [("disable_feature_flag", "Pause marketing.spring_promo.", 0.82)],
                confidence=0.78,
            ),
            tokens=(1540, 260),
            latency_ms=2200,
            model=HAIKU,
        ),
        "signal-intelligence": agent(
            answer(
                "SES Send is pinned at the 14/s maximum rate since 19:56 and the queue grows "
                "linearly; at 20:44 the daily quota is hit and delivery stops entirely.",
                [
                    ("disable_feature_flag", "Stop the campaign feeding the queue.", 0.8),
                    ("config_change", "Separate transactional and marketing queues.", 0.55),
                ],
                confidence=0.8,
                citations=["ApproximateAgeOfOldestMessage", "Send"],
            ),
            tokens=(2180, 440),
            latency_ms=3600,
        ),
        "response-strategy": agent(
            answer(
                "spring-promo-blast exhausted the SES quota and starves transactional mail. "
                "Pause the flag, ask for a quota increase, split the queues. knowledge-rag "
                "produced no usable output (MALFORMED_OUTPUT), so no runbook view is included.",
                [
                    ("disable_feature_flag", "Turn off marketing.spring_promo now.", 0.85),
                    ("config_change", "Request an SES quota increase; split queues.", 0.6),
                ],
                confidence=0.8,
                citations=["change-intelligence", "signal-intelligence", "spring-promo-blast"],
            ),
            tokens=(3240, 570),
            latency_ms=5300,
        ),
    }
    return author(
        name=name,
        description=(
            "SEV3: a marketing campaign exhausts the SES quota and an SQS email queue backs "
            "up. knowledge-rag answers with prose around a Python-style dict (single quotes, "
            "trailing commas): no JSON object decodes, so it fails with MALFORMED_OUTPUT "
            "(tokens still billed) and the run is DEGRADED; the others agree on disabling the "
            "feature flag."
        ),
        events=[event],
        agents=agents,
        clock_start=utc("2026-08-14T20:50:00Z"),
        tags=["degraded", "malformed-output", "ses", "sev3", "sqs"],
    )


@scenario("agent-throttled-then-succeeds")
def agent_throttled_then_succeeds(name: str) -> Scenario:
    stream = {"StreamName": "clickstream-ingest"}
    event = incident_event(
        event_id="571ebbd7-eccc-46c2-88f1-10c51676244b",
        time="2026-09-02T06:11:05Z",
        incident_id="INC-2026-0902-0015",
        service="clickstream-pipeline",
        severity="SEV3",
        title="clickstream-ingest consumer iterator age above 15 minutes",
        signals=[
            signal(
                "GetRecords.IteratorAgeMilliseconds",
                "AWS/Kinesis",
                stream,
                300_000.0,
                948_000.0,
                "2026-09-02T06:09:00Z",
                alarm="clickstream-iterator-age",
            ),
            signal(
                "Errors",
                "AWS/Lambda",
                {"FunctionName": "clickstream-enricher"},
                5.0,
                142.0,
                "2026-09-02T06:08:00Z",
            ),
            signal(
                "ReadProvisionedThroughputExceeded",
                "AWS/Kinesis",
                stream,
                10.0,
                3.0,
                "2026-09-02T06:08:00Z",
            ),
        ],
        evidence={
            "event_source_mapping": {
                "batch_size": 500,
                "parallelization_factor": 1,
                "bisect_batch_on_error": False,
                "shards": 8,
            },
            "lambda_logs": [
                "2026-09-02T05:58:12.907Z ERROR clickstream-enricher KeyError: 'geo' while "
                "enriching record seq=49651234567890123456789012345678901234567890123456",
                "2026-09-02T05:58:12.910Z ERROR clickstream-enricher batch failed; retrying "
                "whole batch (500 records)",
            ],
            "producer_change": {
                "id": "web-sdk 5.2.0",
                "released_at": "2026-09-02T05:50:00Z",
                "note": "geo field now optional",
            },
        },
        budget_usd="0.30",
    )
    throttled = Fault(
        error="throttlingException",
        where="stream",
        message="Your request rate is too high. Reduce the frequency of requests.",
        latency_ms=400,
    )
    agents = {
        "change-intelligence": agent(
            answer(
                "web-sdk 5.2.0 (05:50) made the geo field optional; the enricher raises "
                "KeyError 'geo' from 05:58 and, without bisecting, retries whole batches.",
                [
                    (
                        "config_change",
                        "Enable BisectBatchOnFunctionError and an on-failure "
                        "destination on the event source mapping.",
                        0.78,
                    ),
                    (
                        "rollback",
                        "Roll the enricher's expectations back by deploying a tolerant parser.",
                        0.5,
                    ),
                ],
                confidence=0.82,
                citations=["web-sdk 5.2.0"],
            ),
            tokens=(2050, 420),
            latency_ms=3800,
        ),
        "historical-pattern": agent(
            answer(
                "Poison records have stalled this pipeline before; each time bisecting batches "
                "and a DLQ drained the backlog within 20 minutes.",
                [("config_change", "Turn on batch bisection with a DLQ.", 0.76)],
                confidence=0.71,
            ),
            tokens=(1650, 270),
            latency_ms=2700,
            model=HAIKU,
        ),
        "knowledge-rag": agent(
            answer(
                "For Kinesis event sources, Lambda retries a failing batch until the records "
                "expire unless bisection or maximum retry attempts are configured.",
                [
                    (
                        "config_change",
                        "Set MaximumRetryAttempts=3 and BisectBatchOnFunctionError=true.",
                        0.74,
                    )
                ],
                confidence=0.7,
            ),
            tokens=(2440, 360),
            latency_ms=2400,
            model=HAIKU,
        ),
        "risk-blast-radius": agent(
            answer(
                "Analytics dashboards are 15 minutes stale; no customer-facing impact. Records "
                "are retained for 24 h, so nothing is lost yet.",
                [("config_change", "Safe to change the mapping settings live.", 0.7)],
                confidence=0.68,
                citations=["clickstream-iterator-age"],
            ),
            tokens=(1390, 210),
            latency_ms=1900,
            model=HAIKU,
        ),
        "signal-intelligence": agent(
            answer(
                "Enricher Errors began at 05:58 and IteratorAgeMilliseconds climbs steadily "
                "after; ReadProvisionedThroughputExceeded stays low, so the stall is the "
                "consumer failing, not shard read limits.",
                [("config_change", "Stop retrying poison batches whole.", 0.8)],
                confidence=0.83,
                citations=["GetRecords.IteratorAgeMilliseconds", "Errors"],
            ),
            tokens=(2720, 480),
            latency_ms=4100,
            faults=(throttled, throttled),
        ),
        "response-strategy": agent(
            answer(
                "A producer change introduced records without geo; the enricher fails whole "
                "batches and the shard iterators stall. Enable bisection with a DLQ now, then "
                "make the parser tolerate the optional field.",
                [
                    (
                        "config_change",
                        "BisectBatchOnFunctionError=true, MaximumRetryAttempts"
                        "=3, on-failure SQS destination.",
                        0.82,
                    ),
                    ("rollback", "Ship a tolerant enricher (geo optional).", 0.55),
                ],
                confidence=0.81,
                citations=["signal-intelligence", "change-intelligence"],
            ),
            tokens=(3380, 640),
            latency_ms=5500,
        ),
    }
    return author(
        name=name,
        description=(
            "SEV3: a poison record stalls a Kinesis consumer. signal-intelligence is throttled "
            "twice inside the event stream (throttlingException) and succeeds on its third "
            "InvokeAgent attempt after backoffs of 0.5 s and 1 s on the frozen clock; every "
            "agent succeeds (SUCCEEDED)."
        ),
        events=[event],
        agents=agents,
        clock_start=utc("2026-09-02T06:12:00Z"),
        tags=["backoff", "kinesis", "retry", "sev3", "succeeded", "throttling"],
    )


@scenario("agent-access-denied")
def agent_access_denied(name: str) -> Scenario:
    cache = {"CacheClusterId": "session-cache-prod-0001-001"}
    event = incident_event(
        event_id="b750f9a3-f9ec-4b7c-af01-a3c480e67868",
        time="2026-09-25T13:02:20Z",
        incident_id="INC-2026-0925-0064",
        service="login-api",
        severity="SEV2",
        title="login-api p99 latency 2.8 s while session-cache evicts keys",
        signals=[
            signal(
                "Evictions",
                "AWS/ElastiCache",
                cache,
                1000.0,
                58_210.0,
                "2026-09-25T12:58:00Z",
                alarm="session-cache-evictions",
            ),
            signal(
                "DatabaseMemoryUsagePercentage",
                "AWS/ElastiCache",
                cache,
                90.0,
                98.6,
                "2026-09-25T12:58:00Z",
            ),
            signal(
                "TargetResponseTime",
                "AWS/ApplicationELB",
                {"LoadBalancer": "app/login-prod-alb/2b3c4d5e6f708192"},
                0.8,
                2.8,
                "2026-09-25T12:59:00Z",
                alarm="login-api-p99-latency",
            ),
        ],
        evidence={
            "cluster": {
                "engine": "redis 7.1",
                "node_type": "cache.r6g.large",
                "shards": 1,
                "maxmemory_policy": "allkeys-lru",
            },
            "change": {
                "id": "sessions-ttl-24h",
                "merged_at": "2026-09-24T17:40:00Z",
                "summary": "session TTL raised from 2 h to 24 h",
            },
            "app_logs": [
                "2026-09-25T12:59:31.660Z WARN login-api session miss for sid=8c1f..; "
                "re-authenticating against user-db",
            ],
        },
        budget_usd="0.30",
    )
    denied = ErrorAnswer(
        status=403,
        code="AccessDeniedException",
        message=(
            "User: arn:aws:sts::123456789012:assumed-role/opx-executor-prod/opx-executor is "
            "not authorized to perform: bedrock:InvokeAgent on resource: "
            "arn:aws:bedrock:us-east-1:123456789012:agent-alias/OPXRISKBR1/TSTALIASID because "
            "no identity-based policy allows the bedrock:InvokeAgent action"
        ),
    )
    agents = {
        "change-intelligence": agent(
            answer(
                "Change sessions-ttl-24h (merged yesterday 17:40) multiplies live sessions "
                "about twelvefold; the single-shard cache fills and LRU evicts active sessions.",
                [
                    ("rollback", "Revert sessions-ttl-24h (TTL back to 2 h).", 0.84),
                    ("scale_out", "Add a shard to session-cache-prod.", 0.6),
                ],
                confidence=0.83,
                citations=["sessions-ttl-24h", "session-cache-evictions"],
            ),
            tokens=(1890, 380),
            latency_ms=3400,
        ),
        "historical-pattern": agent(
            answer(
                "No earlier eviction incident on session-cache; memory stayed below 60% for "
                "the last 90 days until yesterday evening.",
                [("rollback", "Undo yesterday's TTL change.", 0.7)],
                confidence=0.66,
            ),
            tokens=(1580, 250),
            latency_ms=2500,
        ),
        "knowledge-rag": agent(
            answer(
                "ElastiCache guidance: sustained evictions with allkeys-lru mean the working "
                "set exceeds memory; scale up the node type or out with more shards.",
                [("scale_out", "Move to cluster mode with 2 shards or cache.r6g.xlarge.", 0.68)],
                confidence=0.64,
            ),
            tokens=(2260, 340),
            latency_ms=2300,
            model=HAIKU,
        ),
        "risk-blast-radius": agent(None, tokens=(0, 0), latency_ms=180, error=denied),
        "signal-intelligence": agent(
            answer(
                "DatabaseMemoryUsagePercentage reached 98.6% and Evictions spiked at 12:58; "
                "login-api latency follows as evicted sessions force re-authentication "
                "against user-db.",
                [
                    ("rollback", "Reduce session memory by restoring the 2 h TTL.", 0.78),
                    ("scale_out", "Add cache memory.", 0.66),
                ],
                confidence=0.8,
                citations=["Evictions", "DatabaseMemoryUsagePercentage", "TargetResponseTime"],
            ),
            tokens=(2410, 450),
            latency_ms=3900,
        ),
        "response-strategy": agent(
            answer(
                "The 24 h session TTL overflows a single-shard cache. Revert the TTL change "
                "first; add capacity if evictions continue. The risk agent failed "
                "(AGENT_INVOCATION_FAILED), so blast radius was not assessed.",
                [
                    ("rollback", "Revert sessions-ttl-24h.", 0.82),
                    ("scale_out", "Add a shard if evictions persist.", 0.6),
                ],
                confidence=0.78,
                citations=["change-intelligence", "signal-intelligence", "sessions-ttl-24h"],
            ),
            tokens=(3020, 540),
            latency_ms=5000,
            model=SONNET_37,
        ),
    }
    return author(
        name=name,
        description=(
            "SEV2: a session-TTL change overflows an ElastiCache Redis cache and login latency "
            "climbs. risk-blast-radius fails permanently: InvokeAgent answers HTTP 403 "
            "AccessDeniedException (the executor role lacks bedrock:InvokeAgent on that "
            "alias), which is not retried (1 attempt, AGENT_INVOCATION_FAILED). DEGRADED."
        ),
        events=[event],
        agents=agents,
        clock_start=utc("2026-09-25T13:03:00Z"),
        tags=["access-denied", "degraded", "elasticache", "permanent-failure", "sev2"],
    )


@scenario("all-agents-failing")
def all_agents_failing(name: str) -> Scenario:
    dist = {"DistributionId": "E2QWRUHAPOMQZL", "Region": "Global"}
    event = incident_event(
        event_id="ba1dc4ea-a9ce-424c-b436-c62b00e92e3d",
        time="2026-10-10T03:43:10Z",
        incident_id="INC-2026-1010-0003",
        service="static-assets-cdn",
        severity="SEV2",
        title="CloudFront 5xx for static assets: origin S3 returns 503 SlowDown",
        signals=[
            signal(
                "5xxErrorRate",
                "AWS/CloudFront",
                dist,
                2.0,
                11.6,
                "2026-10-10T03:40:00Z",
                alarm="static-assets-5xx-rate",
            ),
            signal("OriginLatency", "AWS/CloudFront", dist, 500.0, 2140.0, "2026-10-10T03:40:00Z"),
        ],
        evidence={
            "origin": {"bucket": "static-assets-prod-123456789012", "prefix": "build/"},
            "s3_errors": "503 SlowDown on GET build/*.js, 3,200/min",
            "cache_invalidation": {
                "id": "I2J0I21PCUYOIK",
                "paths": ["/*"],
                "created_at": "2026-10-10T03:36:00Z",
            },
        },
        budget_usd="0.30",
    )
    unavailable = Fault(
        error="ServiceUnavailableException",
        status=503,
        message="Bedrock is unable to process your request.",
        latency_ms=900,
    )
    dependency = Fault(
        error="dependencyFailedException",
        where="stream",
        message="The dependency (foundation model) failed.",
        latency_ms=1200,
    )
    throttled = Fault(
        error="throttlingException",
        where="stream",
        message="Your request rate is too high. Reduce the frequency of requests.",
        latency_ms=300,
    )
    truncated = (
        '{"status": "SUCCESS", "confidence": 0.71, "hypothesis": "The /* invalidation at '
        "03:36 sent every edge location back to the origin at once; S3 answers 503 SlowDown "
        "because the request rate on the build/ prefix"
    )
    agents = {
        "change-intelligence": agent(
            None,
            tokens=(0, 0),
            latency_ms=900,
            faults=(unavailable,) * 3,
            error=ErrorAnswer(
                status=503,
                code="ServiceUnavailableException",
                message="Bedrock is unable to process your request.",
            ),
        ),
        "historical-pattern": agent(
            None,
            tokens=(0, 0),
            latency_ms=150,
            error=ErrorAnswer(
                status=404,
                code="ResourceNotFoundException",
                message="Agent alias TSTALIASID of agent OPXHISTPT1 was not found.",
            ),
        ),
        "knowledge-rag": agent(
            None,
            tokens=(0, 0),
            latency_ms=1200,
            faults=(dependency,) * 3,
            error=ErrorAnswer(
                status=424,
                code="DependencyFailedException",
                message="The dependency (foundation model) failed.",
            ),
        ),
        "risk-blast-radius": agent(truncated, tokens=(2380, 2048), latency_ms=14_200, model=HAIKU),
        "signal-intelligence": agent(
            None,
            tokens=(0, 0),
            latency_ms=120,
            error=ErrorAnswer(
                status=400,
                code="ValidationException",
                message="1 validation error detected: Value at 'sessionId' failed to satisfy "
                "constraint",
            ),
        ),
        "response-strategy": agent(
            None,
            tokens=(0, 0),
            latency_ms=300,
            faults=(throttled,) * 3,
            error=ErrorAnswer(
                status=429,
                code="ThrottlingException",
                message="Your request rate is too high. Reduce the frequency of requests.",
            ),
        ),
    }
    return author(
        name=name,
        description=(
            "A CDN incident analyzed while Bedrock is unhealthy: every agent fails, each "
            "differently -- 503 ServiceUnavailable x4 and in-stream dependencyFailed x4 "
            "(RETRIES_EXHAUSTED), 404 ResourceNotFound and 400 ValidationException (not "
            "retried), an output truncated at max tokens (MALFORMED_OUTPUT, tokens billed), "
            "and response-strategy throttled x4. No first-wave success: status FAILED, "
            "consensus NO_VOTERS."
        ),
        events=[event],
        agents=agents,
        clock_start=utc("2026-10-10T03:44:00Z"),
        tags=["all-failing", "cloudfront", "failed", "retries-exhausted", "s3", "sev2"],
    )


@scenario("budget-exceeded")
def budget_exceeded(name: str) -> Scenario:
    asg = {"AutoScalingGroupName": "video-transcode-workers-prod"}
    event = incident_event(
        event_id="cb1e8d43-b330-4143-8c33-d21510434b26",
        time="2026-10-28T16:19:02Z",
        incident_id="INC-2026-1028-0052",
        service="video-transcode",
        severity="SEV3",
        title="video-transcode-workers cannot launch c6i.4xlarge in us-east-1b",
        signals=[
            signal(
                "GroupInServiceInstances",
                "AWS/AutoScaling",
                asg,
                40.0,
                22.0,
                "2026-10-28T16:15:00Z",
                alarm="transcode-capacity-shortfall",
            ),
            signal(
                "ApproximateNumberOfMessagesVisible",
                "AWS/SQS",
                {"QueueName": "transcode-jobs-prod"},
                2000.0,
                9_480.0,
                "2026-10-28T16:16:00Z",
            ),
        ],
        evidence={
            "scaling_activities": [
                "2026-10-28T16:02:44Z Failed: Launching a new EC2 instance. Status Reason: "
                "We currently do not have sufficient c6i.4xlarge capacity in the Availability "
                "Zone you requested (us-east-1b). (InsufficientInstanceCapacity)",
                "2026-10-28T16:07:51Z Failed: InsufficientInstanceCapacity c6i.4xlarge us-east-1b",
            ],
            "launch_template": {
                "id": "lt-0a1b2c3d4e5f67890",
                "version": 12,
                "instance_types": ["c6i.4xlarge"],
                "subnets": ["subnet-0b1c2d3e (us-east-1b)"],
            },
        },
        budget_usd="0.10",
    )
    agents = {
        "change-intelligence": agent(
            answer(
                "Launch template version 12 (last week) narrowed the group to one subnet in "
                "us-east-1b and one instance type, so any capacity shortage in that zone "
                "blocks every launch.",
                [
                    (
                        "config_change",
                        "Restore the multi-AZ subnets and add c6a/c7i.4xlarge as "
                        "instance type overrides.",
                        0.84,
                    )
                ],
                confidence=0.8,
                citations=["lt-0a1b2c3d4e5f67890"],
            ),
            tokens=(3840, 860),
            latency_ms=8200,
        ),
        "historical-pattern": agent(
            answer(
                "InsufficientInstanceCapacity for a single type in one zone has happened three "
                "times this year; diversified instance types resolved it each time.",
                [("config_change", "Use attribute-based instance type selection.", 0.78)],
                confidence=0.74,
            ),
            tokens=(3610, 790),
            latency_ms=7600,
        ),
        "knowledge-rag": agent(
            answer(
                "EC2 guidance for InsufficientInstanceCapacity: try other zones and instance "
                "types; capacity reservations guarantee capacity for critical fleets.",
                [
                    ("config_change", "Spread across zones and instance types.", 0.8),
                    ("investigate", "Evaluate an on-demand capacity reservation.", 0.45),
                ],
                confidence=0.76,
            ),
            tokens=(3920, 880),
            latency_ms=7900,
        ),
        "risk-blast-radius": agent(
            answer(
                "Only transcoding throughput is affected: 9,480 jobs wait, uploads still "
                "succeed, so the impact is delayed video availability.",
                [("config_change", "Diversifying types is low risk for stateless workers.", 0.76)],
                confidence=0.72,
            ),
            tokens=(3350, 720),
            latency_ms=6900,
        ),
        "signal-intelligence": agent(
            answer(
                "GroupInServiceInstances fell from 40 to 22 as instances were recycled and "
                "none replaced; the queue grows from 16:02, when launches began failing.",
                [("config_change", "Unblock launches in other zones.", 0.82)],
                confidence=0.81,
                citations=["GroupInServiceInstances", "transcode-capacity-shortfall"],
            ),
            tokens=(3990, 900),
            latency_ms=8800,
        ),
    }
    return author(
        name=name,
        description=(
            "SEV3: an Auto Scaling group pinned to one zone and one instance type hits "
            "InsufficientInstanceCapacity. The event's budget_usd is 0.10: a first-wave "
            "agent may spend a fifth of it (0.02 USD), less than the worst-case estimate of "
            "one call (about 0.035 USD for its 5.4 KB prompt), so no agent is called and "
            "response-strategy, with nothing to synthesize, is skipped too. Every agent is "
            "SKIPPED with BUDGET_EXCEEDED; status FAILED, 0 Bedrock calls, 0 USD spent "
            "(the agents' scripted answers are never requested, so none is recorded)."
        ),
        events=[event],
        agents=agents,
        clock_start=utc("2026-10-28T16:20:00Z"),
        tags=["autoscaling", "budget-exceeded", "ec2", "failed", "sev3", "skipped"],
    )


@scenario("agents-conflict")
def agents_conflict(name: str) -> Scenario:
    alb = {"LoadBalancer": "app/payments-prod-alb/6c7d8e9fa0b1c2d3"}
    event = incident_event(
        event_id="522f0e0c-d71b-47da-af67-356f4d0e3280",
        time="2026-11-06T22:57:31Z",
        incident_id="INC-2026-1106-0099",
        service="payments-api",
        severity="SEV1",
        title="payments-api p99 latency 6 s and 7% 5xx during deploy and AZ impairment",
        signals=[
            signal(
                "TargetResponseTime",
                "AWS/ApplicationELB",
                alb,
                1.0,
                6.1,
                "2026-11-06T22:54:00Z",
                alarm="payments-api-p99-latency",
            ),
            signal(
                "HTTPCode_Target_5XX_Count",
                "AWS/ApplicationELB",
                alb,
                100.0,
                2_310.0,
                "2026-11-06T22:54:00Z",
                alarm="payments-api-5xx",
            ),
            signal(
                "CPUUtilization",
                "AWS/ECS",
                {"ClusterName": "payments-prod", "ServiceName": "payments-api"},
                80.0,
                91.0,
                "2026-11-06T22:53:00Z",
            ),
            signal(
                "UnHealthyHostCount",
                "AWS/ApplicationELB",
                {**alb, "AvailabilityZone": "us-east-1d"},
                0.0,
                9.0,
                "2026-11-06T22:52:00Z",
            ),
        ],
        evidence={
            "deployment": {
                "id": "ecs-svc/6718209341",
                "image": "payments-api:2026.11.06-2",
                "completed_at": "2026-11-06T22:38:00Z",
            },
            "aws_health": {
                "event": "AWS_EC2_OPERATIONAL_ISSUE",
                "zone_id": "use1-az4",
                "zone": "us-east-1d",
                "start": "2026-11-06T22:49:00Z",
                "status": "open",
            },
            "traffic": {"rps": 4_200, "baseline_rps": 2_900, "note": "end-of-month payouts"},
        },
        budget_usd="0.60",
    )
    agents = {
        "change-intelligence": agent(
            answer(
                "payments-api:2026.11.06-2 completed at 22:38, 14 minutes before latency rose; "
                "it changes the connection pool of the card processor client. The release is "
                "the most likely cause.",
                [("rollback", "Roll back to payments-api:2026.11.06-1.", 0.9)],
                confidence=0.88,
                citations=["ecs-svc/6718209341"],
            ),
            tokens=(2640, 470),
            latency_ms=4600,
        ),
        "historical-pattern": agent(
            answer(
                "End-of-month payout peaks saturated payments-api CPU in three prior months "
                "with the same latency shape; each resolved by adding tasks.",
                [("scale_out", "Raise payments-api desired count from 24 to 36.", 0.88)],
                confidence=0.85,
            ),
            tokens=(2280, 400),
            latency_ms=3700,
        ),
        "knowledge-rag": agent(
            answer(
                "The AZ evacuation runbook applies when AWS Health reports an operational "
                "issue in a zone with unhealthy targets: start an ARC zonal shift away from "
                "use1-az4.",
                [
                    (
                        "failover",
                        "Start a zonal shift of payments-prod-alb away from use1-az4.",
                        0.87,
                    )
                ],
                confidence=0.84,
                citations=["AWS_EC2_OPERATIONAL_ISSUE"],
            ),
            tokens=(2950, 420),
            latency_ms=2900,
            model=HAIKU,
        ),
        "risk-blast-radius": agent(
            answer(
                "All card payments are affected. Scaling out is the least risky action; a "
                "rollback during a payout peak restarts every task at once.",
                [("scale_out", "Add 12 tasks spread across healthy zones.", 0.86)],
                confidence=0.83,
            ),
            tokens=(2020, 330),
            latency_ms=2600,
            model=HAIKU,
        ),
        "signal-intelligence": agent(
            answer(
                "UnHealthyHostCount in us-east-1d rose first (22:52), then 5xx and latency "
                "(22:54); CPU at 91% is high but errors concentrate on the impaired zone's "
                "targets.",
                [("failover", "Shift traffic away from us-east-1d.", 0.91)],
                confidence=0.9,
                citations=["UnHealthyHostCount", "HTTPCode_Target_5XX_Count"],
            ),
            tokens=(3290, 580),
            latency_ms=5200,
        ),
        "response-strategy": agent(
            answer(
                "The agents disagree: a fresh release, a payout traffic peak and an AZ "
                "impairment all fit the timeline. A rollback removes the only change opx can "
                "fully control.",
                [
                    ("rollback", "Roll back payments-api:2026.11.06-2.", 0.87),
                    ("failover", "Zonal shift away from use1-az4 if 5xx persists.", 0.7),
                    ("scale_out", "Add tasks for the payout peak.", 0.65),
                ],
                confidence=0.86,
                citations=["change-intelligence", "signal-intelligence", "historical-pattern"],
            ),
            tokens=(3880, 760),
            latency_ms=7000,
            model=SONNET_37,
        ),
    }
    return author(
        name=name,
        description=(
            "SEV1: payments-api degrades while three causes coincide (a release 14 minutes "
            "earlier, an end-of-month traffic peak, an AWS Health issue in use1-az4). Agents "
            "split between rollback, scale_out and failover, all with confidence >= 0.83: "
            "consensus reports a primary_action conflict, LOW agreement and minority opinions; "
            "the weighted score ranks failover first although rollback holds the largest "
            "first-choice share."
        ),
        events=[event],
        agents=agents,
        clock_start=utc("2026-11-06T22:58:00Z"),
        tags=["conflict", "ecs", "failover", "rollback", "scale-out", "sev1", "succeeded"],
    )


@scenario("invalid-event")
def invalid_event(name: str) -> Scenario:
    # A producer still on the legacy v0 payload: every field below breaks the contract.
    event = {
        "version": "0",
        "id": "24624b5c-f8f2-4d0d-a6ac-762d8db0d31d",
        "detail-type": "IncidentCreated",
        "source": "opx.incident",
        "account": ACCOUNT,
        "time": "2026-11-18T07:59:12Z",
        "region": REGION,
        "resources": [],
        "detail": {
            "incident_id": "INC 2026/1118 #7731",
            "service": "shipping-quotes",
            "severity": "P1",
            "priority": "high",
            "signals": [],
            "evidence_bundle": {"note": "legacy producer: shipping-quotes-alarm-forwarder v0.9"},
            "budget_usd": "-5",
        },
    }
    return author(
        name=name,
        description=(
            "An IncidentCreated event from a legacy producer that breaks the contract in six "
            "places (bad incident_id characters, severity P1, missing title, empty signals, "
            "unknown field priority, negative budget): the handler answers 400 "
            "INPUT_VALIDATION_FAILED naming every field, with no Bedrock call and no "
            "checkpoint."
        ),
        events=[event],
        agents={},
        clock_start=utc("2026-11-18T08:00:00Z"),
        tags=["400", "invalid-input", "no-bedrock"],
    )


@scenario("redelivered-event")
def redelivered_event(name: str) -> Scenario:
    fn = {"FunctionName": "billing-events-consumer"}
    event = incident_event(
        event_id="5b3b29ee-684e-49af-8d5f-10cb65f8b5b7",
        time="2026-12-01T10:14:26Z",
        incident_id="INC-2026-1201-0021",
        service="billing-events-consumer",
        severity="SEV2",
        title="billing-events DLQ receiving messages: kms:Decrypt AccessDenied",
        signals=[
            signal(
                "ApproximateNumberOfMessagesVisible",
                "AWS/SQS",
                {"QueueName": "billing-events-dlq"},
                1.0,
                3_871.0,
                "2026-12-01T10:12:00Z",
                alarm="billing-events-dlq-not-empty",
            ),
            signal("Errors", "AWS/Lambda", fn, 5.0, 1_204.0, "2026-12-01T10:11:00Z"),
        ],
        evidence={
            "lambda_logs": [
                "2026-12-01T09:58:03.114Z ERROR billing-events-consumer AccessDeniedException: "
                "User: arn:aws:sts::123456789012:assumed-role/billing-consumer-role/"
                "billing-events-consumer is not authorized to perform: kms:Decrypt on resource:"
                " arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            ],
            "change": {
                "id": "CHG-88412",
                "summary": "KMS key policy tightened for alias/billing-events",
                "applied_at": "2026-12-01T09:55:00Z",
                "author": "security-automation@example.com",
            },
        },
        budget_usd="0.30",
    )
    agents = {
        "change-intelligence": agent(
            answer(
                "CHG-88412 tightened the key policy of alias/billing-events at 09:55; the "
                "consumer role lost kms:Decrypt and every message fails from 09:58.",
                [
                    (
                        "rollback",
                        "Revert CHG-88412 or re-grant kms:Decrypt to billing-consumer-role.",
                        0.92,
                    )
                ],
                confidence=0.9,
                citations=["CHG-88412"],
            ),
            tokens=(1760, 320),
            latency_ms=3000,
        ),
        "historical-pattern": agent(
            answer(
                "Key policy changes by security automation caused two consumer outages this "
                "year; both were fixed by re-granting the role.",
                [("rollback", "Re-grant kms:Decrypt.", 0.82)],
                confidence=0.77,
            ),
            tokens=(1490, 240),
            latency_ms=2400,
        ),
        "knowledge-rag": agent(
            answer(
                "After restoring access, redrive the DLQ with SQS message move tasks; the "
                "consumer is idempotent on billing event ids.",
                [
                    ("rollback", "Restore key access.", 0.78),
                    ("investigate", "Redrive billing-events-dlq after the fix.", 0.7),
                ],
                confidence=0.73,
            ),
            tokens=(2120, 360),
            latency_ms=2100,
            model=HAIKU,
        ),
        "risk-blast-radius": agent(
            answer(
                "Invoices are delayed, not lost: 3,871 messages wait in the DLQ (14-day "
                "retention). Re-granting decrypt to one role is narrow and low risk.",
                [("rollback", "Narrow re-grant is safe.", 0.8)],
                confidence=0.76,
            ),
            tokens=(1350, 220),
            latency_ms=1800,
            model=HAIKU,
        ),
        "signal-intelligence": agent(
            answer(
                "Lambda Errors and DLQ depth rise together from 09:58, three minutes after the "
                "policy change; every error is the same kms:Decrypt AccessDenied.",
                [("rollback", "Undo the permission change.", 0.88)],
                confidence=0.87,
                citations=["billing-events-dlq-not-empty", "Errors"],
            ),
            tokens=(2210, 400),
            latency_ms=3300,
        ),
        "response-strategy": agent(
            answer(
                "CHG-88412 removed kms:Decrypt from the consumer role. Re-grant it, then "
                "redrive the DLQ; the consumer is idempotent.",
                [
                    ("rollback", "Re-grant kms:Decrypt / revert CHG-88412.", 0.9),
                    ("investigate", "Redrive billing-events-dlq.", 0.72),
                ],
                confidence=0.88,
                citations=["change-intelligence", "signal-intelligence", "CHG-88412"],
            ),
            tokens=(2890, 520),
            latency_ms=4700,
        ),
    }
    return author(
        name=name,
        description=(
            "SEV2: a KMS key policy change breaks an SQS consumer. EventBridge delivers the "
            "same IncidentCreated event twice (at-least-once): the first delivery runs all six "
            "agents; the second finds the completed execution in the DynamoDB checkpoints and "
            "returns the identical body with no Bedrock call (6 calls in total)."
        ),
        events=[event, event],
        agents=agents,
        clock_start=utc("2026-12-01T10:15:00Z"),
        tags=["idempotency", "kms", "redelivery", "sev2", "sqs", "succeeded"],
    )


def _indexer_log(lines: int) -> list[str]:
    """``lines`` realistic ECS log lines for catalog-indexer, arithmetic on the index."""
    start = utc("2026-12-09T00:40:00Z")
    levels = ("INFO", "INFO", "INFO", "WARN", "INFO", "ERROR", "INFO")
    out = []
    for n in range(lines):
        at = (start + timedelta(milliseconds=811 * n)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        task = f"{(n // 400) * 7919 % 65536:04x}{(n // 400) * 104729 % 65536:04x}"
        level = levels[n % len(levels)]
        heap = 1400 + (n % 400) * 6
        if level == "ERROR":
            text = (
                f"java.lang.OutOfMemoryError: Java heap space while merging segment "
                f"seg_{n // 7:05d} (heap_used_mb={heap}, heap_max_mb=3584)"
            )
        elif level == "WARN":
            text = f"GC pause {180 + (n % 13) * 37} ms (G1 Evacuation Pause) heap_used_mb={heap}"
        else:
            text = (
                f"indexed batch {n:06d}: {500 + n % 250} documents from catalog-updates "
                f"shard {n % 16:02d} in {40 + (n * 7) % 310} ms"
            )
        out.append(f"{at}Z {level:<5} [catalog-indexer task/{task}] {text}")
    return out


@scenario("large-evidence-bundle")
def large_evidence_bundle(name: str) -> Scenario:
    svc = {"ClusterName": "search-prod", "ServiceName": "catalog-indexer"}
    log_lines = _indexer_log(4_200)
    event = incident_event(
        event_id="f9d499e1-505f-41fe-8f07-a321f6a66b1b",
        time="2026-12-09T01:36:20Z",
        incident_id="INC-2026-1209-0004",
        service="catalog-indexer",
        severity="SEV3",
        title="catalog-indexer tasks OOM-killed in a loop (exit code 137)",
        signals=[
            signal(
                "MemoryUtilization",
                "AWS/ECS",
                svc,
                90.0,
                99.7,
                "2026-12-09T01:33:00Z",
                alarm="catalog-indexer-memory-high",
            ),
            signal(
                "RunningTaskCount", "ECS/ContainerInsights", svc, 6.0, 2.0, "2026-12-09T01:34:00Z"
            ),
        ],
        evidence={
            "log_group": "/ecs/catalog-indexer-prod",
            "task_stops": [
                {
                    "task": "task/search-prod/7c1d04e2b9a84f0c8e3d5a6b1f2e9d70",
                    "stop_code": "EssentialContainerExited",
                    "reason": "OutOfMemoryError: Container killed due to memory usage",
                    "exit_code": 137,
                },
            ],
            "task_definition": {
                "family": "catalog-indexer",
                "revision": 31,
                "memory_mb": 4096,
                "java_opts": "-Xmx3584m",
            },
            "log_lines": log_lines,
        },
        budget_usd="0.50",
    )
    note = "Reasoning from the 20,000-character excerpt of a truncated evidence bundle. "
    agents = {
        "change-intelligence": agent(
            answer(
                note + "No deployment appears in the excerpt; task definition revision 31 "
                "sets -Xmx3584m in a 4096 MB task, leaving little headroom for off-heap "
                "segment merges.",
                [("config_change", "Lower -Xmx to 3072m or raise task memory to 6144 MB.", 0.7)],
                confidence=0.62,
                status="PARTIAL",
                citations=["catalog-indexer-memory-high"],
            ),
            tokens=(3870, 420),
            latency_ms=5400,
        ),
        "historical-pattern": agent(
            answer(
                note + "Indexer OOM loops recurred after catalog growth; each time memory was "
                "raised.",
                [("config_change", "Raise task memory.", 0.72)],
                confidence=0.66,
            ),
            tokens=(3650, 310),
            latency_ms=4700,
            model=HAIKU,
        ),
        "knowledge-rag": agent(
            answer(
                note + "Container exit 137 with a JVM heap near the task limit is the kernel "
                "OOM killer; keep -Xmx at about 75% of container memory.",
                [("config_change", "Set -Xmx to 75% of task memory.", 0.74)],
                confidence=0.7,
            ),
            tokens=(3720, 360),
            latency_ms=3900,
            model=HAIKU,
        ),
        "risk-blast-radius": agent(
            answer(
                note + "Search results go stale (catalog updates not indexed) but queries are "
                "served by the existing index; no customer-facing errors.",
                [("config_change", "Changing task memory is a safe rolling deploy.", 0.7)],
                confidence=0.68,
            ),
            tokens=(3590, 280),
            latency_ms=3600,
            model=HAIKU,
        ),
        "signal-intelligence": agent(
            answer(
                note + "Heap usage climbs in each task's log until OutOfMemoryError during "
                "segment merges, and GC pauses lengthen before each crash; RunningTaskCount "
                "drops to 2.",
                [
                    ("config_change", "Raise memory headroom.", 0.78),
                    ("investigate", "Check merge policy for oversized segments.", 0.5),
                ],
                confidence=0.76,
                citations=["MemoryUtilization", "RunningTaskCount"],
            ),
            tokens=(3980, 540),
            latency_ms=6000,
        ),
        "response-strategy": agent(
            answer(
                note + "The indexer's heap leaves no headroom in a 4096 MB task; merges push it "
                "over. Raise task memory to 6144 MB with -Xmx4608m, then tune the merge "
                "policy.",
                [
                    ("config_change", "Task memory 6144 MB, -Xmx4608m.", 0.8),
                    ("investigate", "Tune the segment merge policy.", 0.5),
                ],
                confidence=0.74,
                citations=["signal-intelligence", "knowledge-rag"],
            ),
            tokens=(3990, 610),
            latency_ms=6300,
        ),
    }
    return author(
        name=name,
        description=(
            "SEV3: an ECS indexer OOM-kill loop reported with ~4,600 log lines (~600 KB) in "
            "its evidence_bundle. Agents see only the deterministic 20,000-character excerpt "
            "plus its sha256; the full incident is checkpointed, so the checkpoint exceeds "
            "DynamoDB's 400 KB item limit and the checkpointer must chunk it."
        ),
        events=[event],
        agents=agents,
        clock_start=utc("2026-12-09T01:37:00Z"),
        tags=["checkpoint-chunking", "ecs", "large-evidence", "sev3", "succeeded"],
    )


@scenario("fenced-json-output")
def fenced_json_output(name: str) -> Scenario:
    gw = {"ApiId": "a1b2c3d4e5", "Stage": "$default"}
    event = incident_event(
        event_id="d5211508-b2b2-46fb-a603-2c446ed03529",
        time="2026-02-16T07:04:45Z",
        incident_id="INC-2026-0216-0010",
        service="partner-gateway",
        severity="SEV2",
        title="partner-gateway mTLS handshake failures for partner.example.com",
        signals=[
            signal(
                "4xx",
                "AWS/ApiGateway",
                gw,
                5.0,
                38.0,
                "2026-02-16T07:02:00Z",
                alarm="partner-gateway-4xx",
            ),
            signal(
                "DaysToExpiry",
                "AWS/CertificateManager",
                {
                    "CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/"
                    "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
                },
                7.0,
                0.0,
                "2026-02-16T07:00:00Z",
            ),
        ],
        evidence={
            "truststore": "s3://partner-gateway-truststore-123456789012/truststore.pem",
            "access_log": [
                '{"requestId":"Zx1Y2w3V4u","domainName":"partner.example.com",'
                '"status":"403","error.message":"Forbidden: client certificate expired"}',
            ],
            "certificate": {
                "subject": "CN=partner.example.com",
                "not_after": "2026-02-16T06:59:59Z",
            },
            "contact": "partner-integrations@example.com",
        },
        budget_usd="0.30",
    )
    fenced = answer(
        "The partner's client certificate expired at 06:59:59Z; API Gateway rejects the mTLS "
        "handshake with 403 from 07:00. The mTLS runbook says to ask the partner for a "
        "renewed certificate and add it to the truststore.",
        [
            ("config_change", "Add the partner's renewed certificate to truststore.pem.", 0.86),
            ("communicate", "Contact partner-integrations@example.com for the renewal.", 0.8),
        ],
        confidence=0.85,
        citations=["partner-gateway-4xx", "DaysToExpiry"],
    )
    prose = (
        "I reviewed the mTLS runbook and the access logs.\n\n```json\n"
        + json.dumps(fenced, indent=2)
        + "\n```\n\nThe certificate renewal is the only required change."
    )
    agents = {
        "change-intelligence": agent(
            answer(
                "No deployment; the failure starts the second the partner certificate "
                "expired (not_after 06:59:59Z).",
                [("config_change", "Install the renewed partner certificate.", 0.84)],
                confidence=0.86,
                citations=["DaysToExpiry"],
            ),
            tokens=(1420, 230),
            latency_ms=2600,
        ),
        "historical-pattern": agent(
            answer(
                "Partner certificate expiries caused two similar outages; both were fixed by "
                "a truststore update once the partner sent the new certificate.",
                [("config_change", "Update the truststore.", 0.8)],
                confidence=0.78,
            ),
            tokens=(1300, 210),
            latency_ms=2300,
            model=HAIKU,
        ),
        "knowledge-rag": agent(prose, tokens=(1980, 470), latency_ms=2900, model=HAIKU),
        "risk-blast-radius": agent(
            answer(
                "One partner's traffic is rejected (all of partner.example.com); other "
                "partners and public APIs are unaffected.",
                [("communicate", "Notify the partner and account manager.", 0.74)],
                confidence=0.75,
            ),
            tokens=(1150, 190),
            latency_ms=1800,
            model=HAIKU,
        ),
        "signal-intelligence": agent(
            answer(
                "4xx rises at 07:00 exactly when DaysToExpiry reaches 0; access logs show "
                "'client certificate expired'.",
                [("config_change", "Renew the trusted client certificate.", 0.85)],
                confidence=0.87,
                citations=["partner-gateway-4xx", "DaysToExpiry"],
            ),
            tokens=(1610, 300),
            latency_ms=2700,
        ),
        "response-strategy": agent(
            answer(
                "An expired partner client certificate fails mTLS. Obtain the renewed "
                "certificate from the partner and add it to the truststore; set an expiry "
                "alarm at 30 days.",
                [
                    ("config_change", "Truststore update with the renewed certificate.", 0.86),
                    ("communicate", "Coordinate with partner-integrations@example.com.", 0.78),
                ],
                confidence=0.85,
                citations=["signal-intelligence", "knowledge-rag", "partner-gateway-4xx"],
            ),
            tokens=(2700, 500),
            latency_ms=4400,
        ),
    }
    return author(
        name=name,
        description=(
            "SEV2: a partner's mTLS client certificate expires on an HTTP API. knowledge-rag "
            "ignores the 'JSON only' instruction and wraps its answer in prose and a ```json "
            "fence: the extraction rule finds the fenced object and the agent still SUCCEEDS, "
            "as do all others."
        ),
        events=[event],
        agents=agents,
        clock_start=utc("2026-02-16T07:05:00Z"),
        tags=["api-gateway", "fenced-output", "mtls", "sev2", "succeeded"],
    )


@scenario("unpriced-model")
def unpriced_model(name: str) -> Scenario:
    sfn = {
        "StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:"
        "ledger-reconciliation"
    }
    event = incident_event(
        event_id="6dcb125f-39c4-4bf5-b0e8-6bfcba5d233c",
        time="2026-01-31T02:30:40Z",
        incident_id="INC-2026-0131-0002",
        service="ledger-reconciliation",
        severity="SEV3",
        title="Nightly ledger-reconciliation state machine failed 3 times",
        signals=[
            signal(
                "ExecutionsFailed",
                "AWS/States",
                sfn,
                0.0,
                3.0,
                "2026-01-31T02:28:00Z",
                alarm="ledger-reconciliation-failed",
            ),
            signal(
                "Errors",
                "AWS/Lambda",
                {"FunctionName": "ledger-fetch-bank-statements"},
                0.0,
                3.0,
                "2026-01-31T02:27:00Z",
            ),
        ],
        evidence={
            "execution_history": [
                "TaskFailed FetchBankStatements: States.Timeout after 900 s",
                "TaskFailed FetchBankStatements: Lambda.Unknown (Task timed out after 900 seconds)",
            ],
            "bank_api_status": "https://status.bank.example.com/ (degraded since 01:50Z)",
            "month_end": True,
        },
        budget_usd="0.50",
    )
    agents = {
        "change-intelligence": agent(
            answer(
                "No change to the state machine or functions this month; the failures come "
                "from the external bank statement API.",
                [("investigate", "Confirm the bank API degradation with the provider.", 0.6)],
                confidence=0.7,
            ),
            tokens=(1380, 220),
            latency_ms=2500,
        ),
        "historical-pattern": agent(
            answer(
                "Month-end bank API slowness failed the job in two prior months; a manual "
                "re-run after 06:00 UTC succeeded both times.",
                [("no_action", "Re-run the reconciliation after the bank API recovers.", 0.72)],
                confidence=0.7,
            ),
            tokens=(1260, 200),
            latency_ms=2200,
        ),
        "knowledge-rag": agent(
            answer(
                "The reconciliation runbook allows a delayed run up to 09:00 UTC before "
                "finance must be notified.",
                [
                    ("no_action", "Wait and re-run before 09:00 UTC.", 0.7),
                    ("communicate", "Tell finance-ops@example.com if not done by 09:00.", 0.6),
                ],
                confidence=0.69,
            ),
            tokens=(1710, 280),
            latency_ms=2100,
            model=HAIKU,
        ),
        "risk-blast-radius": agent(
            answer(
                "Only the internal ledger close is delayed; no customer balance is affected.",
                [("no_action", "No customer impact; re-run later.", 0.7)],
                confidence=0.72,
            ),
            tokens=(1090, 170),
            latency_ms=1700,
            model=HAIKU,
        ),
        "signal-intelligence": agent(
            answer(
                "Every failure is FetchBankStatements hitting its 900 s timeout, beginning "
                "after the bank API status page reported degradation at 01:50Z.",
                [("investigate", "Add a retry with backoff on the bank API step.", 0.62)],
                confidence=0.78,
                citations=["ledger-reconciliation-failed", "ExecutionsFailed"],
            ),
            tokens=(1540, 290),
            latency_ms=2600,
        ),
        "response-strategy": agent(
            answer(
                "An external bank API degradation times out the month-end reconciliation. Wait "
                "for recovery and re-run before 09:00 UTC; add retries to the fetch step.",
                [
                    ("no_action", "Re-run after the bank API recovers.", 0.72),
                    ("investigate", "Add Retry with backoff to FetchBankStatements.", 0.6),
                ],
                confidence=0.75,
                citations=["signal-intelligence", "historical-pattern"],
            ),
            tokens=(2480, 430),
            latency_ms=6900,
            model=OPUS_4,
        ),
    }
    return author(
        name=name,
        description=(
            "SEV3: an external bank API outage fails a month-end Step Functions job. "
            "response-strategy runs on a model missing from opx/data/pricing.json (a us. "
            "profile of Claude Opus 4): it is priced at the table's highest rates and listed "
            "in the checkpointed cost report's unpriced_models -- never silently free."
        ),
        events=[event],
        agents=agents,
        clock_start=utc("2026-01-31T02:31:00Z"),
        tags=["cost", "no-action", "sev3", "step-functions", "succeeded", "unpriced-model"],
    )


# --------------------------------------------------------------------------- build / check


def render(
    names: Iterable[str] | None = None, builders: Mapping[str, Builder] = BUILDERS
) -> dict[str, str]:
    """File name -> file text for the selected scenarios (all by default)."""
    selected = list(builders) if names is None else list(names)
    unknown = sorted(set(selected) - set(builders))
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(unknown)}")
    out: dict[str, str] = {}
    for name in selected:
        built = builders[name](name)
        if built.name != name:
            raise ValueError(f"builder for {name} produced scenario {built.name}")
        out[f"{name}.json"] = built.to_json()
    return out


#: How the ``--check`` messages name this script.
TOOL = "tools/build_corpus.py"


def stale(rendered: Mapping[str, str], directory: Path, tool: str = TOOL) -> list[str]:
    """One line per file on disk that is missing or differs from ``rendered``."""
    problems = []
    for filename, text in sorted(rendered.items()):
        path = directory / filename
        if not path.exists():
            problems.append(f"{path}: missing")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{path}: differs from what {tool} writes")
    return problems


def first_diff(rendered: Mapping[str, str], directory: Path, limit: int = 40) -> str:
    for filename, text in sorted(rendered.items()):
        path = directory / filename
        if path.exists() and path.read_text(encoding="utf-8") != text:
            diff = difflib.unified_diff(
                path.read_text(encoding="utf-8").splitlines(),
                text.splitlines(),
                fromfile=f"{path} (on disk)",
                tofile=f"{path} (built)",
                lineterm="",
            )
            return "\n".join(line[:200] for line in list(diff)[:limit])
    return ""


def write(rendered: Mapping[str, str], directory: Path) -> list[str]:
    """Write changed files only (unchanged files keep their mtime); returns those written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, text in sorted(rendered.items()):
        path = directory / filename
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(filename)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    return cli(argv, description=__doc__.split("\n\n")[0], render_files=render, tool=TOOL)


def cli(
    argv: Sequence[str] | None,
    *,
    description: str,
    render_files: Callable[[Iterable[str] | None], dict[str, str]],
    tool: str,
) -> int:
    """The command line of a corpus script: build, ``--check``, ``--only``, ``--out``
    (shared with ``tools/build_action_group_corpus.py``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if a corpus file is missing or differs",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="scenario directory (default: scenarios/)"
    )
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only these scenarios")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    rendered = render_files(args.only)
    elapsed = time.perf_counter() - started
    if args.check:
        problems = stale(rendered, args.out, tool)
        for line in problems:
            print(line, file=sys.stderr)
        if problems:
            print(first_diff(rendered, args.out), file=sys.stderr)
            print(f"run: python {tool}", file=sys.stderr)
            return 1
        print(f"{len(rendered)} scenario files up to date ({elapsed:.1f} s)")
        return 0
    written = write(rendered, args.out)
    others = sorted(
        p.name for p in args.out.glob("*.json") if p.name not in rendered and args.only is None
    )
    print(
        f"built {len(rendered)} scenarios in {elapsed:.1f} s; wrote {len(written)}: "
        + (", ".join(written) or "none changed")
    )
    if others:
        print(f"left alone (not authored here): {', '.join(others)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
