"""Structured text: the key-value slots of a text record, so keys can say what values are.

A text line may be logfmt (`k=v k2="quoted \\"value\\""`), `key: value` pairs (`Password:
hunter2`, one or more per line), an HTTP query string (`?email=jane%40example.com&token=...`,
also a bare `a=1&b=2` token), a cookie header (`Cookie: session=...; uid=...`), an RFC 5424
syslog line with structured data (`[exampleSDID@32473 iut="3"]`) or an Apache/nginx combined
log line. `text_slots(text)` finds each value and where it sits; the engine applies field rules
and key hints to them as to JSON leaves, while the whole line is still scanned as text, so what
the structure does not cover (a message, a prefix) is read as before.

Parsing never fails a record: a shape that does not match gives no slots, and the line is plain
text. Cheap substring tests route a line before any parser runs (`=`, `: `, `<`, `] "`); every
parser is a linear scan (no pattern here can backtrack without bound).

Slots may nest (a query string inside a logfmt value or a combined log's request line); when
two parsers claim overlapping spans that do not nest, the earlier parser wins: syslog and
combined log fields, cookies, query parameters, logfmt, then `key: value` pairs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, unquote_plus

# How a replacement is written into the value's place so the format stays parseable.
Quoting = Literal["plain", "bare", "dquote", "sd", "url"]

MAX_STRUCTURED_CHARS = 65_536  # longer texts are scanned as plain text only
MAX_SLOTS = 256
_KEY = r"[A-Za-z_][\w.\-]*+"
_KEY_AFTER = frozenset(" \t\r\n\f\v;,([{|")
_QUOTED_VALUE = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_BARE_VALUE = re.compile(r'[^\s"]*')
_BARE_TRAILING = ".,;)]}'"
_OPENERS = {")": "(", "]": "[", "}": "{"}
_AMP_PAIR = re.compile(r"&[\w.\-%\[\]]+=")
_QUERY_KEY = re.compile(r"[\w.\-%\[\]]+")
_QUERY_END = frozenset(" \t\r\n\"'#<>")
_PAIR_WORDS = r"[A-Za-z][\w.\-]*+(?: [A-Za-z][\w.\-]*+){0,2}"
_PAIR_KEY = re.compile(rf"[ \t]*+(?:[-*>][ \t]++)?({_PAIR_WORDS}):[ \t]++(?=\S)")
# What ends a pair's value: another pair after a separator, or a logfmt `key=` after a space.
# Runs of blanks are entered at their first character only, so a search stays linear.
_NEXT_PAIR = re.compile(
    rf"(?:[;,|][ \t]++|(?<![ \t])(?:\t|  )[ \t]*+)(?P<key>{_PAIR_WORDS}):[ \t]++(?=\S)"
    rf"|(?<![ \t])[ \t]++{_KEY}="
)
_SCALAR_WORDS = 4  # a `key: value` pair with more words is a sentence, not a field value
_SET_COOKIE_ATTRIBUTES = frozenset(
    "path domain expires max-age samesite secure httponly partitioned priority".split()
)
_SYSLOG_HEADER = re.compile(r"<\d{1,3}>\d{1,2} \S+ \S+ \S+ \S+ \S+ ")
_SD_ID = re.compile(r'[^\s=\]"]+')
_SD_PARAM = re.compile(r' ([^\s=\]"]+)="((?:[^"\\\]]|\\.)*)"')
_QUOTED = r'"((?:[^"\\\n]|\\.)*)"'
_COMBINED = re.compile(
    rf"(\S+) (\S+) (\S+) \[[^\]\n]+\] {_QUOTED} \d{{3}} (?:\d+|-)(?: {_QUOTED} {_QUOTED})?"
)
_COMBINED_FIELDS: tuple[tuple[str, Quoting, str | None], ...] = (
    ("remote_addr", "bare", None), ("remote_ident", "bare", "USERNAME"),
    ("remote_user", "bare", "USERNAME"), ("request", "dquote", None),
    ("http_referer", "dquote", None), ("http_user_agent", "dquote", None),
)  # fmt: skip
_BARE_UNSAFE = re.compile(r'[\s"=;,]')


@dataclass(slots=True)
class Slot:
    """One value of a structured line: its key, its field path, and where it is in the line."""

    key: str  # as written (percent-decoded for query strings)
    path: str  # for field rules: `password`, `cookie.session`, `query.email`, `sdid@1.iut`
    start: int  # the value's [start, end) in the line, inside any quotes
    end: int
    quoting: Quoting
    hint: str | None = None  # an entity type the format itself gives (a cookie, the CLF user)
    scalar: bool = True  # reads as a field value, so a key hint may decide it
    key_start: int = -1  # where the key is written (-1: a positional field has none)

    def value(self, text: str) -> str:
        return text[self.start : self.end]


def text_slots(text: str) -> list[Slot]:
    """Every slot of a structured text, outer before inner; [] for plain text."""
    if len(text) > MAX_STRUCTURED_CHARS or not (
        "=" in text or ": " in text or ":\t" in text or text.startswith("<") or '] "' in text
    ):
        return []
    try:
        return _accept(_candidates(text))
    except Exception:  # never lose a record to a parser: it is plain text then
        return []


def _candidates(text: str) -> list[Slot]:
    """Each parser's slots, in the order that decides overlaps; a parser runs only when the
    text holds what its shape needs."""
    found: list[Slot] = []
    if text.startswith("<"):
        found += syslog_slots(text)
    if '] "' in text:
        found += combined_slots(text)
    pairs: list[Slot] = []
    if (": " in text or ":\t" in text) and _may_open_with_pair(text):
        pairs, cookies = pair_slots(text)
        found += cookies
    if "=" in text:
        if "?" in text or "&" in text:
            found += query_slots(text)
        found += logfmt_slots(text)
    return found + pairs


def _may_open_with_pair(text: str) -> bool:
    """A cheap test before the pair parser: a one-line text can hold pairs only if its first
    `:` ends a key of at most three words at its start (a key has no `:` in it)."""
    if "\n" in text:
        return True
    colon = text.find(":")
    if colon < 0 or text[colon + 1 : colon + 2] not in (" ", "\t"):
        return False
    head = text[:colon].lstrip(" \t")
    if head[:1] in ("-", "*", ">"):
        head = head[1:].lstrip(" \t")
    return head.count(" ") <= 2


def _accept(candidates: list[Slot]) -> list[Slot]:
    """Earlier parsers win: a later slot is kept only if it nests with, or is apart from, each
    slot kept so far (the same span twice is one slot)."""
    last_end = 0
    for slot in candidates:  # the common case: one parser's slots, in order and apart
        if slot.start < last_end or slot.end <= slot.start:
            break
        last_end = slot.end
    else:
        return candidates[:MAX_SLOTS]
    candidates = [c for c in candidates[: MAX_SLOTS * 4] if c.start < c.end]
    kept: list[Slot] = []
    for slot in candidates:
        if all(_compatible(slot, other) for other in kept):
            kept.append(slot)
            if len(kept) >= MAX_SLOTS:
                break
    kept.sort(key=lambda s: (s.start, -s.end))
    return kept


def _compatible(a: Slot, b: Slot) -> bool:
    if a.end <= b.start or b.end <= a.start:
        return True
    if (a.start, a.end) == (b.start, b.end):
        return False
    return (a.start <= b.start and b.end <= a.end) or (b.start <= a.start and a.end <= b.end)


def logfmt_slots(text: str) -> list[Slot]:
    """`key=value` and `key="quoted \\"value\\""` pairs anywhere in the text (mixed lines too:
    `INFO auth user=jane login ok`). A key starts the text or follows a blank or one of `;,([{|`
    (`environment:user.name=x` has none). Empty and unterminated values give no slot.

    Driven by `str.find("=")`, so a line costs one pass in C plus a little per `=`."""
    slots = []
    floor = 0  # keys never reach back into a value already read
    at = text.find("=")
    while at >= 0:
        start = at
        while start > floor and (text[start - 1].isalnum() or text[start - 1] in "_.-"):
            start -= 1
        resume = at + 1
        first = text[start] if start < at else ""
        if (
            first
            and (first == "_" or "a" <= first.lower() <= "z")
            and (start == 0 or text[start - 1] in _KEY_AFTER)
        ):
            key = text[start:at]
            if text.startswith('"', at + 1):
                quoted = _QUOTED_VALUE.match(text, at + 1)
                if quoted is not None:  # an unterminated quote gives no slot
                    slots.append(
                        Slot(key, key, at + 2, quoted.end() - 1, "dquote", key_start=start)
                    )
                    resume = floor = quoted.end()
            else:
                bare = _BARE_VALUE.match(text, at + 1)
                begin, stop = at + 1, (at + 1 if bare is None else bare.end())
                resume = floor = stop
                end = stop
                if text.find("&", begin, stop) >= 0:  # `a=1&b=2`: a query string from `&` on
                    amp = _AMP_PAIR.search(text, begin, stop)
                    end = stop if amp is None else amp.start()
                if end > begin and text[end - 1] in _BARE_TRAILING:
                    end = begin + _trimmed(text[begin:end])
                if end > begin:
                    slots.append(Slot(key, key, begin, end, "bare", key_start=start))
        at = text.find("=", resume)
    return slots


def _trimmed(value: str) -> int:
    """The length of a bare value without the punctuation that ends its sentence or bracket
    (`uid=0,`, `(user=root)`); a closer whose opener is in the value stays (`${VAR}`)."""
    end = len(value)
    while end > 0 and value[end - 1] in _BARE_TRAILING:
        closer = value[end - 1]
        opener = _OPENERS.get(closer)
        if opener is not None and value.count(opener, 0, end) >= value.count(closer, 0, end):
            break
        end -= 1
    return end


def query_slots(text: str) -> list[Slot]:
    """Parameters of query strings: after a `?` in a URL or path, or a bare `a=1&b=2` token."""
    slots: list[Slot] = []
    n = len(text)
    i = 0
    while i < n:
        question = text.find("?", i)
        token_start = _bare_query_start(text, i, question)
        if token_start is None and question < 0:
            break
        begin = token_start if token_start is not None else question + 1
        end = begin
        while end < n and text[end] not in _QUERY_END:
            end += 1
        slots += _query_params(text, begin, end)
        i = max(end, begin + 1)
    return slots


def _bare_query_start(text: str, i: int, question: int) -> int | None:
    """The start of a whitespace-delimited `a=1&b=2` token before `question`, if there is one.
    A token whose start is no `key=` is passed over whole (each character is read once)."""
    limit = question if question >= 0 else len(text)
    amp = text.find("&", i, limit)
    while amp >= 0:
        start = amp
        while start > i and not text[start - 1].isspace():
            start -= 1
        key = _QUERY_KEY.match(text, start)
        if key is not None and key.end() < len(text) and text[key.end()] == "=":
            return start
        i = amp
        while i < limit and not text[i].isspace():
            i += 1
        amp = text.find("&", i, limit)
    return None


def _query_params(text: str, begin: int, end: int) -> list[Slot]:
    slots = []
    pos = begin
    while pos < end:
        amp = text.find("&", pos, end)
        stop = end if amp < 0 else amp
        key = _QUERY_KEY.match(text, pos, stop)
        if key is None or key.end() >= stop or text[key.end()] != "=":
            if pos == begin:
                return []  # not a query string at all (`?` in prose)
        elif key.end() + 1 < stop:
            name = unquote_plus(key.group())
            path = f"query.{name}"
            slots.append(Slot(name, path, key.end() + 1, stop, "url", key_start=key.start()))
        pos = stop + 1
    return slots


def pair_slots(text: str) -> tuple[list[Slot], list[Slot]]:
    """`key: value` pairs starting a line (`Password: hunter2`, `Billing address: ...`), more
    after `; `, `, `, ` | `, a tab or two spaces; and the cookies of a `Cookie:` line."""
    pairs: list[Slot] = []
    cookies: list[Slot] = []
    line_start = 0
    while line_start < len(text):
        line_end = text.find("\n", line_start)
        line_end = len(text) if line_end < 0 else line_end
        match = _PAIR_KEY.match(text, line_start, line_end)
        key, key_start, begin = ("", -1, -1)
        if match is not None:
            key, key_start, begin = match.group(1), match.start(1), match.end()
        while begin >= 0:
            lowered = key.lower()
            cookie = lowered in ("cookie", "set-cookie")  # its `a=b; c=d` runs to the line end
            following = None
            if not cookie and (
                text.find(":", begin, line_end) >= 0 or text.find("=", begin, line_end) >= 0
            ):
                following = _NEXT_PAIR.search(text, begin, line_end)
            end = line_end if following is None else following.start()
            while end > begin and (text[end - 1].isspace() or text[end - 1] in ",;|"):
                end -= 1
            if cookie:
                cookies += _cookies(text, begin, end, lowered == "set-cookie")
            elif end > begin:
                words = len(text[begin:end].split())
                scalar = words <= _SCALAR_WORDS
                pairs.append(Slot(key, key, begin, end, "plain", None, scalar, key_start))
            if following is None or following.group("key") is None:
                break  # the end of the line, or logfmt from here on
            key, key_start, begin = following.group("key"), following.start("key"), following.end()
        line_start = line_end + 1
    return pairs, cookies


def _cookies(text: str, begin: int, end: int, set_cookie: bool) -> list[Slot]:
    """`name=value; name2=value2`: each value is a credential unless its name says otherwise.
    A `Set-Cookie` line's attributes (`Path=/`, `Expires=...`) are not values."""
    slots = []
    pos = begin
    first = True
    while pos < end:
        semi = text.find(";", pos, end)
        stop = end if semi < 0 else semi
        piece = text[pos:stop]
        eq = piece.find("=")
        name = piece[:eq].strip() if eq > 0 else ""
        attribute = set_cookie and not first and name.lower() in _SET_COOKIE_ATTRIBUTES
        if name and not attribute:
            value_start = pos + eq + 1
            value_end = stop
            while value_end > value_start and text[value_end - 1].isspace():
                value_end -= 1
            if text[value_start:value_end].startswith('"') and value_end - value_start >= 2:
                value_start, value_end = value_start + 1, value_end - 1
            path = f"cookie.{name}"
            name_start = pos + len(piece) - len(piece.lstrip())
            slot = Slot(name, path, value_start, value_end, "bare", "SECRET", True, name_start)
            slots.append(slot)
        first = False
        pos = stop + 1
    return slots


