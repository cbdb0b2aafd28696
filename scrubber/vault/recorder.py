"""The vault's write side: the `vault` operator's TokenSink.

A value gets a deterministic token (`operators.vault_token`: keyed per scope and key version),
except in two cases where the token is random and found again through the vault's keyed index
(lookup = HMAC of the value under an index key of the scope; the token itself cannot be
recomputed from the value and the key):

- its entity type is one of `vault.random_tokens` (low-entropy types such as SSNs or card
  numbers, whose deterministic tokens anyone holding the key could match against guesses);
- its subject was erased in that scope (a tombstone): the old token must never come back.

Rows are buffered until `flush` (once per batch, one transaction), before any record of the batch
leaves. The store refuses a deterministic row of an erased subject even when this process has
not yet heard of the erasure (another replica did it): those tokens come back as not stored, the
records fail closed, and the next try uses a random token.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from scrubber.config import Config
from scrubber.errors import VaultUnavailable
from scrubber.log import get_logger
from scrubber.operators import Transform, derive_key, keyed_digest, vault_token
from scrubber.processes import release_free_heap
from scrubber.vault.store import SealedRow, TokenStore, open_store
from scrubber.vault.tokens import Keyring, open_keyring, subject_digest, uses_vault

# Tombstones written by other replicas are read at most this often (seconds); a put refused in
# between is caught by the store itself.
TOMBSTONE_REFRESH_SECONDS = 5.0
# Expired rows are deleted by the writer at most this often (seconds).
PURGE_INTERVAL = 300.0
INDEX_CACHE_ENTRIES = 100_000
# Tombstones are read back this far before the last read, for clocks of replicas that differ.
CLOCK_SLACK_SECONDS = 60.0

if TYPE_CHECKING:
    from scrubber.engine import Scrubber

log = get_logger("scrubber.vault")


def _expiry(ttl: Mapping[str, timedelta], entity_type: str, now: float) -> float | None:
    lifetime = ttl.get(entity_type, ttl.get("*"))
    return None if lifetime is None else now + lifetime.total_seconds()


class TokenRecorder:
    """Tokens for values, rows buffered until `flush`. Not thread-safe: one engine call at a time,
    like the engine itself."""

    def __init__(
        self,
        store: TokenStore,
        keyring: Keyring,
        ttl: Mapping[str, timedelta],
        random_types: frozenset[str] = frozenset(),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self._keyring = keyring
        self._ttl = dict(ttl)
        self._random_types = random_types
        self._clock = clock
        self._pending: dict[str, SealedRow] = {}
        self._pending_lookups: dict[str, str] = {}
        self._index: OrderedDict[str, str] = OrderedDict()
        self._erased: set[tuple[str, str]] = set()
        self._erased_read_at: float | None = None
        self._last_purge = 0.0
        self._refresh_tombstones()

    def transform(self, key: bytes, length: int, scope: str) -> Transform:
        """The `vault` operator bound to its token key and scope: (value, entity type) -> token."""
        version = self._keyring.active
        index_key = derive_key(key, "index", scope, version)

        def vault(value: str, entity_type: str) -> str:
            subject = subject_digest(key, value)
            lookup = None
            if entity_type in self._random_types or (subject, scope) in self._erased:
                lookup = keyed_digest(index_key, entity_type, value)
                token = self._indexed(lookup) or self._random_token(entity_type, version, length)
                self._pending_lookups[lookup] = token
            else:
                token = vault_token(key, version, entity_type, value, length, scope=scope)
            if token not in self._pending:
                now = self._clock()
                self._pending[token] = SealedRow(
                    token, entity_type, version, subject, self._keyring.seal(token, value), now,
                    _expiry(self._ttl, entity_type, now), scope, lookup,
                )  # fmt: skip
            return token

        return vault

    def _indexed(self, lookup: str) -> str | None:
        found = self._pending_lookups.get(lookup) or self._index.get(lookup)
        if found is not None:
            return found
        try:
            found = self.store.lookup([lookup]).get(lookup)
        except VaultUnavailable:  # the flush will fail too, and the record with it
            return None
        if found is not None:
            self._remember(lookup, found)
        return found

    def _remember(self, lookup: str, token: str) -> None:
        self._index[lookup] = token
        self._index.move_to_end(lookup)
        while len(self._index) > INDEX_CACHE_ENTRIES:
            self._index.popitem(last=False)

    @staticmethod
    def _random_token(entity_type: str, version: int, length: int) -> str:
        return f"<{entity_type}_V{version}_{secrets.token_hex((length + 1) // 2)[:length]}>"

    def flush(self) -> frozenset[str]:
        """Store every buffered row in one transaction. Returns the tokens that were NOT stored
        (empty when all are durable): records carrying them must fail closed."""
        if not self._pending:
            return frozenset()
        rows = list(self._pending.values())
        lookups, self._pending_lookups = self._pending_lookups, {}
        self._pending.clear()
        now = self._clock()
        purge = now if self._ttl and now - self._last_purge >= PURGE_INTERVAL else None
        try:
            refused = self.store.put(rows, purge)
        except VaultUnavailable as exc:
            log.warning("vault_write_failed", rows=len(rows), error=str(exc))
            return frozenset(row.token for row in rows)
        if purge is not None:
            self._last_purge = now
        for lookup, token in lookups.items():
            self._remember(lookup, token)
        if refused:  # erased elsewhere: from now on these subjects get random tokens
            self._erased |= {(r.subject, r.scope) for r in rows if r.token in refused}
            log.warning("vault_erased_subject_refused", rows=len(refused))
        if self._erased_read_at is None or now - self._erased_read_at >= TOMBSTONE_REFRESH_SECONDS:
            self._refresh_tombstones()
        return refused

    def note_erased(self, subjects: Sequence[str], scopes: Sequence[str]) -> None:
        """An erasure in this process: these subjects get new tokens from the next value on."""
        self._erased |= {(subject, scope) for subject in subjects for scope in scopes}
        self._index.clear()

    def _refresh_tombstones(self) -> None:
        since = 0.0 if self._erased_read_at is None else self._erased_read_at - CLOCK_SLACK_SECONDS
        now = self._clock()
        try:
            found = self.store.erased_since(since)
        except VaultUnavailable:  # the store refuses what we would get wrong meanwhile
            return
        self._erased |= {(subject, scope) for subject, scope, _ in found}
        if found:
            self._index.clear()  # an erased subject's random tokens are gone from the index
        self._erased_read_at = now


def open_recorder(config: Config, environ: Mapping[str, str] | None = None) -> TokenRecorder | None:
    """The engine's write side, or None when no operator uses the vault."""
    if config.vault is None or not uses_vault(config):
        return None
    return TokenRecorder(
        open_store(config.vault, environ), open_keyring(config.vault, environ), config.vault.ttl,
        frozenset(config.vault.random_tokens),
    )  # fmt: skip


