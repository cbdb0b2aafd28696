"""Presidio's recognizer-registry YAML, read as it is (`recognizers_from: presidio.yaml`, or
`scrubber recognizers import`).

Presidio's file is a `recognizers:` list (optionally under `recognizer_registry:`, beside
`supported_languages` and `global_regex_flags`). Custom entries (`name`, `supported_entity`,
`supported_language(s)`, `patterns: [{name, regex, score}]`, `context`, `deny_list`,
`deny_list_score`) become our `recognizers:` entries. Everything else is reported: a *note*
where we honour it differently or ignore a field (predefined recognizers, languages, country
codes), an *error* where a pattern cannot run at all (RE2 rejects it), so that nothing is
dropped silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from recognizers.regex_syntax import re2_problem
from scrubber.config.recognizers import ENTITY_NAME, RecognizerConfig
from scrubber.models import Strict

# Python's re flags as Presidio's `global_regex_flags` carries them (its default is 26).
_IGNORECASE, _MULTILINE, _DOTALL, _UNICODE, _ASCII = 2, 8, 16, 32, 256
_HONOURED_FLAGS = _IGNORECASE | _MULTILINE | _DOTALL | _UNICODE | _ASCII
_DEFAULT_FLAGS = _IGNORECASE | _MULTILINE | _DOTALL
_USED = {"name", "supported_entity", "supported_entities", "supported_language",
         "supported_languages", "patterns", "context", "deny_list", "deny_list_score", "type",
         "enabled"}  # fmt: skip
_UNICODE_CLASSES = re.compile(r"\\[wWdDsSbB]")


@dataclass
class Conversion:
    """Our `recognizers:` entries, what was honoured differently or ignored (notes), and what
    cannot be honoured at all (errors)."""

    recognizers: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def read_registry(path: Path) -> Conversion:
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return Conversion(errors=[f"{path}: cannot read it ({exc})"])
    except yaml.YAMLError as exc:
        return Conversion(errors=[f"{path}: not valid YAML ({' '.join(str(exc).split())})"])
    return convert_registry(data, str(path))


def convert_registry(data: Any, source: str) -> Conversion:
    out = Conversion()
    if isinstance(data, dict) and isinstance(data.get("recognizer_registry"), dict):
        data = data["recognizer_registry"]
    if not isinstance(data, dict) or not isinstance(data.get("recognizers"), list):
        out.errors.append(f"{source}: no `recognizers:` list (Presidio's registry format)")
        return out
    flags = data.get("global_regex_flags", _DEFAULT_FLAGS)
    if not isinstance(flags, int) or flags & ~_HONOURED_FLAGS:
        out.errors.append(
            f"{source}: global_regex_flags {flags!r}: only IGNORECASE (2), MULTILINE (8), DOTALL "
            "(16), UNICODE (32) and ASCII (256) can be honoured"
        )
        return out
    languages = _languages(data.get("supported_languages"))
    unicode_classes = 0
    for index, entry in enumerate(data["recognizers"]):
        where = f"{source}: recognizers[{index}]"
        converted = _entry(entry, where, flags, languages, out)
        if converted is not None:
            out.recognizers.append(converted)
            unicode_classes += sum(
                bool(_UNICODE_CLASSES.search(p["regex"])) for p in converted.get("patterns", ())
            )
    if unicode_classes and not flags & _ASCII:
        out.notes.append(
            f"{source}: {unicode_classes} pattern(s) use \\w, \\d, \\s or \\b: under RE2 they "
            "match ASCII only (Python's match every script; write \\p{L} or \\p{Nd} for that)"
        )
    return out


def _entry(
    entry: Any, where: str, flags: int, languages: list[str], out: Conversion
) -> dict[str, Any] | None:
    if isinstance(entry, str):
        out.notes.append(f"{where}: predefined recognizer '{entry}' is not loaded: {_BUILT_IN}")
        return None
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        out.errors.append(f"{where}: an entry needs a `name`")
        return None
    name = entry["name"]
    where = f"{where} '{name}'"
    if entry.get("type") == "predefined":
        state = "is disabled in the file" if entry.get("enabled") is False else "is not loaded"
        out.notes.append(f"{where}: predefined recognizer {state}: {_BUILT_IN}")
        return None
    if entry.get("enabled") is False:
        out.notes.append(f"{where}: disabled in the file (`enabled: false`): not loaded")
        return None
    if ignored := sorted(set(entry) - _USED):
        out.notes.append(f"{where}: ignored: {', '.join(ignored)} (no equivalent here)")
    entity = _entity(entry, where, out)
    if entity is None:
        return None
    ours: dict[str, Any] = {"name": name, "entity_type": entity}
    context = _context(entry, where, languages, out)
    if context:
        ours["context"] = context
    patterns = _patterns(entry.get("patterns") or [], where, flags, out)
    if patterns:
        ours["patterns"] = patterns
        ours["ignore_case"] = bool(flags & _IGNORECASE)
    deny = entry.get("deny_list") or []
    if deny:
        ours["deny_list"] = [str(term) for term in deny]
        ours["deny_list_case"] = "insensitive" if flags & _IGNORECASE else "sensitive"
        if "deny_list_score" in entry:
            ours["deny_list_score"] = entry["deny_list_score"]
    if not patterns and not deny:
        out.errors.append(
            f"{where}: nothing left to run (no pattern RE2 can compile, no deny_list)"
        )
        return None
    try:
        RecognizerConfig.model_validate(ours)
    except ValidationError as exc:
        out.errors += [f"{where}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()]
        return None
    return ours


_BUILT_IN = (
    "Scrubber's own recognizers run instead (docs/detection.md); switch types off with "
    "`detection.skip_entities`"
)


def _entity(entry: dict[str, Any], where: str, out: Conversion) -> str | None:
    entity = entry.get("supported_entity")
    many = entry.get("supported_entities")
    if entity is None and isinstance(many, list) and len(many) == 1:
        entity = many[0]
    if not isinstance(entity, str) or not entity:
        out.errors.append(f"{where}: needs one `supported_entity`")
        return None
    written = re.sub(r"[^A-Z0-9_]", "_", entity.upper())
    if not ENTITY_NAME.fullmatch(written):
        out.errors.append(f"{where}: entity {entity!r} cannot be an entity type name here")
        return None
    if written != entity:
        out.notes.append(f"{where}: entity {entity!r} is named {written!r} here")
    return written


def _languages(value: Any) -> list[str]:
    """Language codes from `supported_language(s)`: strings or `{language, context}` items."""
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        return []
    return [item if isinstance(item, str) else str(item.get("language")) for item in value]


def _context(
    entry: dict[str, Any], where: str, registry_languages: list[str], out: Conversion
) -> list[str]:
    words = [str(w) for w in entry.get("context") or []]
    per_language = entry.get("supported_languages")
    if isinstance(per_language, list):
        for item in per_language:
            if isinstance(item, dict):
                words += [str(w) for w in item.get("context") or []]
    languages = (
        _languages(entry.get("supported_language")) + _languages(per_language)
        or registry_languages
        or ["en"]
    )
    if "en" not in languages:
        out.notes.append(
            f"{where}: supported_language {', '.join(languages)}: it runs on every text "
            "(recognizers are not chosen by language here)"
        )
    elif len(set(languages)) > 1 and any(isinstance(i, dict) for i in per_language or []):
        out.notes.append(f"{where}: the context words of all its languages apply to every text")
    return list(dict.fromkeys(words))


def _patterns(patterns: list[Any], where: str, flags: int, out: Conversion) -> list[dict[str, Any]]:
    inline = ("m" if flags & _MULTILINE else "") + ("s" if flags & _DOTALL else "")
    converted = []
    for index, pattern in enumerate(patterns):
        label = f"{where}: pattern '{_get(pattern, 'name') or index + 1}'"
        regex, score = _get(pattern, "regex"), _get(pattern, "score")
        if not isinstance(regex, str) or not regex:
            out.errors.append(f"{label}: no `regex`")
            continue
        if not isinstance(score, int | float) or not 0 <= score <= 1:
            out.errors.append(f"{label}: `score` must be a number from 0 to 1")
            continue
        if extra := sorted(set(pattern) - {"name", "regex", "score"}):
            out.notes.append(f"{label}: ignored: {', '.join(extra)}")
        written = f"(?{inline}){regex}" if inline else regex
        if problem := re2_problem(written, ignore_case=bool(flags & _IGNORECASE)):
            out.errors.append(f"{label}: {problem}")
            continue
        name = _get(pattern, "name")
        converted.append({"name": str(name or index + 1), "regex": written, "score": score})
    return converted


def _get(item: Any, key: str) -> Any:
    return item.get(key) if isinstance(item, dict) else None


class ImportedRecognizers(Strict):
    """One `recognizers_from` file as read at start: its recognizers enter the config hash."""

    file: str
    recognizers: tuple[RecognizerConfig, ...] = ()
    notes: tuple[str, ...] = ()


def imported(value: Any, base_dir: Path | None) -> Any:
    """`recognizers_from` as written (a path or a list of paths, relative to the config file)
    -> one `ImportedRecognizers` each; a file with anything that cannot be honoured is an error
    listing every such thing."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        return value
    loaded: list[Any] = []
    for item in items:
        if not isinstance(item, str):
            loaded.append(item)
            continue
        path = Path(item)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        conversion = read_registry(path)
        if conversion.errors:
            raise ValueError("; ".join(conversion.errors))
        loaded.append(
            {"file": item, "recognizers": conversion.recognizers, "notes": conversion.notes}
        )
    return loaded
