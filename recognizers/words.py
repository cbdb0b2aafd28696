"""Words as the proper-noun pass reads them: one regex scan finds them, one memo says what they are.

Log lines and prose repeat the same few thousand words, so what a word is (its case shape, whether
it is English, a census given name or surname) is worked out once per distinct spelling and shared
by every token that spells it: a token is its offsets, that `Word`, and whether a sentence starts
there. Word lists come from installed packages (`english-words`: Webster's lower-case entries plus
spaCy's stop words; `names`: US census given names and surnames; `wordfreq`: how common a word
is), so nothing is fetched at run time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TypeVar

from spacy.lang.en.stop_words import STOP_WORDS

from recognizers.places import city_names

_LEADING = "\"'(“‘<>["
_TRAILING = "\"')”’,!?;:>]"
# A whitespace-separated chunk that, its surrounding punctuation aside, is a word (`"O'Neill,"`,
# `Mr.`, `Al-Farsi`). The lookarounds keep the match to whole chunks, so IDs, numbers and paths
# are skipped by the same C scan instead of being cut and tested one by one in Python.
_TOKEN = re.compile(
    rf"(?<!\S)[{re.escape(_LEADING)}]*([^\W\d_]+(?:['’-][^\W\d_]+)*\.?)[{re.escape(_TRAILING)}]*(?!\S)"
)
_SENTENCE_END = frozenset(".!?:;\"'“”()[]\n>")
_SUFFIXES = (
    ("ies", ("y",)), ("ied", ("y",)), ("es", ("", "e")), ("s", ("",)), ("ed", ("", "e")),
    ("ing", ("", "e")), ("er", ("", "e")), ("ers", ("", "e")), ("ly", ("",)), ("d", ("",)),
)  # fmt: skip
# CamelCase identifiers (`TaskAttempt`, `DFSClient`) are code, not names, but McDonald is a name.
_NAME_PREFIX = re.compile(r"^(?:Mc|Mac|O'|D'|Di|De|La|Le|Van)[A-Z][a-z]")
_FREQUENT_ZIPF = 4.5
# A word met at least once in 100,000 English words (`wisdom`, `suite`, `loop`): when such a word
# is also a surname the census seldom sees, the word is the likelier reading.
_COMMON_ZIPF = 4.0
_COMMON_SURNAME_RANK = 1000
STOP_WORDS_AND_I = frozenset(STOP_WORDS) | {"i"}
# Everyday words of software and chat that an old dictionary lacks but that are not names.
_MODERN_WORDS = frozenset(
    """
    email e-mail online offline app apps login logout website internet web browser smartphone
    laptop wifi password username ok okay hi hello hey thanks thx pls please api apis json yaml
    http https url urls sql database server cloud github gitlab google slack zoom teams docker
    kubernetes linux windows android iphone ios macos chatgpt openai gpt llm ai bot chatbot
    etc eg ie vs regards cheers dear sincerely asap fyi btw nan lifecycle workflow metadata
    backend frontend timestamp hostname localhost plugin plugins runtime middleware auth oauth
    kerberos ldap ssl tls ssh cpu gpu bios config configs dentry inode init inited async sync
    admin sysadmin devops webhook webhooks repo repos namespace daemon daemons cron tmp
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat sun
    bye info fax tel faq debug
    monday tuesday wednesday thursday friday saturday sunday january february march april may
    june july august september october november december
    """.split()
)
# Bounds on the memos: unique ids and hashes pass here too, and a worker runs for weeks.
_MEMO_WORDS = 100_000
_V = TypeVar("_V")


@cache
def _lexicon() -> frozenset[str]:
    from english_words import get_english_words_set

    words = get_english_words_set(["web2"], lower=False, alpha=True)
    return frozenset(w for w in words if w.islower()) | _MODERN_WORDS | STOP_WORDS_AND_I


def _census(name: str) -> frozenset[str]:
    text = resources.files("names").joinpath(name).read_text("ascii")
    return frozenset(line.split(" ", 1)[0].lower() for line in text.splitlines() if line)


@cache
def _given_names() -> frozenset[str]:
    return _census("dist.female.first") | _census("dist.male.first")


def given_names() -> frozenset[str]:
    """The census given names, lower-case."""
    return _given_names()


@cache
def _surnames() -> frozenset[str]:
    return _census("dist.all.last")


@cache
def _common_surnames() -> frozenset[str]:
    """The census's 1,000 most frequent surnames (`Jackson`, `Houston`): a city of that name is
    as likely a person, and is left to the model; `Boston` (rank 1,946) is read as the city."""
    text = resources.files("names").joinpath("dist.all.last").read_text("ascii")
    rows = (line.split() for line in text.splitlines() if line)
    return frozenset(row[0].lower() for row in rows if int(row[3]) <= _COMMON_SURNAME_RANK)


def _frequent(word: str, zipf: float = _FREQUENT_ZIPF) -> bool:
    """A word used so often in English (`will`, `may`, `smith`) that as a name it proves nothing."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en") >= zipf


