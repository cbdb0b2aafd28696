"""The engines of `scrubber run`: one per distinct effective policy, and which route uses which.

A route scrubs under its effective config (`Config.effective(route.policy)`: the base, with the
named policy merged over it); its output carries that config's hash. Routes whose effective
configs are equal share one engine, and every engine shares the process's spaCy model
(`scrubber.engine.ner.shared_model`). Shadow candidates (`shadow:`) get engines of their own,
whose vault operator stores nothing: their output is never emitted.

`Policies` is one immutable set of them: the loop takes one per batch (`current()`), so every
record of a batch is scrubbed, shaped and counted under the same set; a reload builds the next
set beside it, reusing the engines whose effective config did not change (`scrubber.pipeline.
reload`).
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from connectors.kafka.clients import KafkaRecord
from scrubber.config import Config
from scrubber.config.pipeline import QuarantineConfig, RouteConfig
from scrubber.log import get_logger
from scrubber.models import Outcome, Reason, RecordResult
from scrubber.operators import TokenSink, Transform, vault_token
from scrubber.pipeline.records import Scrubbed, ScrubValues, Shaped, shape
from scrubber.privacy.kanon_window import WindowedKAnonymity

if TYPE_CHECKING:
    from scrubber.engine.scrub import Scrubber
    from scrubber.privacy.dp_view import PrivateCounts
    from scrubber.vault.recorder import TokenRecorder

log = get_logger("scrubber.pipeline")


class BatchScrubber(Protocol):
    """What the pipeline needs of the engine (scrubber.engine.Scrubber in production)."""

    @property
    def config_hash(self) -> str: ...

    @property
    def scrub_batch(self) -> ScrubValues: ...


_COST_FIELDS = ("calls", "seconds", "failures")


@dataclass(frozen=True, slots=True)
class _Cost:
    calls: float
    seconds: float
    failures: float


# (effective config, shadow?) -> its engine. A shadow engine must store no token.
class MakeEngine(Protocol):
    """Builds the engine of an effective config: a shadow candidate's (`shadow`: nothing
    stored), or a live one that will lend its detector to candidates (`lends`)."""

    def __call__(
        self, config: Config, shadow: bool, /, *, lends: bool = False
    ) -> BatchScrubber: ...


@dataclass(frozen=True, slots=True)
class RoutePolicy:
    """One route under one policy set: its engine, the shadow candidates' (name, engine), and
    the k-anonymity windows of its output (`kanon:`)."""

    route: RouteConfig
    engine: BatchScrubber
    shadows: tuple[tuple[str, BatchScrubber], ...] = ()
    kanon: WindowedKAnonymity | None = None

    @property
    def config_hash(self) -> str:
        return self.engine.config_hash

    def shape(
        self,
        records: Sequence[KafkaRecord],
        scrubbed: Sequence[Scrubbed],
        quarantine: QuarantineConfig,
    ) -> list[Shaped]:
        """What each scrubbed record of this route comes to (`records.shape`), under this
        policy's hash; with `kanon:`, each output value counted into the windows (and perhaps
        generalized) before it goes out."""
        shaped = [
            shape(self.route, record, parts, quarantine, self.config_hash)
            for record, parts in zip(records, scrubbed, strict=True)
        ]
        if self.kanon is None:
            return shaped
        return [
            self._observed(record, parts, one, quarantine) if one.reason is None else one
            for record, parts, one in zip(records, scrubbed, shaped, strict=True)
        ]

    def _observed(
        self, record: KafkaRecord, scrubbed: Scrubbed, one: Shaped, quarantine: QuarantineConfig
    ) -> Shaped:
        """The OK record `one` with its value as the windows hand it back; if they fail, the
        record fails closed (it might have needed generalizing)."""
        assert self.kanon is not None
        output = one.outputs[0]
        try:
            value = self.kanon.observe(output.value or b"")
        except Exception as exc:  # never out without the step the windows may have asked for
            log.error("kanon_failed", route=self.route.name, error=type(exc).__name__)
            failed = RecordResult("", Outcome.QUARANTINED, Reason.DETECTION_ERROR)
            return shape(self.route, record, replace(scrubbed, result=failed), quarantine,
                         self.config_hash)  # fmt: skip
        if value is output.value:  # handed back as it came (not generalized): nothing to copy
            return one
        return replace(one, outputs=(replace(output, value=value), *one.outputs[1:]))


@dataclass(frozen=True)
class Policies:
    """One consistent set: the whole config, each input topic's RoutePolicy, and the engines
    by (effective config hash, shadow?) for the next set to reuse."""

    config: Config
    by_topic: Mapping[str, RoutePolicy]
    engines: Mapping[tuple[str, bool], BatchScrubber] = field(default_factory=dict)
    private: PrivateCounts | None = None  # the process's private view (every set shares it)

    def current(self) -> Policies:
        """A set that never changes is its own source (see `reload.Reloader.current`)."""
        return self

    @property
    def in_force(self) -> Policies:
        return self

    def plugin_costs(self) -> dict[str, Any]:
        """The Python plug-in recognizers' costs summed over this set's engines, by name."""
        totals: dict[str, dict[str, float]] = {}
        # Engines that detect alike share one detector (Scrubber's detection_of): count it once.
        lent = {id(p): p for p in (getattr(e, "plugins", None) for e in self.engines.values())}
        for plugins in lent.values():
            for name, cost in (plugins.costs if plugins is not None else {}).items():
                total = totals.setdefault(name, dict.fromkeys(_COST_FIELDS, 0.0))
                for field_name in _COST_FIELDS:
                    total[field_name] += float(getattr(cost, field_name))
        return {name: _Cost(**total) for name, total in totals.items()}

    @property
    def routes(self) -> list[RoutePolicy]:
        """Each route once (a route may read several topics), in config order."""
        seen = {id(p.route): p for p in self.by_topic.values()}
        return [seen[id(route)] for route in self.config.routes if id(route) in seen]

    @property
    def shadow_rate(self) -> float:
        return self.config.shadow.sample_rate

    @property
    def kanon(self) -> dict[str, WindowedKAnonymity]:
        """Each route's k-anonymity windows, by route name."""
        return {p.route.name: p.kanon for p in self.routes if p.kanon is not None}


