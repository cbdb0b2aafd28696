"""Token stores on SQL: SQLite (the embedded default) and PostgreSQL (replicas sharing a vault).

One class, two dialects: the statements are the same but for placeholders and locking. Every
operation is one transaction. A failure closes the connection (the next call reconnects) and is
raised as `VaultUnavailable` naming the driver's error class only: a driver message can quote a
statement's parameters, and those may be sealed values or identifiers.

Tables: `scrubber_vault` (one sealed row per token, with its scope), `scrubber_vault_index` (the
keyed index of random tokens: lookup -> token), `scrubber_vault_erased` (tombstones: a subject
erased in a scope never gets its old deterministic token stored again). The same store is the
audit log's default home (tables `scrubber_audit`, `scrubber_audit_head`).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

from scrubber.config import VaultConfig, read_secret
from scrubber.errors import VaultUnavailable
from scrubber.vault.audit import ChainState, Sealed, checked_head

T = TypeVar("T")
Dialect = Literal["sqlite", "postgres"]

# Arbitrary constants naming our advisory locks in PostgreSQL.
SCHEMA_LOCK = 0x5C2B_0001
AUDIT_LOCK = 0x5C2B_0002
# Shared by writers of tokens, exclusive for erasure: no put can slip between an erasure's
# tombstone and its deletes (PostgreSQL's READ COMMITTED would let it).
ERASE_LOCK = 0x5C2B_0003
CHUNK = 500  # identifiers per IN (...) list

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS scrubber_vault (
        token TEXT PRIMARY KEY, entity_type TEXT NOT NULL, key_version INTEGER NOT NULL,
        subject TEXT NOT NULL, sealed {blob} NOT NULL, created_at DOUBLE PRECISION NOT NULL,
        expires_at DOUBLE PRECISION)""",
    "CREATE INDEX IF NOT EXISTS scrubber_vault_subject ON scrubber_vault (subject)",
    "CREATE INDEX IF NOT EXISTS scrubber_vault_expires ON scrubber_vault (expires_at)",
    """CREATE TABLE IF NOT EXISTS scrubber_vault_index (
        lookup TEXT PRIMARY KEY, token TEXT NOT NULL, subject TEXT NOT NULL,
        scope TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS scrubber_vault_index_subject ON scrubber_vault_index (subject)",
    """CREATE TABLE IF NOT EXISTS scrubber_vault_erased (
        subject TEXT NOT NULL, scope TEXT NOT NULL, erased_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (subject, scope))""",
    "CREATE TABLE IF NOT EXISTS scrubber_audit (seq BIGINT PRIMARY KEY, record TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS scrubber_audit_head (
        id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL, hash TEXT NOT NULL)""",
)
_PG_TIMEOUTS = "-c statement_timeout=10000 -c lock_timeout=10000"
_COLUMNS = "token, entity_type, key_version, subject, sealed, created_at, expires_at, scope"
# Same token, same row. A later use only pushes the expiry out (the value is the same).
_UPSERT = f"""INSERT INTO scrubber_vault ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (token) DO UPDATE SET expires_at = excluded.expires_at
    WHERE scrubber_vault.expires_at IS NOT NULL AND excluded.expires_at IS NOT NULL
      AND excluded.expires_at > scrubber_vault.expires_at"""  # noqa: S608  # constants only
_AUDIT_PAGE = "SELECT seq, record FROM scrubber_audit WHERE seq > ? ORDER BY seq LIMIT 1000"
_UPSERT_HEAD = """INSERT INTO scrubber_audit_head (id, seq, hash) VALUES (1, ?, ?)
    ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash"""


@dataclass(frozen=True, slots=True)
class SealedRow:
    """One vault row. `subject` is a keyed digest of the normalised value, for subject rights."""

    token: str
    entity_type: str
    key_version: int
    subject: str
    sealed: bytes
    created_at: float
    expires_at: float | None
    scope: str
    # A random token's entry in the keyed index (how the same value finds it again); None for a
    # deterministic token, which the value and the key recompute.
    lookup: str | None = None


