"""Normalisation before detection, with a map back to the original offsets.

Attackers and odd clients hide values from regexes with full-width digits, zero-width joiners or
percent-encoding (`john%40example.com`); terminals and CI logs wrap values in ANSI colour codes
(`\x1b[31mAKIA…\x1b[0m`, or the same spelled out as text, `\\x1b[31m`), which glue `[31m` to the
token. Detection runs on the normalised text; the span that gets replaced is the original one,
found through the offset map.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

_HEX = frozenset("0123456789abcdefABCDEF")
_ESC = "\x1b"
_CSI_8BIT = "\x9b"
# ESC spelled out in a log that escaped its control characters: `\x1b[`, `\033[`, `\u001b[`,
# `\e[`, and caret notation `^[[`.
_SPELLED_ESC = ("\\x1b[", "\\x1B[", "\\033[", "\\u001b[", "\\u001B[", "\\e[", "^[[")


@dataclass(frozen=True, slots=True)
class Normalized:
    """`text` plus, for each of its characters, the [start, end) it came from in the original."""

    text: str
    starts: tuple[int, ...] | None  # None: text is the original, offsets are the identity
    ends: tuple[int, ...] | None

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        if self.starts is None or self.ends is None:
            return start, end
        return self.starts[start], self.ends[end - 1]


def _needs_work(text: str) -> bool:
    if not text.isascii() or "%" in text or _ESC in text:
        return True
    return ("\\" in text or "^[" in text) and any(e in text for e in _SPELLED_ESC)


def _csi_end(text: str, i: int) -> int:
    """End of a control sequence whose parameters start at i: parameter bytes (`0-9;?<=>`),
    intermediate bytes (space to `/`), one final byte (`@` to `~`); 0 if it is not one."""
    n = len(text)
    while i < n and "0" <= text[i] <= "?":
        i += 1
    while i < n and " " <= text[i] <= "/":
        i += 1
    return i + 1 if i < n and "@" <= text[i] <= "~" else 0


def _escape_length(text: str, i: int) -> int:
    """How many characters the ANSI escape sequence at i spans (0: none starts here).

    CSI (`ESC [ … m`, colours and cursor moves), OSC (`ESC ] … BEL` or `ESC ] … ESC \\`,
    titles and hyperlinks), two-character escapes, and CSI spelled out as text. A lone ESC is
    dropped by itself.
    """
    char = text[i]
    if char == _CSI_8BIT:
        end = _csi_end(text, i + 1)
        return end - i if end else 1
    if char == _ESC:
        following = text[i + 1 : i + 2]
        if following == "[":
            end = _csi_end(text, i + 2)
            return end - i if end else 1
        if following == "]":
            bell, st = text.find("\x07", i + 2), text.find(_ESC + "\\", i + 2)
            ends = [e + 1 for e in (bell,) if e >= 0] + [e + 2 for e in (st,) if e >= 0]
            return min(ends) - i if ends else 1
        if following and following in "()*+" and i + 2 < len(text):
            return 3  # character set designation: `ESC ( B` (what `tput sgr0` prints)
        return 2 if following and following in "78=>cDEHMNOPVWXZ\\^_" else 1
    for spelled in _SPELLED_ESC:
        if text.startswith(spelled, i):
            # Spelled out, only colours and line clearing count: `\e[1]` may be a path.
            end = _csi_end(text, i + len(spelled))
            return end - i if end and text[end - 1] in "mKJ" else 0
    return 0


def _percent_byte(text: str, i: int) -> str | None:
    """The printable ASCII character `%XX` at i encodes, or None."""
    if i + 2 < len(text) and text[i + 1] in _HEX and text[i + 2] in _HEX:
        code = int(text[i + 1 : i + 3], 16)
        if 0x20 <= code < 0x7F:
            return chr(code)
    return None


def normalize(text: str) -> Normalized:
    """NFKC per character, format characters (zero-width, bidi marks) and ANSI escape sequences
    dropped, `%XX` decoded."""
    if not _needs_work(text):
        return Normalized(text, None, None)
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "%" and i + 2 < n and (decoded := _percent_byte(text, i)) is not None:
            out.append(decoded)
            starts.append(i)
            ends.append(i + 3)
            i += 3
            continue
        if char in "\x1b\x9b\\^" and (skip := _escape_length(text, i)):
            i += skip
            continue
        if unicodedata.category(char) == "Cf":
            i += 1
            continue
        piece = unicodedata.normalize("NFKC", char) if not char.isascii() else char
        for produced in piece:
            out.append(produced)
            starts.append(i)
            ends.append(i + 1)
        i += 1
    if not out:
        return Normalized("", (), ())
    return Normalized("".join(out), tuple(starts), tuple(ends))
