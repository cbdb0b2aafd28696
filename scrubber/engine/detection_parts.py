"""What finds spans in an engine, as one value: built once per detection setting and lent
whole to other engines that detect alike (a shadow policy, a reloaded policy whose detection
did not change, a worker forked from an engine built before the fork), so they share its
compiled patterns and its cache of scanned strings.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace

from recognizers import default_recognizers
from recognizers.base import PatternRecognizer
from recognizers.proper_nouns import ProperNounRecognizer
from scrubber.config import Config
from scrubber.engine.detection import Detector, Filters
from scrubber.engine.ner import NerDetector
from scrubber.engine.plugins import Plugins
from scrubber.engine.propagation import Propagator
from scrubber.engine.scoped import ScopedDetectors


def detection_key(config: Config) -> str:
    """What decides which spans are found (not what is done with them, nor which of them an
    engine then drops: `Filters`): engines with equal keys share a detector."""
    sections = {"detection", "limits", "recognizers", "recognizers_from"}
    filters = {"detection": {"score_threshold", "skip_entities"}}
    dumped = json.dumps(
        config.model_dump(mode="json", include=sections, exclude=filters), sort_keys=True
    )
    return hashlib.sha256(dumped.encode()).hexdigest()


@dataclass(frozen=True)
class DetectionParts:
    """What finds spans: lent to an engine that detects alike (`detection_of`), and the
    filters of the engine it was built for."""

    detector: Detector
    scoped: ScopedDetectors
    plugins: Plugins
    propagator: Propagator | None
    filters: Filters

    def lent_to(self, config: Config) -> DetectionParts | None:
        """These parts for an engine of the same `detection_key`, or None when the detector
        does not look for a type the engine reports. The detector, and its cache, are shared
        whatever the engine's filters (it passes them to each call); scoped recognizers and
        plug-ins apply the threshold themselves, so other filters get their own (rare, and
        small beside the detector)."""
        filters = Filters.of(config.detection)
        if not self.detector.unscanned <= filters.skipped:
            return None
        if filters == self.filters:
            return self
        custom = [r for r in config.custom_recognizers() if r.scoped]
        return replace(
            self,
            scoped=ScopedDetectors(custom, config.detection, config.limits),
            plugins=Plugins(config.python_recognizers(), config.detection, config.limits),
            filters=filters,
        )

    @staticmethod
    def build(
        config: Config, recognizers: Sequence[PatternRecognizer] | None, finds_skipped: bool
    ) -> DetectionParts:
        detection = config.detection
        ner = None
        if detection.ner.enabled:
            extra = ("DATE_TIME",) if detection.redact_timestamps else ()
            ner = NerDetector(detection.ner, extra)
        proper_nouns = None
        if detection.proper_nouns or detection.propagate:
            proper_nouns = ProperNounRecognizer()
        custom = config.custom_recognizers()  # `recognizers:`, `recognizers_from:`
        detector = Detector(
            (
                *(default_recognizers() if recognizers is None else recognizers),
                *(r for r in custom if not r.scoped),
            ),
            detection,
            config.limits,
            ner,
            proper_nouns if detection.proper_nouns else None,
            finds_skipped=finds_skipped,
        )
        propagator = None
        if detection.propagate:
            propagator = Propagator(proper_nouns, frozenset(detection.allow_list))
        return DetectionParts(
            detector,
            ScopedDetectors([r for r in custom if r.scoped], detection, config.limits),
            Plugins(config.python_recognizers(), detection, config.limits),
            propagator,
            Filters.of(detection),
        )
