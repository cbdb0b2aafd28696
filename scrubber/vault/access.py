"""Re-identification behind API keys and roles, every decision written to the audit log.

An API key (from env or a file) names a role; a role says which entity types it may reveal and
whether it may serve subject rights (list and erase a person's tokens). `Gatekeeper` is the one
way from a caller to the vault's read side: it authenticates, decides, writes the audit record
(before revealing anything), and only then acts. The HTTP API and the CLI twins both use it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from scrubber.config import AccessConfig, Config, read_secret
from scrubber.engine.keys import load_keys
from scrubber.errors import AccessDenied, ConfigError, VaultUnavailable
from scrubber.log import get_logger
from scrubber.vault.audit import Action, AuditEvent, AuditLog, Outcome, open_audit_log
from scrubber.vault.store import SealedRow, open_store
from scrubber.vault.tokens import TOKEN_PATTERN, Status, Vault, open_keyring, vault_token_keys


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a call came from, for the audit record: the HTTP client's address and the request
    id it sent (`X-Request-ID`), or just "cli"."""

    via: Literal["http", "cli"]
    client: str = ""
    request_id: str = ""


Via = Literal["http", "cli"] | Origin


def _event(  # noqa: PLR0917  # the AuditEvent's own fields, in its order
    actor: str, role: str, action: Action, outcome: Outcome, via: Via,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:  # fmt: skip
    origin = via if isinstance(via, Origin) else Origin(via)
    return AuditEvent(actor, role, action, outcome, origin.via, detail or {}, origin.client,
                      origin.request_id)  # fmt: skip


log = get_logger("scrubber.access")


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: str
    reveal: frozenset[str]
    subject_rights: bool
    scrub: bool = False
    scopes: tuple[str, ...] = ("api",)

    def may_reveal(self, entity_type: str) -> bool:
        return "*" in self.reveal or entity_type in self.reveal

    def within(self, scope: str | None) -> tuple[str, ...]:
        """The scopes a call acts on: the one asked for (if this role has it), else all of the
        role's. An empty answer means the role may not act on that scope."""
        if scope is None:
            return self.scopes
        return (scope,) if scope in self.scopes else ()


def _fingerprint(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()


class AccessControl:
    """API keys -> principals. Only SHA-256 fingerprints of the keys are kept in memory."""

    def __init__(self, config: AccessConfig, environ: Mapping[str, str] | None = None) -> None:
        self._by_fingerprint: dict[bytes, Principal] = {}
        for name, source in config.api_keys.items():
            role = config.roles[source.role]
            fingerprint = _fingerprint(read_secret(f"access.api_keys.{name}", source, environ))
            if fingerprint in self._by_fingerprint:
                raise ConfigError(f"access.api_keys.{name}: the same key is given to another name")
            self._by_fingerprint[fingerprint] = Principal(
                name, source.role, frozenset(role.reveal), role.subject_rights, role.scrub,
                role.scopes,
            )  # fmt: skip

    def authenticate(self, presented: str | None) -> Principal | None:
        if not presented:
            return None
        return self._by_fingerprint.get(_fingerprint(presented.encode("utf-8", "surrogatepass")))


@dataclass(frozen=True, slots=True)
class Restored:
    texts: list[str]
    statuses: dict[str, Status]


class Gatekeeper:
    def __init__(self, vault: Vault, audit: AuditLog, access: AccessControl) -> None:
        self.vault = vault
        self.audit = audit
        self.access = access

    def _admit(
        self, principal: Principal | None, action: Action, via: Via,
        allowed: Callable[[Principal], bool],
    ) -> Principal:  # fmt: skip
        """The principal, if it may do `action`; otherwise audit the refusal and raise."""
        if principal is None:
            self._audit_refusal(_event("anonymous", "", action, "unauthenticated", via))
            raise AccessDenied(401, "an API key is required (Authorization: Bearer <key>)")
        if not allowed(principal):
            self._audit_refusal(_event(principal.name, principal.role, action, "forbidden", via))
            raise AccessDenied(403, f"role {principal.role!r} may not {action}")
        return principal

    def _audit_refusal(self, event: AuditEvent) -> None:
        try:
            self.audit.append(event)
        except VaultUnavailable as exc:  # refused either way; the refusal is logged at least
            log.error("audit_write_failed", action=event.action, outcome=event.outcome,
                      error=str(exc))  # fmt: skip

    def audit_unauthenticated(self, action: Action, via: Via, detail: dict[str, Any]) -> None:
        """One record for many unauthenticated attempts that were refused without one each
        (the HTTP API's bad-key limit); like every refusal, it never raises."""
        self._audit_refusal(_event("anonymous", "", action, "unauthenticated", via, detail))

    def restore(
        self, principal: Principal | None, texts: Sequence[str], via: Via, scope: str | None = None
    ) -> Restored:
        """Replace the tokens the role may reveal by their values; others stay tokens. Only
        tokens minted in the role's scopes (or the one asked for) resolve: a token pasted from
        another scope is answered as not found."""
        who = self._admit(principal, "restore", via, lambda p: bool(p.reveal and p.within(scope)))
        types = {m.group(0): m.group(1) for text in texts for m in TOKEN_PATTERN.finditer(text)}
        revealable = (t for t, kind in types.items() if who.may_reveal(kind))
        resolved = self.vault.resolve(revealable, who.within(scope))
        statuses = {
            token: resolved[token].status if token in resolved else Status.DENIED
            for token in sorted(types)
        }
        revealed = sum(status is Status.REVEALED for status in statuses.values())
        outcome: Outcome = (
            "allowed" if revealed == len(statuses) else "denied" if not revealed else "partial"
        )
        self.audit.append(
            _event(who.name, who.role, "restore", outcome, via,
                       {"tokens": {t: s.value for t, s in statuses.items()}})
        )  # fmt: skip
        values = {t: r.value for t, r in resolved.items() if r.value is not None}
        restored = [
            TOKEN_PATTERN.sub(lambda m: values.get(m.group(0), m.group(0)), text) for text in texts
        ]
        return Restored(restored, statuses)

    def access_subjects(
        self, principal: Principal | None, identifiers: Sequence[str], via: Via,
        scope: str | None = None,
    ) -> list[list[SealedRow]]:  # fmt: skip
        """Per identifier, the tokens that stand for it (to search the log store with)."""
        find = self.vault.find
        return self._subject_right(principal, identifiers, via, "access", find, scope=scope)

    def erase_subjects(
        self, principal: Principal | None, identifiers: Sequence[str], via: Via,
        scope: str | None = None,
    ) -> list[list[SealedRow]]:  # fmt: skip
        """Delete the identifiers' rows and leave tombstones: their tokens can never be revealed
        again, and their values get new tokens from now on."""
        erase = self.vault.erase
        return self._subject_right(principal, identifiers, via, "erase", erase, scope=scope)

    def _subject_right(
        self,
        principal: Principal | None,
        identifiers: Sequence[str],
        via: Via,
        action: Literal["access", "erase"],
        perform: Callable[[Sequence[str], Sequence[str]], list[list[SealedRow]]],
        *,
        scope: str | None,
    ) -> list[list[SealedRow]]:
        who = self._admit(
            principal, action, via, lambda p: p.subject_rights and bool(p.within(scope))
        )
        rows = perform(identifiers, who.within(scope))
        # Audited after the fact: the record lists what was found or erased, as digests only.
        self.audit.append(
            _event(who.name, who.role, action, "allowed", via,
                       self._subject_detail(identifiers, rows))
        )  # fmt: skip
        return rows

    def _subject_detail(
        self, identifiers: Sequence[str], rows: list[list[SealedRow]]
    ) -> dict[str, Any]:
        """Keyed digests stand for the identifiers: the audit log never holds a value."""
        return {
            "identifiers": len(identifiers),
            "subjects": [
                {"digests": self.vault.subjects(identifier), "tokens": [r.token for r in found]}
                for identifier, found in zip(identifiers, rows, strict=True)
            ],
        }


def open_gatekeeper(config: Config, environ: Mapping[str, str] | None = None) -> Gatekeeper:
    """The vault's read side, the audit log and the API keys, as the config describes them."""
    if config.vault is None:
        raise ConfigError("there is no `vault:` section, so there is nothing to reveal or erase")
    store = open_store(config.vault, environ)
    vault = Vault(
        store, open_keyring(config.vault, environ),
        vault_token_keys(config, load_keys(config, environ)),
    )  # fmt: skip
    audit = open_audit_log(config.vault, store, environ)
    return Gatekeeper(vault, audit, AccessControl(config.access, environ))