def build(
    config: Config,
    make: MakeEngine,
    previous: Policies | None = None,
    *,
    private: PrivateCounts | None = None,
) -> Policies:
    """Every route's engine, shadows and k-anonymity windows. What `previous` holds is reused
    when its config is unchanged: an engine of the same effective config, a route's windows
    of the same `kanon:` (with their state); anything else is built now (engines by `make`).
    `private`: the private view (default: `previous`'s)."""
    reuse = dict(previous.engines) if previous is not None else {}
    windows = previous.kanon if previous is not None else {}
    engines: dict[tuple[str, bool], BatchScrubber] = {}

    # A route's live engine is built before its candidates, able to lend them its detector
    # (`lends`: it finds skipped types too, in case a candidate skips fewer), so that detector
    # filters for the live engine first: the candidates pay the other filters on their sample.
    lending = {
        config.effective(r.policy).digest() for r in config.routes if config.shadow_policies(r)
    }

    def engine(name: str | None, shadow: bool) -> BatchScrubber:
        effective = config.effective(name)
        digest = effective.digest()
        key = (digest, shadow)
        if key not in engines:
            lends = not shadow and digest in lending
            engines[key] = reuse.get(key) or make(effective, shadow, lends=lends)
        return engines[key]

    by_topic: dict[str, RoutePolicy] = {}
    for route in config.routes:
        live = engine(route.policy, False)
        shadows = tuple((n, engine(n, True)) for n in config.shadow_policies(route))
        kanon = None
        if route.kanon is not None:
            kanon = windows.get(route.name)
            if kanon is None or kanon.config != route.kanon:
                kanon = WindowedKAnonymity(route.kanon, route.name)
        policy = RoutePolicy(route, live, shadows, kanon)
        by_topic.update(dict.fromkeys(route.topics, policy))
    if private is None and previous is not None:
        private = previous.private
    return Policies(config, by_topic, engines, private)


def fixed(config: Config, engine: BatchScrubber) -> Policies:
    """Every route on one given engine, no shadows (tests, and the benchmarks' pass-through)."""
    return Policies(config, {t: RoutePolicy(r, engine) for r in config.routes for t in r.topics})


class _NoStore:
    """A shadow engine's TokenSink: the `vault` operator's tokens as the vault's deterministic
    ones would be (random-token types then differ from the live output), nothing kept."""

    def transform(self, key: bytes, length: int, scope: str) -> Transform:
        def vault(value: str, entity_type: str) -> str:
            return vault_token(key, 1, entity_type, value, length, scope=scope)

        return vault

    def flush(self) -> frozenset[str]:
        return frozenset()


class Engines:
    """`MakeEngine` for production: live engines share one token recorder (the vault is a
    restart-only section, opened once, on first need); the first engines built are frozen out
    of the garbage collector's reach (`Scrubber.warm_up`), those of a reload not."""

    def __init__(
        self, environ: Mapping[str, str] | None = None, lender: Scrubber | None = None
    ) -> None:
        """`lender`: an engine built before the fork (`shared_engine`) whose detector engines
        that detect alike borrow, so its memory stays shared with the other workers."""
        self._environ = environ
        self._lender = lender
        self._recorder: TokenRecorder | None = None
        self._opened = False
        self._freeze = True
        # Engines by detection settings: a shadow (or reloaded) policy that detects the same way
        # borrows the detector, and its cache, of one built already (weakly held: a policy
        # dropped on reload goes, unless a newer engine still borrows its detector).
        self._by_detection: weakref.WeakValueDictionary[str, Scrubber] = (
            weakref.WeakValueDictionary()
        )

    def __call__(self, config: Config, shadow: bool, *, lends: bool = False) -> BatchScrubber:
        from scrubber.engine.detection_parts import detection_key
        from scrubber.engine.scrub import Scrubber  # spaCy: only for the commands that scrub
        from scrubber.vault.recorder import open_recorder
        from scrubber.vault.tokens import uses_vault

        sink: TokenSink | None = None
        if shadow:
            sink = _NoStore()
        elif uses_vault(config):
            if not self._opened:
                self._recorder, self._opened = open_recorder(config, self._environ), True
            sink = self._recorder
        for note in config.recognizer_notes():  # names and paths only, never data
            log.warning("recognizer_not_as_written", note=note)
        key = detection_key(config)
        lender = self._by_detection.get(key)
        if lender is None and self._lender is not None and self._lender.detection_key == key:
            lender = self._lender
        # A lending live engine's detector, and a shadow's own, find skipped types too, so that
        # the candidates built after them borrow it even if they skip fewer types.
        engine = Scrubber(
            config, environ=self._environ, token_sink=sink, detection_of=lender,
            finds_skipped=shadow or lends,
        )  # fmt: skip
        engine.warm_up(freeze=self._freeze)
        if lender is None or engine.detector is not lender.detector:
            self._by_detection[key] = engine  # it finds what the one it could not borrow did not
        return engine

    def built(self) -> None:
        """The start-up engines are built: later ones (a reload) are not frozen."""
        self._freeze = False
