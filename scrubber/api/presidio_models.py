"""Presidio's REST shapes (presidio-analyzer / presidio-anonymizer 2.2 servers), read into typed
values: the /analyze request, its ad-hoc recognizers, and the RecognizerResult answer.

Parsing follows Presidio's servers, not our strict API models: unknown fields are ignored, a
missing text or language is a 500 with Presidio's message, and a malformed ad-hoc recognizer is
answered with the TypeError text Presidio's constructor would raise (400). Messages quote field
names only when they are plain identifiers, never a value. docs/presidio-api.md has the table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import re2
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

# re.IGNORECASE | re.MULTILINE | re.DOTALL: Presidio's default for patterns and allow lists.
IGNORECASE, MULTILINE, DOTALL = 2, 8, 16
DEFAULT_FLAGS = IGNORECASE | MULTILINE | DOTALL
PARSE_FAILED = "Failed to parse /analyze request for AnalyzerEngine.analyze(). "
NO_RECOGNIZERS = "No matching recognizers were found to serve the request."
LANGUAGES = ("en",)
# Our entity type -> Presidio's name for the same thing, where they differ. Every other type
# keeps its name (Presidio clients take any string; an unknown one gets the DEFAULT operator).
TO_PRESIDIO: Mapping[str, str] = {"DATE_OF_BIRTH": "DATE_TIME"}
# What one request may carry (Presidio has no caps; an unbounded list is a CPU lever).
MAX_AD_HOC = 50
MAX_PATTERNS = 50
MAX_REGEX_CHARS = 10_000
MAX_TERMS = 10_000


def presidio_name(entity_type: str) -> str:
    return TO_PRESIDIO.get(entity_type, entity_type)


def compile_re2(pattern: str, flags: int) -> Any:
    """A caller's regex, compiled by RE2 (linear time: no input makes it backtrack) with the
    Python `re` flags Presidio uses that RE2 has (IGNORECASE, MULTILINE, DOTALL). RE2 prints
    nothing: its error log would quote the pattern."""
    options = re2.Options()
    options.log_errors = False
    options.max_mem = 64 << 20
    options.case_sensitive = not flags & IGNORECASE
    options.dot_nl = bool(flags & DOTALL)
    prefix = "(?m)" if flags & MULTILINE else ""
    try:
        return re2.compile(prefix + pattern, options)
    except re2.error:
        raise PresidioError(500, "Invalid regex pattern: not RE2 syntax (look-around and "
                            "back-references are not supported)") from None  # fmt: skip


class PresidioError(Exception):
    """An answer in Presidio's error shape: `{"error": message}` with this status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def label(name: object) -> str:
    """A field name fit to quote in a message: a plain identifier, else a placeholder."""
    text = str(name)
    return text if text.isidentifier() and len(text) <= 64 else "(invalid)"


def _bad_call(owner: str, given: Sequence[str], params: Sequence[str], required: int) -> str:
    """The TypeError text of `owner(**given)` for a signature with `params` (the first
    `required` of them required), or "" when the call would bind."""
    for name in given:
        if name not in params:
            return f"{owner}() got an unexpected keyword argument '{label(name)}'"
    missing = [f"'{p}'" for p in params[:required] if p not in given]
    if not missing:
        return ""
    plural = "s" if len(missing) > 1 else ""
    names = missing[0] if len(missing) == 1 else ", ".join(missing[:-1]) + " and " + missing[-1]
    if len(missing) > 2:
        names = ", ".join(missing[:-1]) + ", and " + missing[-1]
    return f"{owner}() missing {len(missing)} required positional argument{plural}: {names}"


_PATTERN_PARAMS = ("name", "regex", "score")
_RECOGNIZER_PARAMS = ("supported_entity", "name", "supported_language", "patterns", "deny_list",
                      "context", "deny_list_score", "global_regex_flags", "version",
                      "country_code")  # fmt: skip


@dataclass(frozen=True, slots=True)
class AdHocPattern:
    name: str
    regex: str
    score: float


@dataclass(frozen=True, slots=True)
class AdHocRecognizer:
    """One of /analyze's `ad_hoc_recognizers` (Presidio's PatternRecognizer as a dict)."""

    name: str
    entity_type: str
    language: str
    patterns: tuple[AdHocPattern, ...]
    deny_list: tuple[str, ...]
    context: tuple[str, ...]
    deny_list_score: float
    flags: int


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PresidioError(400, PARSE_FAILED + f"{what} must be a number")
    return float(value)


def _strings(value: Any, what: str, limit: int = MAX_TERMS) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PresidioError(400, PARSE_FAILED + f"{what} must be a list of strings")
    if len(value) > limit:
        raise PresidioError(400, PARSE_FAILED + f"{what}: more than {limit} entries")
    return tuple(value)


def _pattern(data: Any, where: str) -> AdHocPattern:
    if not isinstance(data, dict):
        raise PresidioError(400, PARSE_FAILED + f"{where} must be an object")
    problem = _bad_call("Pattern.__init__", list(data), _PATTERN_PARAMS, 3)
    if problem:
        raise PresidioError(400, PARSE_FAILED + problem)
    if not isinstance(data["regex"], str) or len(data["regex"]) > MAX_REGEX_CHARS:
        raise PresidioError(400, PARSE_FAILED + f"{where}.regex must be a string of at most "
                            f"{MAX_REGEX_CHARS} characters")  # fmt: skip
    compile_re2(data["regex"], 0)  # Presidio checks the regex before the score
    score = _number(data["score"], f"{where}.score")
    if not 0 <= score <= 1:
        raise PresidioError(500, f"Invalid score: {data['score']}. Score should be between 0 and 1")
    return AdHocPattern(str(data["name"]), data["regex"], score)


