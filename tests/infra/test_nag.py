"""cdk-nag's AwsSolutions pack passes; every suppression is specific and justified."""

from __future__ import annotations

import json

from aws_cdk.assertions import Annotations, Match

from tests.infra.conftest import App

#: The findings suppressed, by rule, and where (see the reason next to each in code).
EXPECTED_SUPPRESSIONS = {
    "AwsSolutions-L1": "the six Lambda functions (runtime pinned to the tested Python)",
    "AwsSolutions-IAM5": "action-group roles (actions AWS cannot scope; log groups; indexes)",
    "AwsSolutions-SQS3": "the dead-letter queue itself",
}


def test_no_unsuppressed_findings(app: App) -> None:
    for synthesized in app.stages:
        annotations = Annotations.from_stack(synthesized.stack)
        nag = Match.string_like_regexp("AwsSolutions-.*")
        assert annotations.find_error("*", nag) == []
        assert annotations.find_warning("*", nag) == []


def test_suppressions_are_the_expected_ones_with_reasons(app: App) -> None:
    for synthesized in app.stages:
        suppressions = [
            rule
            for resource in synthesized.template.to_json()["Resources"].values()
            for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
        ]
        assert {rule["id"] for rule in suppressions} == set(EXPECTED_SUPPRESSIONS)
        for rule in suppressions:
            assert len(rule["reason"]) >= 60, json.dumps(rule)
            if rule["id"] == "AwsSolutions-IAM5":
                # A wildcard suppression names exactly which wildcards it covers.
                assert rule["applies_to"], json.dumps(rule)
        l1 = [rule for rule in suppressions if rule["id"] == "AwsSolutions-L1"]
        assert len(l1) == 1 + len(synthesized.stack.action_groups.functions)
