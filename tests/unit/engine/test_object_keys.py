"""PII in JSON object keys is scrubbed like PII in values, and paths never repeat it."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from scrubber.engine import Scrubber
from scrubber.engine.object_keys import worth_scanning
from scrubber.models import Outcome

EMAIL = "jane.roe@example.com"
OTHER = "john.smith@example.net"
PHONE = "415-555-0199"


@pytest.mark.parametrize(
    ("record", "planted"),
    [
        ({EMAIL: {"visits": 3}}, EMAIL),
        ({"users": {EMAIL: True}}, EMAIL),
        ([{f"{PHONE}": "mobile"}], PHONE),
        ({"by_ip": {"203.0.113.7": 12}}, "203.0.113.7"),
        ({f"note for {EMAIL}": "x"}, EMAIL),
    ],
)
def test_a_key_holding_pii_is_scrubbed_and_no_path_repeats_it(
    engine: Scrubber, record: object, planted: str
) -> None:
    [result] = engine.scrub_batch([json.dumps(record)])
    assert result.outcome is Outcome.OK
    assert planted not in result.output
    json.loads(result.output)  # still valid JSON
    assert result.replacements, "a finding is reported"
    assert all(planted not in r.path for r in result.replacements)


def test_two_keys_that_scrub_to_one_name_stay_two(engine: Scrubber) -> None:
    [result] = engine.scrub_batch([json.dumps({EMAIL: 1, OTHER: 2, "plain": 3})])
    document = json.loads(result.output)
    assert list(document.values()) == [1, 2, 3]
    assert len(document) == 3
    assert EMAIL not in result.output and OTHER not in result.output


def test_a_scrubbed_key_does_not_make_its_value_look_like_the_type(engine: Scrubber) -> None:
    """`<EMAIL_ADDRESS>` is a person's pseudonym, not a field that holds an address."""
    [result] = engine.scrub_batch([json.dumps({EMAIL: {"visits": 3, "plan": "gold"}})])
    [(key, value)] = json.loads(result.output).items()
    assert key == "<EMAIL_ADDRESS>" and value == {"visits": 3, "plan": "gold"}


def test_field_names_are_left_alone_and_cost_no_scan(engine: Scrubber) -> None:
    record = {"user_id": 7, "firstName": "x", "x-request-id": "abc", "msg": "ok"}
    [result] = engine.scrub_batch([json.dumps(record)])
    assert json.loads(result.output) == record
    assert not any(worth_scanning(key) for key in record)


def test_field_rules_see_the_scrubbed_key_names(make_engine: Callable[..., Scrubber]) -> None:
    scrubber = make_engine({"policy": {"fields": {"*.visits": {"type": "redact"}}}})
    [result] = scrubber.scrub_batch([json.dumps({EMAIL: {"visits": 3}})])
    assert json.loads(result.output) == {"<EMAIL_ADDRESS>": {"visits": "[REDACTED]"}}
