"""Presidio's REST surface on `scrubber serve` (`api.presidio.enabled`), so a client of
Presidio's analyzer and anonymizer containers switches by changing a URL.

POST /analyze runs our engine (plus the request's ad-hoc recognizers) and answers Presidio's
RecognizerResult list. POST /anonymize and /deanonymize are presidio-anonymizer's own engines,
so operators behave exactly as Presidio's (`custom` is refused over HTTP, as Presidio's server
does, and `surrogate_ahds`, which calls a cloud service, is not offered). GET /recognizers,
/supportedentities, /anonymizers, /deanonymizers and /health answer what Presidio's do.

Errors are Presidio's: `{"error": message}` with Presidio's status codes. Every route but
/health needs an API key whose role may scrub, unless `api.presidio.require_scrub_role: false`.
Nothing here logs a request's content; presidio-anonymizer's own logger (which names operators
and entities) is muted. docs/presidio-api.md has the mapping, the errors and the differences.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from presidio_anonymizer import AnonymizerEngine, DeanonymizeEngine
from presidio_anonymizer.entities import InvalidParamError
from presidio_anonymizer.services.app_entities_convertor import AppEntitiesConvertor

from recognizers.base import PatternRecognizer
from recognizers.entity_types import NER_ENTITY_TYPES, PROPER_NOUN_ENTITY_TYPES
from recognizers.fields import FIELD_HINTS
from scrubber.api.app import Caller, Service
from scrubber.api.middleware import MESSAGES
from scrubber.api.presidio_analysis import analyze_text
from scrubber.api.presidio_models import (
    LANGUAGES,
    NO_RECOGNIZERS,
    PresidioError,
    RecognizerResult,
    analyze_request,
    presidio_name,
)
from scrubber.config import Config
from scrubber.engine import Scrubber
from scrubber.log import get_logger
from scrubber.models import Reason

T = TypeVar("T")
log = get_logger("scrubber.api.presidio")
ANONYMIZERS = frozenset({"encrypt", "hash", "keep", "mask", "redact", "replace"})
BAD_JSON = "The browser (or proxy) sent a request that this server could not understand."
INTERNAL = "Internal server error"
HEALTH = "Scrubber: Presidio-compatible analyzer and anonymizer service is up"
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"description": '`{"error": message}`'} for status in (400, 401, 403, 422, 500)
}
router = APIRouter(tags=["presidio"])


class PresidioService:
    """What the Presidio routes share, kept on `app.state.presidio`."""

    def __init__(self, config: Config, engine: Scrubber) -> None:
        self.settings = config.api.presidio
        self.max_record_bytes = config.limits.max_record_bytes
        # presidio-anonymizer logs operator names and entities: never into our logs.
        muted = logging.getLogger("presidio-anonymizer")
        muted.propagate = False
        if not any(isinstance(h, logging.NullHandler) for h in muted.handlers):
            muted.addHandler(logging.NullHandler())
        self.anonymizer = AnonymizerEngine()  # type: ignore[no-untyped-call]
        for name, operator in list(self.anonymizer.operators_factory.get_anonymizers().items()):
            if name not in ANONYMIZERS:  # custom (code) and surrogate_ahds (a cloud call)
                self.anonymizer.remove_anonymizer(operator)
        self.deanonymizer = DeanonymizeEngine()  # type: ignore[no-untyped-call]
        # The pattern recognizers the engine runs (after detection.entities / skip_entities).
        active: tuple[PatternRecognizer, ...] = engine.detector._recognizers
        self.recognizers = {r.name: r for r in active}
        self.names = sorted({r.name for r in active} | self._other_sources(config))
        self.entities = sorted({presidio_name(t) for t in _entity_types(config, active)})

    @staticmethod
    def _other_sources(config: Config) -> set[str]:
        detection = config.detection
        sources = {"engine"}  # key hints, field rules, other mentions of a found value
        sources |= {"proper_nouns"} if detection.proper_nouns else set()
        return sources | ({"spacy_ner"} if detection.ner.enabled else set())

    def anonymize(self, content: dict[str, Any]) -> str:
        """Presidio's anonymizer server, step for step, on presidio-anonymizer's engine."""
        configs: Any = content.get("anonymizers")
        operators = AppEntitiesConvertor.operators_config_from_json(configs)
        if AppEntitiesConvertor.check_custom_operator(operators):
            raise PresidioError(400, "Custom type anonymizer is not supported")
        items: Any = content.get("analyzer_results")
        self._bounded(content.get("text", ""), items, "analyzer_results")
        results = AppEntitiesConvertor.analyzer_results_from_json(items)
        done = self.anonymizer.anonymize(
            text=content.get("text", ""), analyzer_results=results, operators=operators
        )
        return str(done.to_json())

    def deanonymize(self, content: dict[str, Any]) -> str:
        text = content.get("text", "")
        self._bounded(text, content.get("anonymizer_results"), "anonymizer_results")
        entities = AppEntitiesConvertor.deanonymize_entities_from_json(content)
        configs: Any = content.get("deanonymizers")
        operators = AppEntitiesConvertor.operators_config_from_json(configs)
        done = self.deanonymizer.deanonymize(text=text, entities=entities, operators=operators)
        return str(done.to_json())

    def _bounded(self, text: Any, items: Any, what: str) -> None:
        if isinstance(items, list) and len(items) > self.settings.max_items:
            raise PresidioError(422, f"Invalid input, more than {self.settings.max_items} "
                                f"{what} (api.presidio.max_items)")  # fmt: skip
        if isinstance(text, str) and len(text.encode("utf-8", "surrogatepass")) > (
            self.max_record_bytes
        ):
            raise PresidioError(422, "Invalid input, text is larger than limits.max_record_bytes")


def _entity_types(config: Config, active: tuple[PatternRecognizer, ...]) -> set[str]:
    """What the engine can report in plain text, under its config."""
    detection = config.detection
    found = {r.entity_type for r in active} | {hint.entity_type for hint in FIELD_HINTS}
    found |= set(PROPER_NOUN_ENTITY_TYPES) if detection.proper_nouns else set()
    if detection.ner.enabled:
        found |= set(detection.ner.entities) | set(NER_ENTITY_TYPES)
        found |= {"DATE_TIME"} if detection.redact_timestamps else set()
    wanted = set(detection.entities)
    return {t for t in found if (not wanted or t in wanted) and t not in detection.skip_entities}


def mount(app: FastAPI, config: Config, engine: Scrubber) -> None:
    """Add the Presidio routes to the API app (serve.build_app does, when enabled)."""
    app.state.presidio = PresidioService(config, engine)
    app.include_router(router)
    app.add_exception_handler(PresidioError, _presidio_error)


async def _presidio_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PresidioError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
    return JSONResponse({"error": exc.message}, exc.status, headers=headers)


def _presidio(request: Request) -> PresidioService:
    presidio: PresidioService = request.app.state.presidio
    return presidio


async def _admit(request: Request, caller: Caller, service: Service) -> PresidioService:
    """Spend one request of the caller's scrub rate; with `require_scrub_role`, only a key whose
    role may scrub passes (a request without one also spends its address's bad-key allowance)."""
    presidio = _presidio(request)
    required = presidio.settings.require_scrub_role
    await service.limit(request, caller, "scrub_per_second", "scrub" if required else None)
    if required and caller is None:
        raise PresidioError(401, MESSAGES[401])
    if required and caller is not None and not caller.scrub:
        raise PresidioError(403, f"role {caller.role!r} may not scrub (access.roles.*.scrub)")
    return presidio


async def _body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise PresidioError(400, BAD_JSON) from None


def _json(payload: Any) -> Response:
    return Response(json.dumps(payload, sort_keys=True), media_type="application/json")


async def _anonymizer_call(work: Callable[[], str]) -> Response:
    """presidio-anonymizer's answer, or its error as its server gives it (422 for invalid
    parameters with its message, 500 for anything else)."""
    try:
        return Response(await anyio.to_thread.run_sync(work), media_type="application/json")
    except InvalidParamError as invalid:
        raise PresidioError(422, invalid.err_msg) from None
    except PresidioError:
        raise
    except Exception as failed:  # Presidio's server answers these 500 too
        log.warning("presidio_request_failed", error_type=type(failed).__name__)
        raise PresidioError(500, INTERNAL) from None


@router.post("/analyze", response_model=list[RecognizerResult], responses=ERRORS)
async def analyze(request: Request, caller: Caller, service: Service) -> Response:
    """Presidio's /analyze: `text` (a string or a list), `language`, `entities`,
    `score_threshold`, `ad_hoc_recognizers`, `context`, `allow_list` (+ `allow_list_match`,
    `regex_flags`), `return_decision_process`, `correlation_id`."""
    started = time.monotonic()
    presidio = await _admit(request, caller, service)
    parsed, ad_hoc = analyze_request(await _body(request))
    texts = [parsed.text] if isinstance(parsed.text, str) else parsed.text
    if parsed.entities and not set(parsed.entities) & {
        *presidio.entities,
        *(r.entity_type for r in ad_hoc if r.language == parsed.language),
    }:
        raise PresidioError(500, NO_RECOGNIZERS)
    if any(len(t.encode()) > presidio.max_record_bytes for t in texts):
        raise PresidioError(422, "Invalid input, text is larger than limits.max_record_bytes")

    def work(engine: Scrubber) -> list[list[RecognizerResult]]:
        answers = []
        for text, findings in zip(texts, engine.detect_texts(texts), strict=True):
            if isinstance(findings, Reason):
                problem = f"Invalid input, the text was not analyzed ({findings.value})"
                raise PresidioError(422, problem)
            answers.append(analyze_text(text, findings, parsed, ad_hoc, presidio.recognizers))
        return answers

    lane = service.lanes.for_record(max(texts, key=len))
    answers = await lane.run(work, started + service.lanes.deadline_seconds)
    dumped = [[r.model_dump() for r in answer] for answer in answers]
    return _json(dumped[0] if isinstance(parsed.text, str) else dumped)


@router.post("/anonymize", responses=ERRORS)
async def anonymize(request: Request, caller: Caller, service: Service) -> Response:
    """Presidio's /anonymize: `text`, `anonymizers` ({ENTITY or DEFAULT: {type, ...}}),
    `analyzer_results`; answers `{text, items}`."""
    presidio = await _admit(request, caller, service)
    content = await _body(request)
    if not content or not isinstance(content, dict):
        raise PresidioError(400, "Invalid request json")
    return await _anonymizer_call(lambda: presidio.anonymize(content))


@router.post("/deanonymize", responses=ERRORS)
async def deanonymize(request: Request, caller: Caller, service: Service) -> Response:
    """Presidio's /deanonymize: `text`, `deanonymizers` (decrypt with its key),
    `anonymizer_results`; answers `{text, items}`."""
    presidio = await _admit(request, caller, service)
    content = await _body(request)
    if not content or not isinstance(content, dict):
        raise PresidioError(400, "Invalid request json")
    return await _anonymizer_call(lambda: presidio.deanonymize(content))


def _language(language: str | None) -> None:
    if language is not None and language not in LANGUAGES:
        raise PresidioError(500, NO_RECOGNIZERS)


@router.get("/recognizers", response_model=list[str], responses=ERRORS)
async def recognizers(
    request: Request, caller: Caller, service: Service, language: str | None = None
) -> Response:
    """The recognizers the engine runs (our names: pattern recognizers, key hints, the
    proper-noun pass, spaCy NER)."""
    presidio = await _admit(request, caller, service)
    _language(language)
    return _json(presidio.names)


@router.get("/supportedentities", response_model=list[str], responses=ERRORS)
async def supported_entities(
    request: Request, caller: Caller, service: Service, language: str | None = None
) -> Response:
    """The entity types /analyze can report, under Presidio's names."""
    presidio = await _admit(request, caller, service)
    _language(language)
    return _json(presidio.entities)


@router.get("/anonymizers", response_model=list[str], responses=ERRORS)
async def anonymizers(request: Request, caller: Caller, service: Service) -> Response:
    presidio = await _admit(request, caller, service)
    return _json(list(presidio.anonymizer.get_anonymizers()))


@router.get("/deanonymizers", response_model=list[str], responses=ERRORS)
async def deanonymizers(request: Request, caller: Caller, service: Service) -> Response:
    presidio = await _admit(request, caller, service)
    return _json(list(presidio.deanonymizer.get_deanonymizers()))


@router.get("/health", response_class=PlainTextResponse)
async def health() -> str:
    return HEALTH