def scrubber_for(
    config: Config,
    environ: Mapping[str, str] | None = None,
    detection_of: Scrubber | None = None,
) -> Scrubber:
    """The engine, handed the token vault when its policy uses the `vault` operator. Every
    command that scrubs builds its engine here, so none forgets the vault. `detection_of`: an
    engine that detects alike lends its detector (`Scrubber`)."""
    from scrubber.engine import Scrubber  # spaCy: only for the commands that scrub

    for note in config.recognizer_notes():  # names and paths only, never data
        log.warning("recognizer_not_as_written", note=note)
    sink = open_recorder(config, environ)
    engine = Scrubber(config, environ=environ, token_sink=sink, detection_of=detection_of)
    engine.warm_up()
    return engine


def shared_engine(config: Config) -> Scrubber:
    """Before forking workers: build here an engine that detects as theirs will, warmed up and
    frozen out of the garbage collector's reach, so the forked workers share its model, word
    lists and compiled patterns copy-on-write instead of each loading ~200 MB; they borrow its
    detector (`Scrubber(detection_of=...)`). It opens no vault (a connection must not cross a
    fork): when the policy stores tokens it is built under the default policy, to lend its
    detector only; otherwise workers may use it as it is."""
    from scrubber.config import PolicyConfig
    from scrubber.engine import Scrubber

    if uses_vault(config):
        config = config.model_copy(update={"policy": PolicyConfig()})
    engine = Scrubber(config)
    engine.warm_up(freeze=True)
    release_free_heap()
    return engine
