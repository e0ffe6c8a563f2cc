"""The output contract and the tolerant-but-deterministic completion parser."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opx.agents import AgentOutput, AgentOutputError, parse_agent_output
from opx.agents.codes import OUTPUT_ERROR_CODES

ValidOutput = Callable[..., dict[str, Any]]


def _error(text: str) -> AgentOutputError:
    with pytest.raises(AgentOutputError) as caught:
        parse_agent_output(text)
    return caught.value


def test_bare_json_parses_and_dumps_back_unchanged(valid_output: ValidOutput) -> None:
    payload = valid_output()
    parsed = parse_agent_output(json.dumps(payload))
    assert isinstance(parsed, AgentOutput)
    assert parsed.model_dump(mode="json") == payload


def test_json_fence_with_surrounding_prose(valid_output: ValidOutput) -> None:
    text = (
        "Here is my analysis.\n```json\n"
        + json.dumps(valid_output(confidence=0.4), indent=2)
        + "\n```\nLet me know if you need more."
    )
    assert parse_agent_output(text).confidence == 0.4


def test_fence_without_language_tag(valid_output: ValidOutput) -> None:
    text = "```\n" + json.dumps(valid_output()) + "\n```"
    assert parse_agent_output(text).status == "SUCCESS"


def test_inline_object_inside_prose(valid_output: ValidOutput) -> None:
    text = "Result: " + json.dumps(valid_output(status="PARTIAL")) + " -- end of answer {"
    assert parse_agent_output(text).status == "PARTIAL"


def test_fenced_block_wins_over_an_earlier_inline_object(valid_output: ValidOutput) -> None:
    text = (
        'An example looks like {"note": 1}.\n```json\n'
        + json.dumps(valid_output(hypothesis="from the fence"))
        + "\n```"
    )
    assert parse_agent_output(text).hypothesis == "from the fence"


def test_first_fenced_object_wins(valid_output: ValidOutput) -> None:
    first = json.dumps(valid_output(hypothesis="first"))
    second = json.dumps(valid_output(hypothesis="second"))
    text = f"```json\n[1, 2]\n```\n```json\n{first}\n```\n```json\n{second}\n```"
    assert parse_agent_output(text).hypothesis == "first"


def test_unclosed_fence_still_finds_the_object(valid_output: ValidOutput) -> None:
    text = "```json\n" + json.dumps(valid_output())
    assert parse_agent_output(text).confidence == 0.8


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty_completion(text: str) -> None:
    assert _error(text).code == "EMPTY_COMPLETION"


@pytest.mark.parametrize(
    "text",
    [
        "I could not analyze this incident.",
        '{"status": "SUCCESS", "confidence": 0.5,}',
        "[1, 2, 3]",
        '"just a string"',
        '{"status": "SUCCESS", "confidence": NaN}',
        "```json\nnot json\n```",
        "{" * 5000,
        "[" * 100_000,
    ],
)
def test_malformed_output(text: str) -> None:
    error = _error(text)
    assert error.code == "MALFORMED_OUTPUT"
    assert error.message == "no JSON object found in the completion"


def test_out_of_range_confidence_names_the_field(valid_output: ValidOutput) -> None:
    error = _error(json.dumps(valid_output(confidence=1.5)))
    assert error.code == "CONTRACT_VIOLATION"
    assert error.message == "output violates the agent contract at: confidence [less_than_equal]"


def test_nested_violation_paths_are_listed(valid_output: ValidOutput) -> None:
    payload = valid_output(
        findings={
            "recommendations": [
                {"type": "", "description": "x", "confidence": -0.1},
            ]
        }
    )
    del payload["disclaimer"]
    error = _error(json.dumps(payload))
    assert error.code == "CONTRACT_VIOLATION"
    assert error.message == (
        "output violates the agent contract at: "
        "findings.recommendations.0.type [string_too_short]; "
        "findings.recommendations.0.confidence [greater_than_equal]; "
        "disclaimer [missing]"
    )


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        ({"extra_top_level": True}, "extra_top_level [extra_forbidden]"),
        ({"confidence": "0.8"}, "confidence [float_type]"),
        ({"confidence": True}, "confidence [float_type]"),
        ({"status": "success"}, "status [literal_error]"),
        ({"status": "FAILURE"}, "status [literal_error]"),
        ({"hypothesis": ""}, "hypothesis [string_too_short]"),
        ({"hypothesis": "h" * 4001}, "hypothesis [string_too_long]"),
        ({"citations": "d-42"}, "citations [list_type]"),
        ({"findings": {}}, "findings.recommendations [missing]"),
        (
            {
                "findings": {
                    "recommendations": [
                        {"type": "t", "description": "d", "confidence": 0.1, "why": "x"}
                    ]
                }
            },
            "findings.recommendations.0.why [extra_forbidden]",
        ),
        (
            {
                "findings": {
                    "recommendations": [{"type": "t", "description": "d", "confidence": 0.1}] * 21
                }
            },
            "findings.recommendations [too_long]",
        ),
    ],
)
def test_contract_violations(
    valid_output: ValidOutput, overrides: dict[str, Any], path: str
) -> None:
    error = _error(json.dumps(valid_output(**overrides)))
    assert error.code == "CONTRACT_VIOLATION"
    assert error.message == f"output violates the agent contract at: {path}"


def test_integer_confidence_is_a_number(valid_output: ValidOutput) -> None:
    assert parse_agent_output(json.dumps(valid_output(confidence=1))).confidence == 1.0


def test_findings_keep_extra_evidence_and_citations_default(valid_output: ValidOutput) -> None:
    payload = valid_output()
    del payload["citations"]
    payload["findings"]["evidence"] = {"metric": "5xx", "values": [1, 2]}
    dumped = parse_agent_output(json.dumps(payload)).model_dump(mode="json")
    assert dumped["citations"] == []
    assert dumped["findings"]["evidence"] == {"metric": "5xx", "values": [1, 2]}


def test_boundaries_are_inclusive(valid_output: ValidOutput) -> None:
    payload = valid_output(
        confidence=0.0,
        hypothesis="h" * 4000,
        findings={
            "recommendations": [{"type": "t" * 64, "description": "d" * 2000, "confidence": 1.0}]
            * 20
        },
    )
    assert parse_agent_output(json.dumps(payload)).model_dump(mode="json") == payload


# --- property tests --------------------------------------------------------------

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
_noise = st.sampled_from(["", "```", "```json\n", "\n```", "{", "}", "[", '"', "Here:", " "])
_near_contract = st.fixed_dictionaries(
    {},
    optional={
        "status": st.sampled_from(["SUCCESS", "PARTIAL", "FAILURE"]) | _json_values,
        "confidence": st.floats() | _json_values,
        "hypothesis": st.text(max_size=5) | _json_values,
        "findings": st.fixed_dictionaries(
            {},
            optional={
                "recommendations": st.lists(
                    st.dictionaries(
                        st.sampled_from(["type", "description", "confidence", "extra"]),
                        _json_values | st.floats(),
                    ),
                    max_size=3,
                )
                | _json_values,
                "evidence": _json_values,
            },
        )
        | _json_values,
        "citations": st.lists(st.text(max_size=3), max_size=2) | _json_values,
        "disclaimer": st.text(max_size=5) | _json_values,
        "extra": _json_values,
    },
).map(lambda payload: json.dumps(payload, allow_nan=True))
_texts = st.one_of(
    _near_contract,
    _near_contract.map(lambda body: f"Answer:\n```json\n{body}\n```\nDone."),
    st.text(),
    st.lists(st.one_of(_noise, st.text(max_size=10), _json_values.map(json.dumps)), max_size=6).map(
        "".join
    ),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_texts)
def test_arbitrary_text_only_ever_raises_agent_output_error(text: str) -> None:
    try:
        first = parse_agent_output(text).model_dump(mode="json")
    except AgentOutputError as error:
        assert error.code in OUTPUT_ERROR_CODES
        outcome: Any = (error.code, error.message)
    else:
        outcome = first
    # Determinism: the same text always gives the same outcome.
    try:
        again: Any = parse_agent_output(text).model_dump(mode="json")
    except AgentOutputError as error:
        again = (error.code, error.message)
    assert again == outcome


@settings(max_examples=200, deadline=None)
@given(
    confidence=st.floats(allow_nan=False, allow_infinity=False),
    prefix=st.text(alphabet=st.characters(blacklist_characters="{`"), max_size=30),
    fenced=st.booleans(),
)
def test_confidence_accepted_exactly_inside_unit_interval(
    confidence: float, prefix: str, fenced: bool
) -> None:
    payload = {
        "status": "SUCCESS",
        "confidence": confidence,
        "hypothesis": "h",
        "findings": {"recommendations": []},
        "disclaimer": "d",
    }
    body = json.dumps(payload)
    text = prefix + ("```json\n" + body + "\n```" if fenced else body)
    if 0.0 <= confidence <= 1.0:
        assert parse_agent_output(text).confidence == confidence
    else:
        error = _error(text)
        assert error.code == "CONTRACT_VIOLATION"
        assert "confidence" in error.message
