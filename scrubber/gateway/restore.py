"""Tokens back to values in answers, only those this request (or conversation) minted.

A `TokenBook` maps the tokens of one scope to their values: nothing else can be restored, so a
token pasted by a client from elsewhere goes back as it came (no confused deputy). `Restorer`
replaces the book's tokens in a whole string; `StreamRestorer` does it for a string that arrives
in pieces, holding back only a tail that could still become one of the book's tokens (at most
one token's length), so everything else is forwarded at once.

Tolerated forms (what models do to `<PERSON_1a2b3c4d>`): brackets dropped (both or either) and
any letter case (`person_1A2B3C4D`). A bracketless form must stand alone: `XPERSON_1a2b3c4d` or
`PERSON_1a2b3c4d9` is not the token.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable

Escape = Callable[[str], str]
_WORD = "0-9A-Za-z_"


def plain(value: str) -> str:
    return value


def json_escaped(value: str) -> str:
    """The value as it must appear inside a JSON string (tool-call arguments stay valid JSON)."""
    return json.dumps(value, ensure_ascii=False)[1:-1]


def _is_word(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char == "_")


class TokenBook:
    """token -> value for one scope; keyed by the token's body in lower case (`person_1a2b3c4d`)."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}

    def add(self, token: str, value: str) -> None:
        self._values[token.strip("<>").lower()] = value

    def update(self, other: TokenBook) -> None:
        self._values.update(other._values)

    def value(self, body: str) -> str | None:
        return self._values.get(body.lower())

    def bodies(self) -> list[str]:
        return list(self._values)

    def items(self) -> list[tuple[str, str]]:
        return list(self._values.items())

    def __len__(self) -> int:
        return len(self._values)


# Any `token` operator output (`<TYPE_hex>`, 8 to 32 hex characters), in every tolerated form;
# compiled once. A match restores only if its body is in the book (`Restorer.matches`).
_SHAPE = re.compile(
    rf"(?:<|(?<![{_WORD}]))(?P<body>[A-Za-z][{_WORD}]*_[0-9A-Fa-f]{{8,32}})(?:>|(?![{_WORD}]))"
)


class Restorer:
    """The book's tokens, for one answer."""

    def __init__(self, book: TokenBook) -> None:
        self.book = book
        self.restored = 0  # tokens replaced so far (a metric)
        self._bodies = book.bodies()
        self.pattern: re.Pattern[str] | None = _SHAPE if self._bodies else None
        self.longest = max((len(body) + 2 for body in self._bodies), default=0)

    @functools.cached_property
    def prefixes(self) -> frozenset[str]:
        """Every prefix of `<body>` and `body>` (streams only: what may still become a token)."""
        forms = [f"<{body}>" for body in self._bodies] + [f"{body}>" for body in self._bodies]
        return frozenset(form[:n] for form in forms for n in range(1, len(form) + 1))

    def matches(self, text: str, start: int = 0) -> list[re.Match[str]]:
        """The book's tokens in `text[start:]` (a token-shaped text of no book is not one)."""
        if self.pattern is None:
            return []
        value = self.book.value
        return [m for m in self.pattern.finditer(text, start) if value(m.group("body"))]

    def restore(self, text: str, escape: Escape = plain) -> str:
        if self.pattern is None or not text:
            return text
        return self.replace_span(text, 0, len(text), self.matches(text), escape)

    def replace_span(
        self, text: str, start: int, stop: int, matches: list[re.Match[str]], escape: Escape
    ) -> str:
        pieces, cursor = [], start
        for match in matches:
            if match.end() > stop:
                break
            value = self.book.value(match.group("body"))
            if value is None:  # cannot happen: the pattern holds only the book's bodies
                continue
            pieces += [text[cursor : match.start()], escape(value)]
            cursor = match.end()
            self.restored += 1
        pieces.append(text[cursor:stop])
        return "".join(pieces)

    def could_start(self, text: str, index: int) -> bool:
        """`text[index:]` could still grow into one of the book's tokens."""
        tail = text[index:].lower()
        if tail not in self.prefixes:
            return False
        return tail[0] == "<" or index == 0 or not _is_word(text[index - 1])


class StreamRestorer:
    """One streamed string (a message's content, one tool call's arguments): `feed` each piece,
    `flush` at its end. What is returned is final: concatenated, it equals restoring the whole."""

    def __init__(self, restorer: Restorer, escape: Escape = plain) -> None:
        self._restorer = restorer
        self._escape = escape
        self._held = ""
        self._before = ""  # the last character already emitted (for the left boundary)

    @property
    def held(self) -> str:
        return self._held

    def feed(self, piece: str) -> str:
        restorer = self._restorer
        if restorer.pattern is None:
            return piece
        text = self._before + self._held + piece
        base = len(self._before)
        matches = restorer.matches(text, base)
        cut = len(text)
        last_end = matches[-1].end() if matches else base
        if matches and last_end == len(text) and not text.endswith(">"):
            cut = matches[-1].start()  # complete, but a `>` or a letter may still follow
        else:
            for index in range(max(last_end, len(text) - restorer.longest), len(text)):
                if restorer.could_start(text, index):
                    cut = index
                    break
        out = restorer.replace_span(text, base, cut, matches, self._escape)
        if cut > base:
            self._before = text[cut - 1]
        self._held = text[cut:]
        return out

    def flush(self) -> str:
        """The rest (a token cut off by the end of the stream goes out as the text it is)."""
        if not self._held:
            return ""
        text = self._before + self._held
        base = len(self._before)
        restorer = self._restorer
        matches = restorer.matches(text, base)
        self._held = ""
        return restorer.replace_span(text, base, len(text), matches, self._escape)