def _stems(word: str) -> list[str]:
    """Candidate dictionary forms of an inflected word: `retrying` -> `retry`."""
    stems = [word]
    for suffix, replacements in _SUFFIXES:
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            base = word[: -len(suffix)]
            stems += [base + r for r in replacements]
            if len(base) > 2 and base[-1] == base[-2]:
                stems.append(base[:-1])  # stopped -> stop
    return stems


def is_capitalised(word: str) -> bool:
    """`Maria`, `McDonald`, `O'Connor`, and each part of `Al-Farsi` or `Smith-Jones`."""
    if "-" in word:
        return all(part and is_capitalised(part) for part in word.split("-"))
    if not word[0].isupper() or word.isupper():
        return False
    return sum(c.isupper() for c in word) == 1 or _NAME_PREFIX.match(word) is not None


def _remembered(memo: dict[str, _V], key: str, compute: Callable[[str], _V]) -> _V:
    known = memo.get(key)
    if known is None:
        if len(memo) >= _MEMO_WORDS:
            memo.clear()
        known = memo[key] = compute(key)
    return known


@dataclass(frozen=True, slots=True)
class Word:
    """What a word is wherever it stands (a `Token` adds where)."""

    text: str
    lowered: str
    bare: str  # lowered, without a final full stop: `mr.` -> `mr`
    capitalised: bool
    letter: bool  # an initial: `J.`, `R`
    english: bool
    given: bool  # a census given name
    surname: bool  # a census surname
    word_first: bool  # a common English word and a rare surname (`Wisdom`): no name alone
    evidence: bool  # name-like alone, mid-sentence
    evidence_at_start: bool  # name-like alone, as a sentence's first word
    unenglish_census: bool  # a census name that is no English word (`Emma`, not `Clock`)
    city: bool  # a city's one-word name, no English word, no given name (`Chicago`, `Boston`)


@dataclass(slots=True)
class Token:
    start: int
    end: int
    word: Word
    initial: bool  # first word of a sentence or line


class Vocabulary:
    """The word lists and the memos over them; one per recognizer."""

    def __init__(self) -> None:
        self.common = _lexicon()
        self.given = _given_names()
        self.surnames = _surnames()
        self.common_surnames = _common_surnames()
        self.cities = city_names() - _common_surnames()
        self._english: dict[str, bool] = {}
        self._words: dict[str, Word] = {}

    def is_english(self, lowered: str) -> bool:
        return _remembered(self._english, lowered, self._is_english)

    def _is_english(self, lowered: str) -> bool:
        head = re.split(r"['’]", lowered.rstrip("."), maxsplit=1)[0]  # it's, don't, o'clock
        parts = [p for p in head.split("-") if p]  # re-created, auto-detected
        return bool(parts) and all(any(s in self.common for s in _stems(p)) for p in parts)

    def word(self, text: str) -> Word:
        return _remembered(self._words, text, self._describe)

    def _describe(self, text: str) -> Word:
        lowered = text.lower()
        bare = lowered.rstrip(".")
        english = self.is_english(bare)
        given, surname = bare in self.given, bare in self.surnames
        word_first = (
            surname
            and not given
            and bare in self.common
            and bare not in self.common_surnames
            and _frequent(bare, _COMMON_ZIPF)
        )
        census = given or (surname and not word_first)
        long_enough = len(bare) >= 2
        return Word(
            text=text,
            lowered=lowered,
            bare=bare,
            capitalised=is_capitalised(text),
            letter=len(text.rstrip(".")) == 1 and text[0].isupper(),
            english=english,
            given=given,
            surname=surname,
            word_first=word_first,
            # A census name counts unless it is a frequent English word too (`Will`, `Smith`);
            # at a sentence start an English word is capitalised for the sentence's sake.
            evidence=long_enough
            and (not english or (census and not (bare in self.common and _frequent(bare)))),
            evidence_at_start=long_enough and not english,
            unenglish_census=census and not english,
            city=not english and not given and bare in self.cities,
        )

    def tokens(self, text: str) -> list[Token]:
        """The words of `text`, in order, with surrounding punctuation removed."""
        tokens = []
        known = self._words
        for match in _TOKEN.finditer(text):
            start, end = match.span(1)
            before = start - 1
            while before >= 0 and text[before] in " \t":
                before -= 1
            initial = before < 0 or text[before] in _SENTENCE_END
            spelled = match.group(1)
            word = known.get(spelled) or self.word(spelled)  # the memo's hit, without a call
            tokens.append(Token(start, end, word, initial))
        return tokens


