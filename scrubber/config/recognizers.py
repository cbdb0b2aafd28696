"""Config section `recognizers:`: a team's own identifiers, declared as data.

Each entry is compiled into `recognizers.custom.CustomRecognizer`s (one per pattern, one for
the deny list) that run beside the built-in ones in the same prefilter. Everything that would
make an entry find less than it says is refused here, naming the recognizer: a pattern RE2
cannot compile (and the construct), an unknown validator, a field rule that matches nothing.
"""

from __future__ import annotations

import difflib
import importlib
import re
from typing import Any, Literal

import re2
from pydantic import Field, field_validator, model_validator

from recognizers.base import Validator
from recognizers.custom import (
    VALIDATORS,
    Context,
    CustomRecognizer,
    all_of,
    charset_check,
    deny_list_pattern,
    deny_list_triggers,
    length_check,
    triggers_for,
)
from recognizers.regex_syntax import re2_options, re2_problem
from scrubber.config.engine import field_rule_problem
from scrubber.models import Strict

# An entity type is a metric label and a `policy.entities` key: upper case, digits and `_`.
ENTITY_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
RESERVED_TYPES = frozenset({"FIELD"})


class LengthRange(Strict):
    min: int = Field(1, ge=0)
    max: int | None = Field(None, ge=1)


class LengthCheck(Strict):
    """`{length: {min: 8, max: 12}}`: the value's length in characters."""

    length: LengthRange


class CharsetCheck(Strict):
    """`{charset: "0-9A-F"}`: every character of the value is in this RE2 class body."""

    charset: str = Field(min_length=1)


ValidatorSpec = str | LengthCheck | CharsetCheck


class PatternConfig(Strict):
    name: str = ""
    regex: str = Field(min_length=1)
    score: float = Field(0.85, ge=0.0, le=1.0)
    # The capture group holding the value (0: the whole match), so `emp=E123` can keep `emp=`.
    group: int = Field(0, ge=0)


class RecognizerConfig(Strict):
    name: str = Field(min_length=1, max_length=100)
    entity_type: str
    patterns: tuple[PatternConfig, ...] = ()
    # Lower-case substrings one of which every match contains; derived from the patterns'
    # literals when not given (docs/recognizers.md, "Cost").
    triggers: tuple[str, ...] = ()
    ignore_case: bool = False
    context: tuple[str, ...] = ()
    context_boost: float = Field(0.35, ge=0.0, le=1.0)
    context_words_before: int = Field(5, ge=0, le=50)
    context_words_after: int = Field(0, ge=0, le=50)
    validators: tuple[ValidatorSpec, ...] = ()
    deny_list: tuple[str, ...] = ()
    deny_list_case: Literal["insensitive", "sensitive"] = "insensitive"
    deny_list_score: float = Field(1.0, ge=0.0, le=1.0)
    allow_list: tuple[str, ...] = ()
    formats: tuple[Literal["text", "json"], ...] = ()
    fields: tuple[str, ...] = ()
    # Opt-in plug-in code: a Presidio `EntityRecognizer` subclass (`package.module:Class`),
    # asked for `entity_type` on free-text strings only; `python_args` go to its constructor.
    python: str | None = None
    python_args: dict[str, Any] = {}

    @field_validator("entity_type")
    @classmethod
    def _entity_name(cls, name: str) -> str:
        if not ENTITY_NAME.fullmatch(name):
            example = re.sub(r"[^A-Z0-9_]", "_", name.upper()) or "EMPLOYEE_ID"
            raise ValueError(
                f"entity type {name!r} must be upper case letters, digits and `_`, starting "
                f"with a letter (e.g. {example!r})"
            )
        if name in RESERVED_TYPES:
            raise ValueError(f"'{name}' is the type of field-rule replacements; name another")
        return name

    @model_validator(mode="after")
    def _can_find_what_it_says(self) -> RecognizerConfig:
        problems = [f"recognizer '{self.name}': {p}" for p in self.problems()]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def problems(self) -> list[str]:
        if self.python is not None:
            return self._plugin_problems()
        found: list[str] = []
        if self.python_args:
            found.append("python_args without `python`")
        if not self.patterns and not self.deny_list:
            found.append("give `patterns` or a `deny_list` (or both)")
        for index, pattern in enumerate(self.patterns):
            label = f"pattern '{pattern.name or index + 1}'"
            if problem := re2_problem(pattern.regex, ignore_case=self.ignore_case):
                found.append(f"{label}: {problem}")
            elif pattern.group > re2.compile(pattern.regex, re2_options()).groups:
                found.append(f"{label}: group {pattern.group} does not exist in the regex")
        found += [f"validators: {p}" for p in _validator_problems(self.validators)]
        if both := sorted(set(self.deny_list) & set(self.allow_list)):
            found.append(f"{both[0]!r} is on both the deny list and the allow list")
        if any(not term.strip() for term in self.deny_list):
            found.append("deny_list: an empty term matches nothing")
        found += [
            f"fields: '{rule}' {why}" for rule in self.fields if (why := field_rule_problem(rule))
        ]
        if any(t != t.lower() or not t for t in self.triggers):
            found.append("triggers are matched in lower-cased text: write them in lower case")
        return found

    def context_rule(self) -> Context | None:
        if not self.context:
            return None
        return Context(
            tuple(w.lower() for w in self.context),
            boost=self.context_boost,
            before=self.context_words_before,
            after=self.context_words_after,
        )

    def _plugin_problems(self) -> list[str]:
        data = self.model_dump(exclude_defaults=True)
        mixed = sorted(set(data) - {"name", "entity_type", "python", "python_args", "allow_list"})
        if mixed:
            return [f"a `python` recognizer takes no {', '.join(mixed)} (its class does the work)"]
        try:
            plugin_class(str(self.python))
        except (ImportError, AttributeError, TypeError, ValueError) as exc:
            return [f"python {self.python!r}: {exc}"]
        return []

    def best_scores(self) -> list[tuple[str, float]]:
        """(what, the highest score it can reach), per pattern and for the deny list."""
        context = self.context_rule()
        scores = [(f"pattern '{p.name or i + 1}'", p.score) for i, p in enumerate(self.patterns)]
        if self.deny_list:
            scores.append(("deny_list", self.deny_list_score))
        if context is not None:
            scores = [(what, context.score(score)) for what, score in scores]
        return scores

    def build(self, source: str = "config") -> tuple[CustomRecognizer, ...]:
        """Compiled recognizers: one per pattern, and one for the deny list (none for a
        `python` entry: the engine builds its plug-in)."""
        context, allow = self.context_rule(), frozenset(self.allow_list)

        def make(**specific: Any) -> CustomRecognizer:
            return CustomRecognizer(
                name=self.name, entity_type=self.entity_type, context=context, allow=allow,
                formats=self.formats, fields=self.fields, source=source, **specific,
            )  # fmt: skip

        validator = all_of([_validator(spec) for spec in self.validators])
        built = [
            make(
                pattern=p.regex,
                score=p.score,
                value_group=p.group,
                triggers=triggers_for(p.regex, self.triggers),
                validator=validator,
                ignore_case=self.ignore_case,
                pattern_name=p.name or str(i + 1),
            )
            for i, p in enumerate(self.patterns)
        ]
        if self.deny_list:
            built.append(
                make(
                    pattern=deny_list_pattern(self.deny_list),
                    score=self.deny_list_score,
                    triggers=deny_list_triggers(self.deny_list),
                    ignore_case=self.deny_list_case == "insensitive",
                    pattern_name="deny_list",
                )
            )
        return tuple(built)