def syslog_slots(text: str) -> list[Slot]:
    """RFC 5424 structured data: `<PRI>1 TS HOST APP PROCID MSGID [id k="v" ...][id2 ...]`.
    Parameters are slots with path `id.k`; an element that does not close ends the parse."""
    header = _SYSLOG_HEADER.match(text)
    if header is None:
        return []
    slots = []
    pos = header.end()
    while pos < len(text) and text[pos] == "[":
        sd_id = _SD_ID.match(text, pos + 1)
        if sd_id is None:
            break
        found = []
        cursor = sd_id.end()
        while (param := _SD_PARAM.match(text, cursor)) is not None:
            name = param.group(1)
            path = f"{sd_id.group()}.{name}"
            found.append(
                Slot(name, path, param.start(2), param.end(2), "sd", key_start=param.start(1))
            )
            cursor = param.end()
        if cursor >= len(text) or text[cursor] != "]":
            break
        slots += found
        pos = cursor + 1
    return slots


def combined_slots(text: str) -> list[Slot]:
    """Apache/nginx combined (or common) log format: client address, identd, user, request,
    referer and user agent, named as nginx names them (`remote_addr`, `remote_user`, ...)."""
    match = _COMBINED.match(text)
    if match is None:
        return []
    slots = []
    for group, (name, quoting, hint) in enumerate(_COMBINED_FIELDS, start=1):
        if match.group(group):
            start, end = match.span(group)
            slots.append(Slot(name, name, start, end, quoting, hint=hint, scalar=group < 4))
    return slots


def escape_for(quoting: Quoting, output: str) -> str:
    """An operator's output as it must be written in a value of this quoting."""
    if quoting == "dquote":
        return output.replace("\\", "\\\\").replace('"', '\\"')
    if quoting == "sd":
        return output.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")
    if quoting == "url":
        return quote(output, safe="<>[]{}|*:@!$'(),;/~")
    if quoting == "bare":
        return _BARE_UNSAFE.sub("_", output)
    return output
