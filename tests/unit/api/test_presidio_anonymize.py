"""POST /anonymize and /deanonymize answer exactly what presidio-anonymizer's engines answer for
the same inputs: a Hypothesis property over random texts, random (overlapping or not, sometimes
invalid) analyzer results and every operator with random parameters, compared byte for byte
with AnonymizerEngine called directly. `hash` (random salt) and `encrypt` (random IV) draw on
os.urandom: both sides get the same deterministic bytes, so their outputs must be identical.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from presidio_anonymizer import AnonymizerEngine, DeanonymizeEngine
from presidio_anonymizer.entities import InvalidParamError, OperatorConfig, OperatorResult
from presidio_anonymizer.entities import RecognizerResult as PresidioResult
from presidio_anonymizer.operators import aes_cipher
from presidio_anonymizer.operators import hash as hash_operator

from scrubber.api.serve import build_app
from scrubber.config import parse_config

ENTITIES = ["PERSON", "PHONE_NUMBER", "EMAIL_ADDRESS", "NAME", "LOCATION"]
KEYS = ["WmZq4t7w!z%C&F)J", "3t6w9z$C&F)J@NcRfTjWnZr4", "y$B&E)H@McQfTjWnZr4u7x!A%C*F-JaN"]
settings_ = {"presidio": {"enabled": True, "require_scrub_role": False},
             "limits": {"large_record_bytes": None}}  # fmt: skip


@pytest.fixture(scope="module")
def api() -> Iterator[TestClient]:
    config = parse_config({"api": settings_, "detection": {"ner": {"enabled": False}}})
    with TestClient(build_app(config, {})) as client:
        yield client


class Randomness:
    """os.urandom for presidio-anonymizer's hash salt and AES IV: the same bytes after reset."""

    def __init__(self) -> None:
        self.counter = itertools.count()

    def reset(self) -> None:
        self.counter = itertools.count()

    def urandom(self, size: int) -> bytes:
        seed = hashlib.sha256(str(next(self.counter)).encode()).digest()
        return (seed * (size // len(seed) + 1))[:size]


@pytest.fixture
def randomness(monkeypatch: pytest.MonkeyPatch) -> Randomness:
    source = Randomness()
    for module in (hash_operator, aes_cipher):
        monkeypatch.setattr(module, "os", SimpleNamespace(urandom=source.urandom))
    return source


def operator_configs() -> st.SearchStrategy[dict[str, Any]]:
    """Each of Presidio's HTTP operators with valid parameters, and a few invalid ones."""
    chars = st.characters(codec="utf-8", exclude_categories=("Cs",))
    return st.one_of(
        st.builds(lambda v: {"type": "replace", **v},
                  st.fixed_dictionaries({}, optional={"new_value": st.text(chars, max_size=12)})),
        st.just({"type": "redact"}),
        st.just({"type": "keep"}),
        st.builds(lambda c, n, e: {"type": "mask", "masking_char": c, "chars_to_mask": n,
                                   "from_end": e},
                  rarely(st.text(chars, min_size=1, max_size=1), st.just("**")),
                  rarely(st.integers(0, 30), st.integers(-2, -1)), st.booleans()),
        st.builds(lambda h, s: {"type": "hash", **h, **s},
                  st.fixed_dictionaries({}, optional={"hash_type": rarely(st.sampled_from(
                      ["sha256", "sha512"]), st.just("md5"))}),
                  st.fixed_dictionaries({}, optional={"salt": rarely(
                      st.text(chars, min_size=16, max_size=24), st.text(chars, max_size=15))})),
        st.builds(lambda k: {"type": "encrypt", "key": k},
                  rarely(st.sampled_from(KEYS), st.just("short"))),
    )  # fmt: skip


def rarely(usual: st.SearchStrategy[Any], odd: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`odd` about one draw in ten."""
    return st.integers(0, 9).flatmap(lambda roll: usual if roll else odd)


@st.composite
def result(draw: st.DrawFn, text: str) -> dict[str, Any]:
    """An analyzer result inside the text (overlapping others or not); now and then one that
    runs past its end or is empty, which Presidio refuses."""
    start = draw(rarely(st.integers(0, len(text) - 1), st.integers(0, len(text) + 2)))
    end = draw(rarely(st.integers(start + 1, max(start + 1, len(text))),
                      st.integers(start, len(text) + 3)))  # fmt: skip
    score = draw(st.floats(0, 1, allow_nan=False).map(lambda x: round(x, 3)))
    return {"start": start, "end": end, "entity_type": draw(st.sampled_from(ENTITIES)),
            "score": score}  # fmt: skip


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    text = draw(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1,
                        max_size=60))  # fmt: skip
    results = draw(st.lists(result(text), max_size=8))
    keys = draw(st.lists(st.sampled_from(["DEFAULT", *ENTITIES]), unique=True, max_size=4))
    operators = {key: draw(operator_configs()) for key in keys}
    body: dict[str, Any] = {"text": text, "analyzer_results": results}
    if operators or draw(st.booleans()):
        body["anonymizers"] = operators
    return body


def presidio_answer(body: dict[str, Any]) -> tuple[int, str]:
    """AnonymizerEngine on the same inputs, built from Python values (no HTTP, no converter)."""
    try:
        results = [PresidioResult(r["entity_type"], r["start"], r["end"], r["score"])
                   for r in body["analyzer_results"]]  # fmt: skip
        operators = {
            entity: OperatorConfig(config["type"], {k: v for k, v in config.items() if k != "type"})
            for entity, config in body.get("anonymizers", {}).items()
        }
        done = AnonymizerEngine().anonymize(body["text"], results, operators)  # type: ignore[no-untyped-call]
    except InvalidParamError as invalid:
        return 422, json.dumps({"error": invalid.err_msg})
    return 200, done.to_json()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=requests())
def test_anonymize_is_presidios_anonymizer_for_every_operator(
    api: TestClient, randomness: Randomness, body: dict[str, Any]
) -> None:
    randomness.reset()
    ours = api.post("/anonymize", json=body)
    randomness.reset()
    status, expected = presidio_answer(body)
    event(f"status {status}")
    for config in body.get("anonymizers", {}).values():
        event(f"{status} {config['type']}")
    assert ours.status_code == status
    assert json.loads(ours.text) == json.loads(expected)
    if status == 200:
        assert ours.text == expected  # byte for byte, as Presidio's server sends it


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=1, max_size=40), key=st.sampled_from(KEYS), data=st.data())
def test_deanonymize_decrypts_what_anonymize_encrypted(
    api: TestClient, text: str, key: str, data: st.DataObject
) -> None:
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    encrypted = api.post("/anonymize", json={
        "text": text, "anonymizers": {"DEFAULT": {"type": "encrypt", "key": key}},
        "analyzer_results": [{"start": start, "end": end, "score": 0.9, "entity_type": "X"}],
    }).json()  # fmt: skip
    body = {"text": encrypted["text"], "anonymizer_results": encrypted["items"],
            "deanonymizers": {"DEFAULT": {"type": "decrypt", "key": key}}}  # fmt: skip
    ours = api.post("/deanonymize", json=body)
    assert ours.status_code == 200
    assert ours.json()["text"] == text
    items = [OperatorResult.from_json(item) for item in encrypted["items"]]
    reference = DeanonymizeEngine().deanonymize(  # type: ignore[no-untyped-call]
        encrypted["text"], items, {"DEFAULT": OperatorConfig("decrypt", {"key": key})}
    )
    assert ours.text == reference.to_json()


def test_presidios_documented_anonymizer_requests(api: TestClient) -> None:
    """Presidio's e2e-tests/tests/test_api_anonymizer.py requests and answers."""
    body = {
        "text": "hello world, my name is Jane Doe. My number is: 034453334",
        "anonymizers": {"DEFAULT": {"type": "replace", "new_value": "ANONYMIZED"},
                        "PHONE_NUMBER": {"type": "mask", "masking_char": "*", "chars_to_mask": 4,
                                         "from_end": True}},
        "analyzer_results": [{"start": 24, "end": 32, "score": 0.8, "entity_type": "NAME"},
                             {"start": 24, "end": 28, "score": 0.8, "entity_type": "FIRST_NAME"},
                             {"start": 29, "end": 32, "score": 0.6, "entity_type": "LAST_NAME"},
                             {"start": 48, "end": 57, "score": 0.95, "entity_type": "PHONE_NUMBER"}],
    }  # fmt: skip
    answer = api.post("/anonymize", json=body).json()
    assert answer["text"] == "hello world, my name is ANONYMIZED. My number is: 03445****"
    assert [(i["operator"], i["entity_type"], i["start"], i["end"], i["text"]) for i in answer["items"]] == [
        ("mask", "PHONE_NUMBER", 50, 59, "03445****"), ("replace", "NAME", 24, 34, "ANONYMIZED")
    ]  # fmt: skip
    empty = {"text": "", "anonymizers": {"DEFAULT": {"type": "replace"}}, "analyzer_results": []}
    assert api.post("/anonymize", json=empty).json() == {"text": "", "items": []}
    overlapping = {
        "text": "I'm George Washington Square Park",
        "anonymizers": {"NAME": {"type": "keep"}, "LOCATION": {"type": "replace"}},
        "analyzer_results": [{"start": 4, "end": 21, "score": 0.8, "entity_type": "NAME"},
                             {"start": 11, "end": 33, "score": 0.8, "entity_type": "LOCATION"}],
    }  # fmt: skip
    assert api.post("/anonymize", json=overlapping).json()["text"] == "I'm George Washington<LOCATION>"
    text = "e6HnOMnIxbd4a8Qea44LshQDnjvxwzBIaAz+YqHNnMW2mC5r3AWoay8Spsoajyyy"
    decrypt = {"text": text, "deanonymizers": {"NUMBER": {"type": "decrypt", "key": "1111111111111111"}},
               "anonymizer_results": [{"start": 0, "end": len(text), "entity_type": "NUMBER"}]}  # fmt: skip
    answer = api.post("/deanonymize", json=decrypt).json()
    assert answer["text"] == "text_for_encryption"
    assert api.post("/deanonymize", json={"key": "1111111111111111"}).json() == {"text": "", "items": []}


ERRORS = [  # Presidio's anonymizer server (app.py, e2e tests): body -> (status, error)
    ({}, 400, "Invalid request json"),
    ({"text": "x", "anonymizers": {"DEFAULT": {"type": "custom", "new_value": "lambda x: x[::-1]"}},
      "analyzer_results": []}, 400, "Custom type anonymizer is not supported"),
    ({"text": "x"}, 422, "Invalid input, request must contain analyzer results"),
    ({"text": "abc", "analyzer_results": [{"start": 0, "end": 5, "score": 0.5, "entity_type": "X"}]},
     422, "Invalid analyzer result, start: 0 and end: 5, while text length is only 3."),
    ({"text": "abc", "anonymizers": {"DEFAULT": {"type": "surrogate_ahds"}},
      "analyzer_results": [{"start": 0, "end": 1, "score": 0.5, "entity_type": "X"}]},
     422, "Invalid operator class 'surrogate_ahds'."),  # a cloud call: not offered here
    ({"text": "abc", "anonymizers": {"DEFAULT": {"type": "encrypt", "key": "short"}},
      "analyzer_results": [{"start": 0, "end": 1, "score": 0.5, "entity_type": "X"}]},
     422, "Invalid input, key must be of length 128, 192 or 256 bits"),
    ({"text": 5, "analyzer_results": [{"start": 0, "end": 1, "score": 0.5, "entity_type": "X"}]},
     500, "Internal server error"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "status", "error"), ERRORS)
def test_bad_anonymize_requests_get_presidios_errors(
    api: TestClient, body: dict[str, Any], status: int, error: str
) -> None:
    answer = api.post("/anonymize", json=body)
    assert (answer.status_code, answer.json()) == (status, {"error": error})


def test_deanonymize_errors_and_limits(api: TestClient) -> None:
    text = "e6HnOMnIxbd4a8Qea44LshQDnjvxwzBIaAz + YqHNnMW2mC5r3AWoay8Spsoajyyy"
    bad_key = {"text": text, "deanonymizers": {"NUMBER": {"type": "decrypt", "key": "invalidkey"}},
               "anonymizer_results": [{"start": 0, "end": len(text), "entity_type": "NUMBER"}]}  # fmt: skip
    answer = api.post("/deanonymize", json=bad_key)
    assert (answer.status_code, answer.json()) == (
        422, {"error": "Invalid input, key must be of length 128, 192 or 256 bits"}
    )  # fmt: skip
    assert api.post("/deanonymize", json={}).json() == {"error": "Invalid request json"}
    many = [{"start": 0, "end": 1, "score": 0.5, "entity_type": "X"}] * 1001
    answer = api.post("/anonymize", json={"text": "abc", "analyzer_results": many})
    assert (answer.status_code, answer.json()) == (
        422, {"error": "Invalid input, more than 1000 analyzer_results (api.presidio.max_items)"}
    )  # fmt: skip
