"""Presidio `EntityRecognizer` plug-ins (`recognizers: [{python: package.module:Class}]`).

Opt-in code, so it runs on as little as it can: free-text strings only (those NER reads), each
asked for its one entity type, with no NLP artifacts (`nlp_artifacts=None`: pattern and rule
based recognizers need none). It runs under the record deadline: the plug-ins' time on one
string counts against `limits.record_deadline_seconds`, and a string that overruns it, or a
plug-in that raises, fails its record closed. Calls, seconds and failures per plug-in are kept
(`costs`) for metrics.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from recognizers.base import Finding
from scrubber.config import DetectionConfig, LimitsConfig
from scrubber.config.recognizers import RecognizerConfig, plugin_class
from scrubber.engine.detection import TextItem
from scrubber.engine.spans import Target, shifted
from scrubber.models import Reason
from scrubber.operators import PLACEHOLDER_PATTERN


class Record(Protocol):
    reason: Reason | None


@dataclass
class PluginCost:
    calls: int = 0
    seconds: float = 0.0
    failures: int = 0


@dataclass(frozen=True)
class _Plugin:
    name: str
    entity_type: str
    recognizer: Any  # a presidio_analyzer.EntityRecognizer
    allow: frozenset[str]


class Plugins:
    def __init__(
        self,
        entries: Sequence[RecognizerConfig],
        detection: DetectionConfig,
        limits: LimitsConfig,
    ) -> None:
        self._plugins = [
            _Plugin(
                e.name,
                e.entity_type,
                plugin_class(str(e.python))(**e.python_args),
                frozenset(e.allow_list) | frozenset(detection.allow_list),
            )
            for e in entries
        ]
        self._threshold = detection.score_threshold
        self._deadline = limits.record_deadline_seconds
        self.costs = {p.name: PluginCost() for p in self._plugins}

    def __bool__(self) -> bool:
        return bool(self._plugins)

    def add_findings(
        self, items: Sequence[TextItem], owners: Sequence[tuple[Record, Target, int]]
    ) -> None:
        """Run on the free-text items of a batch, adding findings to their targets."""
        for item, (record, target, offset) in zip(items, owners, strict=True):
            if item.free_text and record.reason is None:
                found = self.detect(item.text)
                if isinstance(found, Reason):
                    record.reason = found
                elif found:
                    target.add(found if offset == 0 else shifted(found, offset))

    def detect(self, text: str) -> list[Finding] | Reason:
        """Every plug-in's findings in `text` (score threshold and allow lists applied)."""
        started = time.monotonic()
        found: list[Finding] = []
        for plugin in self._plugins:
            cost = self.costs[plugin.name]
            began = time.perf_counter()
            try:
                results = plugin.recognizer.analyze(text, [plugin.entity_type], None) or []
                found += self._kept(plugin, text, results)
            except Exception:  # a broken plug-in fails the record closed, not the batch
                cost.failures += 1
                return Reason.DETECTION_ERROR
            finally:
                cost.calls += 1
                cost.seconds += time.perf_counter() - began
            if time.monotonic() - started > self._deadline:
                return Reason.DEADLINE_EXCEEDED
        return found

    def _kept(self, plugin: _Plugin, text: str, results: Sequence[Any]) -> list[Finding]:
        kept = []
        for result in results:
            start, end = int(result.start), int(result.end)
            value = text[start:end]
            if (
                result.entity_type != plugin.entity_type
                or not 0 <= start < end <= len(text)
                or float(result.score) < self._threshold
                or value in plugin.allow
                or PLACEHOLDER_PATTERN.fullmatch(value)
            ):
                continue
            kept.append(Finding(start, end, plugin.entity_type, float(result.score), plugin.name))
        return kept