class Keywords:
    """Where some words occur in a text in any case, overlapping ones too.

    An ASCII text is lowered and searched with `str.find` (C speed); any other one with an
    IGNORECASE pattern, as the phrases are (it matches the long s for `s`, where lowering does not).
    """

    def __init__(self, *words: str) -> None:
        self._words = words
        self._pattern = re.compile("(?=(" + "|".join(words) + "))", re.IGNORECASE)

    def spans(self, text: str) -> list[tuple[int, int]]:
        if not text.isascii():
            return [(m.start(), m.start() + len(m.group(1))) for m in self._pattern.finditer(text)]
        lowered = text.lower()
        spans = []
        for word in self._words:
            at = lowered.find(word)
            while at >= 0:
                spans.append((at, at + len(word)))
                at = lowered.find(word, at + 1)
        return spans

    def in_(self, text: str) -> bool:
        if not text.isascii():
            return self._pattern.search(text) is not None
        lowered = text.lower()
        return any(word in lowered for word in self._words)


def _letters(case: Callable[[str], bool]) -> str:
    """The letters of one case in the cased scripts (Latin with its extensions, Greek, Cyrillic,
    Armenian), escaped for a character class: names come from every region, not only ASCII."""
    ranges = (range(0x41, 0x590), range(0x1E00, 0x2000))
    return re.escape("".join(c for r in ranges for c in map(chr, r) if c.isalpha() and case(c)))


@dataclass(frozen=True, slots=True)
class _Shapes:
    """The gate's patterns over one alphabet (ASCII texts get the small, faster classes)."""

    capitalised_word: re.Pattern[str]
    lowercase_words: re.Pattern[str]
    shouted_word: re.Pattern[str]
    lowercase_word: re.Pattern[str]

    @staticmethod
    def of(upper: str, lower: str) -> _Shapes:
        return _Shapes(
            re.compile(rf"(?:^|[\s\"'(>])[{upper}][{lower}]+"),
            # Chat written without capitals: four or more lower-case words in a row (`i'm from
            # kiel`, `mika: "who are you?"`).
            re.compile(rf"(?:^|\s)[{lower}]+(?:[\s,'’:\"]+[{lower}]+){{3,}}"),
            # A word in capitals (`HARSTAD`) beside a lower-case one: a shouted name, unless it
            # is an English word (`INFO`, `DEBUG`, `ALERT` open log lines).
            re.compile(rf"(?:^|\s)([{upper}]{{4,}})(?=[\s,.!?;:]|$)"),
            re.compile(rf"(?:^|\s)[{lower}][{lower}'’]+[\s,.!?;:\"]"),
        )


_ASCII_SHAPES = _Shapes.of("A-Z", "a-z")
_SHAPES = _Shapes.of(_letters(str.isupper), _letters(str.islower))


def may_hold_names(text: str) -> bool:
    """A cheap test: could this string hold a person's name or a place? A capitalised word in
    any cased script, a run of lower-case words (chat is often written that way), or a word in
    capitals that is no English word among lower-case words. Identifiers, numbers, timestamps
    and enums rarely read so."""
    if len(text) < 3 or " " not in text.strip():
        return False
    shapes = _ASCII_SHAPES if text.isascii() else _SHAPES
    if shapes.capitalised_word.search(text) or shapes.lowercase_words.search(text):
        return True
    shouted = (m.group(1).lower() for m in shapes.shouted_word.finditer(text))
    if not any(not _gate_vocabulary().is_english(word) for word in shouted):
        return False
    return shapes.lowercase_word.search(text) is not None


@cache
def _gate_vocabulary() -> Vocabulary:
    return Vocabulary()


_CODE_CHARS = "=[]{}<|/\\_@#$%^*~`"


def prose_shaped(text: str, tokens: list[Token]) -> bool:
    """Sentences rather than log or code syntax: mostly letters, few code characters."""
    if len(tokens) < 3:
        return False
    letters = sum(t.end - t.start for t in tokens)
    code = sum(map(text.count, _CODE_CHARS))
    visible = sum(map(len, text.split()))  # str.split() splits where str.isspace() holds
    return code <= max(1, len(text) // 50) and letters >= 0.6 * visible