class TokenStore(Protocol):
    def put(self, rows: Sequence[SealedRow], purge_before: float | None) -> frozenset[str]:
        """Upsert every row in one transaction (same token, same row); optionally purge expired.
        Deterministic rows of an erased (subject, scope) are refused: their tokens are returned."""

    def get(self, tokens: Sequence[str]) -> dict[str, SealedRow]: ...

    def lookup(self, lookups: Sequence[str]) -> dict[str, str]:
        """Random tokens by their keyed index entry."""

    def find(self, subjects: Sequence[str], scopes: Sequence[str]) -> list[SealedRow]: ...

    def erase(self, subjects: Sequence[str], scopes: Sequence[str], now: float) -> list[SealedRow]:
        """In one transaction: delete the subjects' rows and index entries in these scopes and
        leave a tombstone per (subject, scope); the rows as they were."""

    def erased_since(self, since: float) -> list[tuple[str, str, float]]:
        """Tombstones (subject, scope, erased_at) written at or after `since`."""

    def ping(self) -> None: ...


def _row(values: Sequence[Any]) -> SealedRow:
    token, entity_type, version, subject, sealed, created, expires, scope = values
    return SealedRow(
        token, entity_type, int(version), subject, bytes(sealed), created, expires, scope
    )


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" * len(values))


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


