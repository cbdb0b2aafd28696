"""The request path's scrubbing: every slot of a request in one `scrub_batch`, on the engine's
one thread, within a deadline; the tokens it minted noted in a `TokenBook`; blocked types and
failed records refuse the whole request (fail closed: nothing is forwarded).

Tokens are the keyed `token` operator's, in the gateway's own scope, so the same value gets the
same token in every request and replica. Which token stands for which value is noted as the
engine mints it (`_noting`), not recomputed: exactly the tokens in the forwarded request.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from scrubber.config.gateway import GatewayConfig
from scrubber.engine import Scrubber
from scrubber.engine.policy import Action
from scrubber.gateway.messages import Slot
from scrubber.gateway.restore import TokenBook
from scrubber.models import Outcome, RecordResult

GATEWAY_SCOPE = "gateway"


class Refusal(Exception):
    """The request is not forwarded: `status`, a code and a message for the client."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Scrubbed:
    book: TokenBook  # the tokens this request minted
    counts: dict[str, int]  # findings by entity type


def _noting(action: Action, note: Callable[[str, str], None]) -> Action:
    if action.operator != "token":
        return action
    inner = action.transform

    def transform(value: str, entity_type: str) -> str:
        token = inner(value, entity_type)
        note(token, value)
        return token

    return Action(action.operator, transform)


class RequestScrubber:
    """One engine, one thread (the engine is not thread-safe), a deadline per request."""

    def __init__(self, engine: Scrubber, config: GatewayConfig) -> None:
        self._engine = engine
        self._config = config
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="gateway-engine")
        self._minted = TokenBook()
        # The scope's operators, wrapped so each token the engine mints is noted with its value.
        scoped = engine.policy.scoped(GATEWAY_SCOPE)
        scoped._default = _noting(scoped._default, self._note)
        scoped._by_entity = {k: _noting(v, self._note) for k, v in scoped._by_entity.items()}
        for rule in scoped._rules:
            rule.action = _noting(rule.action, self._note)

    def _note(self, token: str, value: str) -> None:
        self._minted.add(token, value)

    def _work(self, texts: list[str]) -> tuple[list[RecordResult], TokenBook]:
        self._minted = TokenBook()
        results = self._engine.scrub_batch(texts, "auto", GATEWAY_SCOPE)
        return results, self._minted

    async def scrub(self, slots: Sequence[Slot]) -> Scrubbed:
        """Scrub the slots in place, or raise Refusal (and leave the request unforwarded)."""
        if not slots:
            return Scrubbed(TokenBook(), {})
        texts = [slot.text() for slot in slots]
        future = self._thread.submit(self._work, texts)
        try:
            results, book = await asyncio.wait_for(
                asyncio.wrap_future(future), self._config.timeouts.scrub_seconds
            )
        except TimeoutError:
            message = "scrubbing took longer than gateway.timeouts.scrub_seconds"
            raise Refusal(503, "scrub_deadline", f"{message}; nothing was forwarded") from None
        except Exception as exc:  # fail closed, whatever went wrong inside the engine
            raise Refusal(503, "scrub_failed", "the request could not be scrubbed "
                          f"({type(exc).__name__}); nothing was forwarded") from None  # fmt: skip
        counts: dict[str, int] = {}
        for result in results:
            if result.outcome is not Outcome.OK:
                reason = result.reason.value if result.reason else "unknown"
                status = 503 if reason == "vault_unavailable" else 400
                raise Refusal(status, "scrub_failed",
                              f"a text field could not be scrubbed ({reason}); "
                              "nothing was forwarded")  # fmt: skip
            for name, count in result.entity_counts.items():
                counts[name] = counts.get(name, 0) + count
        if blocked := sorted(set(counts) & set(self._config.block)):
            raise Refusal(400, "blocked", f"the request contains {', '.join(blocked)}, which "
                          "this gateway does not forward (gateway.block)")  # fmt: skip
        for slot, result in zip(slots, results, strict=True):
            slot.write(result.output)
        return Scrubbed(book, counts)


class Conversations:
    """The tokens minted in each conversation, so a later turn restores them. A conversation is
    (client credential, id): another key naming the same id is another conversation. Forgotten
    `ttl` seconds after its last turn, and the least recent first beyond `max_entries`."""

    def __init__(
        self, ttl: float, max_entries: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._books: OrderedDict[str, tuple[TokenBook, float]] = OrderedDict()

    @staticmethod
    def key(credential: str, conversation: str) -> str:
        return hashlib.sha256(f"{credential}\x00{conversation}".encode()).hexdigest()

    def book(self, key: str) -> TokenBook:
        now = self._clock()
        found = self._books.get(key)
        book = found[0] if found is not None and now - found[1] < self._ttl else TokenBook()
        self._books[key] = (book, now)
        self._books.move_to_end(key)
        while len(self._books) > self._max:
            self._books.popitem(last=False)
        return book

    def __len__(self) -> int:
        return len(self._books)
