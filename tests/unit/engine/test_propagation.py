"""Propagation: a value found once in a record is replaced at its other mentions there, in any
case and form, the same way; a full name also covers its parts at later mentions."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest

from recognizers.proper_nouns import ProperNounRecognizer
from scrubber.engine import Scrubber
from scrubber.engine.propagation import Propagator
from scrubber.engine.spans import Layout, Target, span


@pytest.fixture(scope="module")
def propagator() -> Propagator:
    return Propagator(ProperNounRecognizer(), frozenset({"Ops@Example.com"}))


def _found(propagator: Propagator, text: str, value: str, entity_type: str) -> list[str]:
    """Propagate one planted span over `text`; the values of every span afterwards."""
    start = text.index(value)
    target = Target(text, spans=[span(start, start + len(value), entity_type, 0.9)])
    propagator.propagate([target])
    return [text[s.start : s.end] for s in target.spans]


@pytest.mark.parametrize(
    ("text", "value", "entity_type", "expected"),
    [
        # every mention, in any case, at word boundaries only
        ("Maria Garcia called; later maria garcia's session; MARIA GARCIA again",
         "Maria Garcia", "PERSON", ["Maria Garcia", "maria garcia", "MARIA GARCIA"]),
        ("user=jdoe42 then JDOE42 and jdoe421", "jdoe42", "USERNAME", ["jdoe42", "JDOE42"]),
        # the normaliser's forms: full-width letters and percent-encoding
        ("Maria Garcia, then ＭＡＲＩＡ ＧＡＲＣＩＡ", "Maria Garcia", "PERSON",
         ["Maria Garcia", "ＭＡＲＩＡ ＧＡＲＣＩＡ"]),
        ("to jane@example.com, cc jane%40example.com", "jane@example.com", "EMAIL_ADDRESS",
         ["jane@example.com", "jane%40example.com"]),
        # parts of a full name, after it only, and not the common words among them
        ("Maria Okafor called, then Maria said Okafor is fine", "Maria Okafor", "PERSON",
         ["Maria Okafor", "Maria", "Okafor"]),
        ("Okafor first, then Maria Okafor", "Maria Okafor", "PERSON", ["Maria Okafor"]),
        ("Mark Okafor: please mark it done, Okafor", "Mark Okafor", "PERSON",
         ["Mark Okafor", "Okafor"]),
        ("Dr. Rose Smith left; smith and rose stayed", "Dr. Rose Smith", "PERSON",
         ["Dr. Rose Smith"]),
        # what is never propagated: short numbers, English single words, allow-listed mentions
        ("pin 4821 and took 4821 ms", "4821", "SECRET", ["4821"]),
        ("user admin, admin panel", "admin", "USERNAME", ["admin"]),
        ("Server failed; restart server", "Server", "PERSON", ["Server"]),
        ("ops@example.com wrote; Ops@Example.com", "ops@example.com", "EMAIL_ADDRESS",
         ["ops@example.com"]),
        # a SECRET is a SECRET whatever it looks like
        ("password=letmein then letmein again", "letmein", "SECRET", ["letmein", "letmein"]),
    ],
)  # fmt: skip
def test_mentions_are_found_by_the_rules(
    propagator: Propagator, text: str, value: str, entity_type: str, expected: list[str]
) -> None:
    assert _found(propagator, text, value, entity_type) == expected


def test_kept_fields_and_rule_fields_are_not_searched(propagator: Propagator) -> None:
    source = Target("jdoe42 logged in", spans=[span(0, 6, "USERNAME", 0.9)])
    kept = Target("note: jdoe42", layout=Layout(kept=[(6, 12)]))
    decided = Target("jdoe42", searchable=False)
    propagator.propagate([source, kept, decided])
    assert kept.spans == [] and decided.spans == []


def test_a_text_record_loses_every_mention(engine: Scrubber) -> None:
    line = "User Maria Garcia logged in from 10.1.2.3, later maria garcia's session expired"
    [result] = engine.scrub_batch([line], "text")
    assert (
        result.output
        == "User <PERSON> logged in from <IP_ADDRESS>, later <PERSON>'s session expired"
    )
    assert result.entity_counts["PERSON"] == 2
    persons = [(r.start, r.end) for r in result.replacements if r.entity_type == "PERSON"]
    assert [line[s:e] for s, e in persons] == ["Maria Garcia", "maria garcia"]


def test_a_first_name_alone_after_the_full_name(engine: Scrubber) -> None:
    out = engine.scrub_text("Maria Garcia opened a ticket, then Maria said it was fixed")
    assert "Maria" not in out and out.endswith("then <PERSON> said it was fixed")


def test_every_mention_gets_the_same_token(make_engine: Callable[..., Scrubber]) -> None:
    token_engine = make_engine(
        {"policy": {"default": {"type": "token"}}, "keys": {"default": {"env": "K"}}},
        {"K": "3f9a1c7e5b2d4f6a8c0e1b3d5f7a9c2e"},
    )
    line = (
        'level=info customer="Jane Okafor" note="called jane okafor twice" pwd=s3cr3tpw x=S3CR3TPW'
    )
    out = token_engine.scrub_text(line)
    tokens = re.findall(r"<(PERSON|SECRET)_[0-9a-f]+>", out)
    assert "okafor" not in out.lower() and "s3cr3tpw" not in out.lower()
    persons = re.findall(r"<PERSON_[0-9a-f]+>", out)
    secrets = re.findall(r"<SECRET_[0-9a-f]+>", out)
    assert len(persons) == 2 and len(set(persons)) == 1, out
    assert len(secrets) == 2 and len(set(secrets)) == 1, out
    assert len(tokens) == 4


def test_one_json_document_is_one_record(engine: Scrubber) -> None:
    request = {
        "messages": [
            {"role": "user", "content": "Hi, I am Maria Okafor and my password is below"},
            {"role": "user", "content": "okafor here again: can you check?"},
        ],
        "user": {"password": "blue-horse-7", "hint": "it is blue-horse-7"},
    }
    [result] = engine.scrub_batch([json.dumps(request)])
    out = json.loads(result.output)
    assert "okafor" not in result.output.lower() and "blue-horse-7" not in result.output
    assert out["messages"][1]["content"] == "<PERSON> here again: can you check?"
    assert out["user"] == {"password": "<SECRET>", "hint": "it is <SECRET>"}
    paths = {r.path for r in result.replacements}
    assert {"messages.content", "user.password", "user.hint"} <= paths


def test_a_value_found_in_a_json_key_is_replaced_in_the_values(engine: Scrubber) -> None:
    record = {"jdoe42@example.com": {"visits": 3}, "note": "ask JDOE42@EXAMPLE.COM"}
    [result] = engine.scrub_batch([json.dumps(record)])
    assert "jdoe42" not in result.output.lower()


def test_short_numbers_and_kept_fields_stay(make_engine: Callable[..., Scrubber]) -> None:
    engine = make_engine({"policy": {"fields": {"trace.note": {"type": "keep"}}}})
    record = {"age": 34, "pin": "4821", "msg": "took 34 ms, code 4821",
              "user": {"last_name": "Okafor"}, "trace": {"note": "Okafor"}}  # fmt: skip
    out = json.loads(engine.scrub_batch([json.dumps(record)])[0].output)
    assert out["msg"] == "took 34 ms, code 4821"
    assert out["trace"]["note"] == "Okafor" and out["user"]["last_name"] == "<PERSON>"


def test_propagation_can_be_switched_off(make_engine: Callable[..., Scrubber]) -> None:
    engine = make_engine({"detection": {"propagate": False}})
    out = engine.scrub_text("User Maria Garcia logged in, later maria garcia's session expired")
    assert "maria garcia's" in out