class SqlStore:
    """A token store and audit store on one SQL connection, used by one thread at a time."""

    def __init__(
        self, dialect: Dialect, connect: Callable[[], Any], errors: tuple[type[BaseException], ...]
    ):
        self.dialect = dialect
        self._connect = connect
        self._errors = errors
        self._conn: Any = None
        self._lock = threading.Lock()

    @classmethod
    def sqlite(cls, path: Path) -> SqlStore:
        def connect() -> sqlite3.Connection:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
            # WAL lets readers and the writer overlap; FULL syncs each commit, so a token that
            # left is on disk. secure_delete zeroes what a delete frees: an erased value leaves
            # no ciphertext in the database file (and `erase` checkpoints the WAL away).
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA secure_delete=ON")
            return conn

        return cls("sqlite", connect, (sqlite3.Error, OSError))

    @classmethod
    def postgres(cls, dsn: bytes) -> SqlStore:
        import psycopg
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        given = conninfo_to_dict(dsn.decode())
        # Bounded waits, added to any options the DSN carries (e.g. a search_path).
        options = f"{given.get('options') or ''} {_PG_TIMEOUTS}".strip()
        conninfo = make_conninfo(
            dsn.decode(), options=options, connect_timeout=given.get("connect_timeout") or 5
        )

        def connect() -> psycopg.Connection[Any]:
            return psycopg.connect(conninfo, autocommit=True)

        return cls("postgres", connect, (psycopg.Error, OSError))

    # ------------------------------------------------------------ transactions

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.dialect == "postgres" else statement

    def _open(self) -> Any:
        conn = self._connect()
        self._conn = conn
        self._create_tables(conn, _SCHEMA, self._add_scope_column)
        return conn

    def _create_tables(
        self, conn: Any, statements: Sequence[str], then: Callable[[Any], None] | None = None
    ) -> None:
        """Run `statements` (`{blob}`: the dialect's byte type) in one transaction, on
        PostgreSQL under an advisory lock: replicas starting together would race on them."""
        blob = "BYTEA" if self.dialect == "postgres" else "BLOB"

        def create(cur: Any) -> None:
            if self.dialect == "postgres":
                cur.execute(self._sql("SELECT pg_advisory_xact_lock(?)"), (SCHEMA_LOCK,))
            for statement in statements:
                cur.execute(statement.format(blob=blob))
            if then is not None:
                then(cur)

        self._in_transaction(conn, create, write=True)

    def _add_scope_column(self, cur: Any) -> None:
        """Stores made before scopes: their rows are the pipeline's (the only scope then)."""
        if self.dialect == "postgres":
            cur.execute(
                "ALTER TABLE scrubber_vault ADD COLUMN IF NOT EXISTS scope TEXT NOT NULL "
                "DEFAULT 'pipeline'"
            )
            return
        columns = {row[1] for row in cur.execute("PRAGMA table_info(scrubber_vault)")}
        if "scope" not in columns:
            cur.execute(
                "ALTER TABLE scrubber_vault ADD COLUMN scope TEXT NOT NULL DEFAULT 'pipeline'"
            )

    def _in_transaction(self, conn: Any, work: Callable[[Any], T], write: bool) -> T:
        if self.dialect == "postgres":
            with conn.transaction(), conn.cursor() as cur:
                return work(cur)
        cur = conn.cursor()
        # IMMEDIATE takes the write lock up front, so two writers queue instead of deadlocking.
        cur.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            result = work(cur)
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        cur.execute("COMMIT")
        return result

    def _run(self, work: Callable[[Any], T], write: bool = False, transaction: bool = True) -> T:
        with self._lock:
            try:
                conn = self._conn if self._conn is not None else self._open()
                if not transaction:  # a statement SQLite refuses inside one (a checkpoint)
                    return work(conn.cursor())
                return self._in_transaction(conn, work, write)
            except self._errors as exc:
                self._discard()
                raise VaultUnavailable(
                    f"{self.dialect} vault store failed ({type(exc).__name__})"
                ) from None

    def _discard(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(*self._errors):  # already broken; the next call reconnects
                conn.close()

    def close(self) -> None:
        with self._lock:
            self._discard()

    # ------------------------------------------------------------ token store

    def _erase_lock(self, cur: Any, exclusive: bool) -> None:
        if self.dialect == "postgres":
            take = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
            cur.execute(self._sql(f"SELECT {take}(?)"), (ERASE_LOCK,))

    def put(self, rows: Sequence[SealedRow], purge_before: float | None) -> frozenset[str]:
        def work(cur: Any) -> frozenset[str]:
            self._erase_lock(cur, exclusive=False)
            erased = self._erased_among(cur, [r for r in rows if r.lookup is None])
            refused = frozenset(
                r.token for r in rows if r.lookup is None and (r.subject, r.scope) in erased
            )
            cur.executemany(self._sql(_UPSERT), [
                (r.token, r.entity_type, r.key_version, r.subject, r.sealed, r.created_at,
                 r.expires_at, r.scope)
                for r in rows if r.token not in refused
            ])  # fmt: skip
            indexed = [(r.lookup, r.token, r.subject, r.scope) for r in rows if r.lookup]
            if indexed:
                # A replica may have indexed the same value first: its token stays the one found.
                cur.executemany(self._sql(
                    "INSERT INTO scrubber_vault_index (lookup, token, subject, scope) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (lookup) DO NOTHING"
                ), indexed)  # fmt: skip
            if purge_before is not None:
                cur.execute(
                    self._sql("DELETE FROM scrubber_vault WHERE expires_at < ?"), (purge_before,)
                )
            return refused

        return self._run(work, write=True)

    def _select_in(
        self, cur: Any, query: str, values: Sequence[str], extra: Sequence[str] = ()
    ) -> list[Any]:
        """Rows of `query`, whose `{marks}` stands for `values` (sent in chunks), then `extra`."""
        found: list[Any] = []
        for chunk in _chunks(values):
            cur.execute(self._sql(query.format(marks=_marks(chunk))), (*chunk, *extra))
            found += cur.fetchall()
        return found

    def _erased_among(self, cur: Any, rows: Sequence[SealedRow]) -> set[tuple[str, str]]:
        query = "SELECT subject, scope FROM scrubber_vault_erased WHERE subject IN ({marks})"
        subjects = sorted({r.subject for r in rows})
        return {(str(s), str(scope)) for s, scope in self._select_in(cur, query, subjects)}

    def _rows_where(
        self, cur: Any, column: str, values: Sequence[str], scopes: Sequence[str] | None
    ) -> list[SealedRow]:
        query = f"SELECT {_COLUMNS} FROM scrubber_vault WHERE {column} IN ({{marks}})"  # noqa: S608
        if scopes is not None:
            query += f" AND scope IN ({_marks(scopes)})"
        return [_row(found) for found in self._select_in(cur, query, values, scopes or ())]

    def get(self, tokens: Sequence[str]) -> dict[str, SealedRow]:
        rows = self._run(lambda cur: self._rows_where(cur, "token", tokens, None))
        return {row.token: row for row in rows}

    def lookup(self, lookups: Sequence[str]) -> dict[str, str]:
        query = "SELECT lookup, token FROM scrubber_vault_index WHERE lookup IN ({marks})"
        found = self._run(lambda cur: self._select_in(cur, query, lookups))
        return {str(lookup): str(token) for lookup, token in found}

    def find(self, subjects: Sequence[str], scopes: Sequence[str]) -> list[SealedRow]:
        return self._run(lambda cur: self._rows_where(cur, "subject", subjects, scopes))

    def erase(self, subjects: Sequence[str], scopes: Sequence[str], now: float) -> list[SealedRow]:
        def work(cur: Any) -> list[SealedRow]:
            self._erase_lock(cur, exclusive=True)
            rows = self._rows_where(cur, "subject", subjects, scopes)
            in_scopes = f" AND scope IN ({_marks(scopes)})"
            for chunk in _chunks(subjects):
                for table in ("scrubber_vault", "scrubber_vault_index"):
                    cur.execute(self._sql(
                        f"DELETE FROM {table} WHERE subject IN ({_marks(chunk)})" + in_scopes  # noqa: S608
                    ), (*chunk, *scopes))  # fmt: skip
            cur.executemany(self._sql(
                "INSERT INTO scrubber_vault_erased (subject, scope, erased_at) VALUES (?, ?, ?) "
                "ON CONFLICT (subject, scope) DO UPDATE SET erased_at = excluded.erased_at"
            ), [(subject, scope, now) for subject in subjects for scope in scopes])  # fmt: skip
            return rows

        rows = self._run(work, write=True)
        if self.dialect == "sqlite":  # old page images of the erased rows leave the WAL too
            self._run(lambda cur: cur.execute("PRAGMA wal_checkpoint(TRUNCATE)"), transaction=False)
        return rows

    def erased_since(self, since: float) -> list[tuple[str, str, float]]:
        def work(cur: Any) -> list[tuple[str, str, float]]:
            cur.execute(self._sql(
                "SELECT subject, scope, erased_at FROM scrubber_vault_erased WHERE erased_at >= ?"
            ), (since,))  # fmt: skip
            return [(str(s), str(scope), float(at)) for s, scope, at in cur.fetchall()]

        return self._run(work)

    def ping(self) -> None:
        self._run(lambda cur: cur.execute("SELECT 1"))

    def rows_by_key_version(self) -> dict[int, int]:
        query = "SELECT key_version, count(*) FROM scrubber_vault GROUP BY key_version"
        return {int(v): int(n) for v, n in self._run(lambda cur: cur.execute(query).fetchall())}

    # ------------------------------------------------------------ audit store

    def append_audit(self, build: Callable[[ChainState], list[Sealed]]) -> list[Sealed]:
        """Append records under a lock shared by every process on this store; the head moves in
        the same transaction, so a crash leaves both or neither."""

        def work(cur: Any) -> list[Sealed]:
            if self.dialect == "postgres":
                cur.execute(self._sql("SELECT pg_advisory_xact_lock(?)"), (AUDIT_LOCK,))
            head = cur.execute("SELECT seq, hash FROM scrubber_audit_head WHERE id = 1").fetchone()
            last = cur.execute(
                "SELECT record FROM scrubber_audit ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            state = ChainState(
                None if head is None else checked_head(*head),
                None if last is None else str(last[0]),
                0,
                partial(self._audit_pages, partial(self._audit_page, cur)),
            )
            sealed = build(state)
            cur.executemany(
                self._sql("INSERT INTO scrubber_audit (seq, record) VALUES (?, ?)"),
                [(seq, record) for seq, record, _ in sealed],
            )
            cur.execute(self._sql(_UPSERT_HEAD), (sealed[-1][0], sealed[-1][2]))
            return sealed

        return self._run(work, write=True)

    def audit_records(self) -> Iterator[tuple[int, str]]:
        """(seq, record) in seq order, read in pages (a transaction each)."""
        return self._audit_pages(lambda after: self._run(partial(self._audit_page, after=after)))

    @staticmethod
    def _audit_pages(page: Callable[[int], list[tuple[int, str]]]) -> Iterator[tuple[int, str]]:
        after = 0
        while rows := page(after):
            yield from rows
            after = rows[-1][0]

    def _audit_page(self, cur: Any, after: int) -> list[tuple[int, str]]:
        rows = cur.execute(self._sql(_AUDIT_PAGE), (after,)).fetchall()
        return [(int(seq), str(record)) for seq, record in rows]

    def audit_head(self) -> tuple[int, str] | None:
        row = self._run(
            lambda cur: cur.execute("SELECT seq, hash FROM scrubber_audit_head WHERE id = 1")
            .fetchone()
        )  # fmt: skip
        return None if row is None else checked_head(*row)


def open_store(config: VaultConfig, environ: Mapping[str, str] | None = None) -> SqlStore:
    if config.store == "sqlite":
        return SqlStore.sqlite(config.sqlite_path)
    assert config.postgres_dsn is not None
    return SqlStore.postgres(read_secret("vault.postgres_dsn", config.postgres_dsn, environ))
