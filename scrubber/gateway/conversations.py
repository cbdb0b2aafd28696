"""Where a conversation's tokens are kept between its turns: in this process's memory (the
default), or in the vault's store, so every replica on that store restores every turn.

    turn -> (conversation key, tokens minted now) -> exchange -> every live token of the
            conversation, minted by any replica -> the answer's Restorer

The shared book is a table of the vault's store (SQLite or PostgreSQL, `scrubber/vault/store.py`):
one row per (conversation key, token), the value sealed as the vault seals (AES-256-GCM under the
active `vault.encryption_keys` version; the associated data is the conversation key and the token,
so a row copied into another conversation fails authentication instead of revealing). The
conversation key is a digest of (client credential, conversation id): neither is stored. Rows
live `gateway.conversation_ttl_seconds` after the conversation's last turn.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from scrubber.config import Config, read_secret
from scrubber.gateway.restore import TokenBook
from scrubber.gateway.scrubbing import Conversations
from scrubber.vault.store import SqlStore
from scrubber.vault.tokens import Keyring, Status, open_keyring

_TABLE = "scrubber_gateway_conversation"
_SCHEMA = (
    f"""CREATE TABLE IF NOT EXISTS {_TABLE} (
        conversation TEXT NOT NULL, token TEXT NOT NULL, key_version INTEGER NOT NULL,
        sealed {{blob}} NOT NULL, expires_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (conversation, token))""",
    f"CREATE INDEX IF NOT EXISTS {_TABLE}_expires ON {_TABLE} (expires_at)",
)
# Constants only below: the table name is ours, every value is a parameter.
_UPSERT = f"""INSERT INTO {_TABLE} (conversation, token, key_version, sealed, expires_at)
    VALUES (?, ?, ?, ?, ?) ON CONFLICT (conversation, token)
    DO UPDATE SET expires_at = excluded.expires_at"""  # noqa: S608
_REFRESH = f"UPDATE {_TABLE} SET expires_at = ? WHERE conversation = ? AND expires_at > ?"  # noqa: S608
_LIVE = f"SELECT token, key_version, sealed FROM {_TABLE} WHERE conversation = ? AND expires_at > ?"  # noqa: S608
_PURGE = f"DELETE FROM {_TABLE} WHERE expires_at <= ?"  # noqa: S608

Row = tuple[str, int, bytes]  # token body, key version, sealed value


class ConversationStore(SqlStore):
    """The vault's SQL store with the gateway's table beside the vault's own."""

    def _open(self) -> Any:
        conn = super()._open()
        self._create_tables(conn, _SCHEMA)
        return conn

    def exchange(
        self, conversation: str, minted: Sequence[Row], now: float, expires: float
    ) -> list[Row]:
        """In one transaction: add this turn's rows, push the live rows' expiry out, purge the
        expired, and return every live row of the conversation."""

        def work(cur: Any) -> list[Row]:
            cur.executemany(self._sql(_UPSERT), [(conversation, *row, expires) for row in minted])
            cur.execute(self._sql(_REFRESH), (expires, conversation, now))
            cur.execute(self._sql(_PURGE), (now,))
            cur.execute(self._sql(_LIVE), (conversation, now))
            return [(str(t), int(v), bytes(s)) for t, v, s in cur.fetchall()]

        return self._run(work, write=True)


class ConversationBooks(Protocol):
    async def exchange(self, key: str, minted: TokenBook) -> TokenBook:
        """Note this turn's tokens; the conversation's whole book (this turn's included)."""

    async def ping(self) -> None:
        """Raise `VaultUnavailable` when the books cannot be reached (/readyz)."""


class MemoryBooks:
    """Books in this process (`Conversations`: TTL and least-recently-used bound)."""

    def __init__(self, ttl: float, max_entries: int) -> None:
        self._books = Conversations(ttl, max_entries)

    async def exchange(self, key: str, minted: TokenBook) -> TokenBook:
        book = self._books.book(key)
        book.update(minted)
        return book

    async def ping(self) -> None:
        return None


class SharedBooks:
    """Books in the vault's store, shared by every replica on it. A store failure raises
    `VaultUnavailable` (the gateway then refuses the turn: nothing is forwarded)."""

    def __init__(
        self, store: ConversationStore, keyring: Keyring, ttl: float,
        clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self._store = store
        self._keyring = keyring
        self._ttl = ttl
        self._clock = clock

    async def exchange(self, key: str, minted: TokenBook) -> TokenBook:
        return await asyncio.to_thread(self._exchange, key, minted)

    async def ping(self) -> None:
        await asyncio.to_thread(self._store.ping)

    def _exchange(self, key: str, minted: TokenBook) -> TokenBook:
        version = self._keyring.active
        rows = [
            (body, version, self._keyring.seal(_bound(key, body), value))
            for body, value in minted.items()
        ]
        now = self._clock()
        book = TokenBook()
        for body, row_version, sealed in self._store.exchange(key, rows, now, now + self._ttl):
            opened = self._keyring.open(row_version, _bound(key, body), sealed)
            if opened.status is Status.REVEALED and opened.value is not None:
                book.add(body, opened.value)
        return book

    def close(self) -> None:
        self._store.close()


def _bound(conversation: str, body: str) -> str:
    """The associated data of a sealed value: its conversation and its token."""
    return f"gateway\x00{conversation}\x00{body}"


def conversation_books(
    config: Config, environ: Mapping[str, str] | None = None
) -> ConversationBooks:
    gateway = config.gateway
    if gateway.conversation_store == "memory" or config.vault is None:
        return MemoryBooks(gateway.conversation_ttl_seconds, gateway.max_conversations)
    vault = config.vault
    if vault.store == "sqlite":
        store = ConversationStore.sqlite(vault.sqlite_path)
    else:
        assert vault.postgres_dsn is not None  # the vault section's own check
        store = ConversationStore.postgres(
            read_secret("vault.postgres_dsn", vault.postgres_dsn, environ)
        )
    assert isinstance(store, ConversationStore)  # the class methods build `cls`
    return SharedBooks(store, open_keyring(vault, environ), gateway.conversation_ttl_seconds)