def _validator_problems(specs: tuple[ValidatorSpec, ...]) -> list[str]:
    found = []
    for spec in specs:
        if isinstance(spec, str) and spec not in VALIDATORS:
            close = difflib.get_close_matches(spec.lower(), sorted(VALIDATORS), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            known = ", ".join(sorted(VALIDATORS))
            found.append(
                f"unknown validator '{spec}'{hint}; known: {known}, "
                "{length: {min: N, max: M}}, {charset: CLASS}"
            )
        elif isinstance(spec, CharsetCheck) and (problem := re2_problem(f"[{spec.charset}]")):
            found.append(f"charset {spec.charset!r}: {problem}")
        elif isinstance(spec, LengthCheck) and (
            spec.length.max is not None and spec.length.max < spec.length.min
        ):
            found.append(f"length: max {spec.length.max} is below min {spec.length.min}")
    return found


def _validator(spec: ValidatorSpec) -> Validator:
    if isinstance(spec, str):
        return VALIDATORS[spec]
    if isinstance(spec, LengthCheck):
        return length_check(spec.length.min, spec.length.max)
    return charset_check(spec.charset)


def recognizer_problems(
    entries: list[tuple[str, RecognizerConfig]],
    score_threshold: float,
    wanted: tuple[str, ...],
    skipped: tuple[str, ...],
) -> list[str]:
    """What the recognizers of a whole config would leave undone: two of one name (which one
    would a finding name?), a pattern whose score can never reach `detection.score_threshold`,
    a type that `detection.entities` or `skip_entities` leaves out."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    for where, entry in entries:
        label = f"{where}: recognizer '{entry.name}'"
        if entry.name in seen:
            problems.append(f"{label}: duplicate name (also in {seen[entry.name]})")
        seen.setdefault(entry.name, where)
        problems += [
            f"{label}: {what} can never be reported: its best score {best:.2f} is below "
            f"detection.score_threshold {score_threshold} (raise the score, add context words "
            "or lower the threshold)"
            for what, best in entry.best_scores()
            if best < score_threshold
        ]
        if wanted and entry.entity_type not in wanted:
            problems.append(f"{label}: {entry.entity_type} is not in detection.entities")
        if entry.entity_type in skipped:
            problems.append(f"{label}: {entry.entity_type} is in detection.skip_entities")
    return problems


def plugin_class(path: str) -> type:
    """The `EntityRecognizer` subclass that `package.module:Class` names (imported: plug-in code
    runs only when a config names it)."""
    module_name, colon, class_name = path.partition(":")
    if not colon or not module_name or not class_name.isidentifier():
        raise ValueError("write it `package.module:Class`")
    from presidio_analyzer import EntityRecognizer

    found = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(found, type) and issubclass(found, EntityRecognizer)):
        raise TypeError(f"{class_name} is not a presidio_analyzer.EntityRecognizer subclass")
    return found