def ad_hoc_from_json(items: Any) -> list[AdHocRecognizer]:
    """Presidio's `PatternRecognizer.from_dict` for each item, with its errors."""
    if not items:
        return []
    if not isinstance(items, list) or len(items) > MAX_AD_HOC:
        raise PresidioError(400, PARSE_FAILED + f"ad_hoc_recognizers must be a list of at most "
                            f"{MAX_AD_HOC} recognizers")  # fmt: skip
    return [_recognizer(item, f"ad_hoc_recognizers[{i}]") for i, item in enumerate(items)]


def _recognizer(data: Any, where: str) -> AdHocRecognizer:
    if not isinstance(data, dict):
        raise PresidioError(400, PARSE_FAILED + f"{where} must be an object")
    data = dict(data)
    raw_patterns = data.get("patterns") or []
    if not isinstance(raw_patterns, list) or len(raw_patterns) > MAX_PATTERNS:
        raise PresidioError(400, PARSE_FAILED + f"{where}.patterns must be a list of at most "
                            f"{MAX_PATTERNS} patterns")  # fmt: skip
    patterns = tuple(_pattern(p, f"{where}.patterns[{i}]") for i, p in enumerate(raw_patterns))
    if "supported_entity" in data and "supported_entities" in data:
        raise PresidioError(500, "Both 'supported_entity' and 'supported_entities' are present in "
                            "the input dictionary. Only one should be provided.")  # fmt: skip
    plural = data.pop("supported_entities", None)
    if plural and isinstance(plural, list):
        data["supported_entity"] = plural[0]
    problem = _bad_call("PatternRecognizer.__init__", list(data), _RECOGNIZER_PARAMS, 1)
    if problem:
        raise PresidioError(400, PARSE_FAILED + problem)
    entity = data["supported_entity"]
    if not entity:
        raise PresidioError(500, "Pattern recognizer should be initialized with entity")
    deny_list = _strings(data.get("deny_list"), f"{where}.deny_list")
    if not patterns and not deny_list:
        raise PresidioError(500, "Pattern recognizer should be initialized with patterns or "
                            "with deny list")  # fmt: skip
    flags = data.get("global_regex_flags", DEFAULT_FLAGS)
    if flags is not None and (isinstance(flags, bool) or not isinstance(flags, int)):
        raise PresidioError(400, PARSE_FAILED + f"{where}.global_regex_flags must be an integer")
    return AdHocRecognizer(
        name=str(data.get("name") or "PatternRecognizer"),
        entity_type=str(entity),
        language=str(data.get("supported_language", "en")),
        patterns=patterns,
        deny_list=deny_list,
        context=_strings(data.get("context"), f"{where}.context"),
        deny_list_score=_number(data.get("deny_list_score", 1.0), f"{where}.deny_list_score"),
        flags=flags or 0,
    )


class AnalyzeRequest(BaseModel):
    """The body of POST /analyze (Presidio's AnalyzerRequest). `text` and `language` are
    checked by `analyze_request` (Presidio answers their absence with a 500 of its own)."""

    model_config = ConfigDict(extra="ignore")

    text: str | list[str]
    language: str
    entities: list[str] | None = None
    # `correlation_id` and `trace` are accepted (ignored, as unknown fields are), never logged.
    score_threshold: float | None = None
    return_decision_process: bool = False
    context: list[str] | None = Field(None, max_length=MAX_TERMS)
    allow_list: list[str] | None = Field(None, max_length=MAX_TERMS)
    allow_list_match: str = "exact"
    regex_flags: int = DEFAULT_FLAGS

    @field_validator("return_decision_process", mode="before")
    @classmethod
    def _truthy(cls, value: Any) -> bool:
        return bool(value)  # Presidio tests the value's truth: 0, "", null are false

    @field_validator("text")
    @classmethod
    def _valid_text(cls, value: str | list[str]) -> str | list[str]:
        for text in [value] if isinstance(value, str) else value:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("text must be valid Unicode (no lone surrogates)") from None
        return value


def analyze_request(body: Any) -> tuple[AnalyzeRequest, list[AdHocRecognizer]]:
    """Presidio's order of checks: the ad-hoc recognizers, then text, then language."""
    if not isinstance(body, dict):
        raise PresidioError(400, "Invalid request json")
    ad_hoc = ad_hoc_from_json(body.get("ad_hoc_recognizers"))
    if not body.get("text"):
        raise PresidioError(500, "No text provided")
    if not body.get("language"):
        raise PresidioError(500, "No language provided")
    if body["language"] not in LANGUAGES:
        raise PresidioError(500, NO_RECOGNIZERS)
    try:
        return AnalyzeRequest.model_validate(body), ad_hoc
    except ValidationError as invalid:
        problems = "; ".join(
            f"{'.'.join(label(p) for p in e['loc'])}: {e['msg']}" for e in invalid.errors()[:5]
        )
        raise PresidioError(400, PARSE_FAILED + problems) from None


class AnalysisExplanation(BaseModel):
    """Presidio's AnalysisExplanation, field for field (2.2.366 adds `regex_flags`)."""

    recognizer: str
    pattern_name: str | None = None
    pattern: str | None = None
    original_score: float
    score: float
    textual_explanation: str | None = None
    score_context_improvement: float = 0
    supportive_context_word: str = ""
    validation_result: bool | None = None
    regex_flags: int | None = None


class RecognizerResult(BaseModel):
    """One finding as Presidio's analyzer server answers it (recognition_metadata is removed
    there before answering, so it is not part of the answer here either)."""

    entity_type: str
    start: int
    end: int
    score: float
    analysis_explanation: AnalysisExplanation | None = None
