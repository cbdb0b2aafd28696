"""The proper-noun pass as it was before issue 16 (per-word Python tokenizer and lookups).

Kept only for benchmarks/bench_proper_nouns.py, which checks that the product code finds the same
things and measures both in one run. Not imported by product code.

Proper nouns in prose: names and places that a small NER model misses.

spaCy's small English model finds about two thirds of the people and a third of the places in
free text. Recall comes first, so prose strings also get a lexical pass:
- a run of capitalised words is a name when one of its words is a known given name or surname,
  or is not an English word at all (`Koskikatu`, `Szöllösy`);
- after a title (`Mr.`, `Dr.`) or a naming phrase (`my name is`, `call me`) the next words are a
  name whatever their case;
- a lower-case given name that is not also an English word (`patricia`, `roberto`) is a name;
- after a place cue (`in`, `from`, `flew to`) a word that is not English is a place, in any case
  (`NAANTALI`, `kiel`);
- digits after `zip`/`postal code` are a postcode.
Word lists come from installed packages (`english-words`: Webster's lower-case entries plus
spaCy's stop words; `names`: US census given names and surnames; `wordfreq`: how common a word
is), so nothing is fetched at run time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from spacy.lang.en.stop_words import STOP_WORDS

from recognizers.base import Finding
from recognizers.places import COUNTRIES, MULTI_WORD_COUNTRIES

_CHUNK = re.compile(r"\S+")
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*\.?")
_LEADING = "\"'(“‘<>["
_TRAILING = "\"')”’,!?;:>]"
_PARTICLES = frozenset("van von der den de del della di da dos du la le ten ter bin al el".split())
# First words of multi-word place names whose next word may be English (`new york`).
_PLACE_PREFIXES = frozenset(
    "los las san santa santo sao são new saint st port fort mount mt lake el la le".split()
)
_PLACE_CUES = frozenset("in at from to near visiting visit lives living moved based".split())
_TITLES = frozenset("mr mrs ms miss dr prof sir madam mx".split())
_NAMING = re.compile(
    r"\b(?:(?:my|his|her|their|maiden|last|first|full|\w+'s)\s+name\s+is|name:|call\s+me|"
    r"this\s+is|signed|regards,?|sincerely,?|dear)\s+$",
    re.IGNORECASE,
)
# The naming phrases that are sentences, never log syntax: they hold in any line, prose or not
# (`born on 8/5/1989. Her maiden name is Møller`). `name:` and `this is` are left to prose.
_SENTENCE_NAMING = re.compile(
    r"\b(?:(?:my|his|her|their|maiden|last|first|full|\w+'s)\s+name\s+is|call\s+me|"
    r"regards,?|sincerely,?|dear)\s+$",
    re.IGNORECASE,
)
# `says Hauta-aho`, `according to Okafor`: a capitalised word that is no English word, here.
_REPORTING = re.compile(
    r"\b(?:says|said|asks|asked|replies|replied|writes|wrote|adds|added|according\s+to)\s+$",
    re.IGNORECASE,
)
_SPEAKER_TURN = re.compile(r":\s*[\"“]")
_KIN_AFTER = re.compile(
    r"\s+(?:daughter|son|wife|husband|mother|father|brother|sister|aunt|uncle|niece|nephew|"
    r"cousin|grandson|granddaughter|grandmother|grandfather|widow|fianc[eé]e?|partner)s?\b",
    re.IGNORECASE,
)
_MULTI_WORD_COUNTRY = re.compile(r"\b(?:" + "|".join(MULTI_WORD_COUNTRIES) + r")\b", re.IGNORECASE)
# A postcode or house number right after a place at the end of an address line: `Estonia 62488`.
_TRAILING_NUMBER = re.compile(r"[ ,]+\d{3,6}(?:[- ]\d{2,4})?(?=\s*(?:$|\n|[,.;)]))")
_SUFFIXES = (
    ("ies", ("y",)), ("ied", ("y",)), ("es", ("", "e")), ("s", ("",)), ("ed", ("", "e")),
    ("ing", ("", "e")), ("er", ("", "e")), ("ers", ("", "e")), ("ly", ("",)), ("d", ("",)),
)  # fmt: skip
# CamelCase identifiers (`TaskAttempt`, `DFSClient`) are code, not names, but McDonald is a name.
_NAME_PREFIX = re.compile(r"^(?:Mc|Mac|O'|D'|Di|De|La|Le|Van)[A-Z][a-z]")
_FREQUENT_ZIPF = 4.5
_STOP_WORDS = frozenset(STOP_WORDS) | {"i"}
_SENTENCE_END = frozenset(".!?:;\"'“”()[]\n>")
_CODE_CHARS = frozenset("=[]{}<|/\\_@#$%^*~`")
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
    bye info fax tel faq
    monday tuesday wednesday thursday friday saturday sunday january february march april may
    june july august september october november december
    """.split()
)


@cache
def _frequent_english(word: str) -> bool:
    """A word used so often in English (`will`, `may`, `smith`) that as a name it proves nothing."""
    from wordfreq import zipf_frequency

    return word in _lexicon() and zipf_frequency(word, "en") >= _FREQUENT_ZIPF


@cache
def _lexicon() -> frozenset[str]:
    from english_words import get_english_words_set

    words = get_english_words_set(["web2"], lower=False, alpha=True)
    return frozenset(w for w in words if w.islower()) | _MODERN_WORDS | _STOP_WORDS


def _census(name: str) -> frozenset[str]:
    text = resources.files("names").joinpath(name).read_text("ascii")
    return frozenset(line.split(" ", 1)[0].lower() for line in text.splitlines() if line)


@cache
def _given_names() -> frozenset[str]:
    return _census("dist.female.first") | _census("dist.male.first")


@cache
def _surnames() -> frozenset[str]:
    return _census("dist.all.last")


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


def _words(text: str) -> list[tuple[int, int, str]]:
    """Whitespace-separated words with surrounding punctuation removed; IDs and paths skipped."""
    words = []
    for chunk in _CHUNK.finditer(text):
        raw = chunk.group()
        head = len(raw) - len(raw.lstrip(_LEADING))
        word = raw[head:].rstrip(_TRAILING)
        if word and _WORD.fullmatch(word):
            start = chunk.start() + head
            words.append((start, start + len(word), word))
    return words


def _lowercase_style(text: str) -> bool:
    """Written without capitals (chat, search boxes): lower-case names are then plausible."""
    letters = [c for c in text if c.isalpha()]
    return sum(c.isupper() for c in letters) <= len(letters) // 50


def looks_like_prose(text: str, words: list[str] | None = None) -> bool:
    """Sentences rather than log or code syntax: mostly letters, few code characters."""
    if words is None:
        words = [w for _, _, w in _words(text)]
    if len(words) < 3:
        return False
    code = sum(1 for c in text if c in _CODE_CHARS)
    letters = sum(len(w) for w in words)
    visible = sum(1 for c in text if not c.isspace())
    return code <= max(1, len(text) // 50) and letters >= 0.6 * visible


_ENGLISH_MEMO_WORDS = 100_000


@dataclass(slots=True)
class Analysis:
    """The proper-noun pass's findings in a string, and the spans NER should still read."""

    findings: list[Finding]
    ner_windows: list[tuple[int, int]]


@dataclass(slots=True)
class _Token:
    start: int
    end: int
    word: str
    lowered: str
    initial: bool  # first word of a sentence or line


class ProperNounRecognizer:
    """Finds names and places in prose by shape, word lists and context."""

    name = "proper_nouns"

    def __init__(self, score: float = 0.6) -> None:
        self._score = score
        self._common = _lexicon()
        self._given = _given_names()
        self._surnames = _surnames()
        # Log words repeat from record to record; their stems are looked up once.
        self._english: dict[str, bool] = {}

    def is_english(self, lowered: str) -> bool:
        known = self._english.get(lowered)
        if known is None:
            if len(self._english) >= _ENGLISH_MEMO_WORDS:
                self._english.clear()  # a bound on memory: unique ids and hashes pass here too
            known = self._english[lowered] = self._is_english(lowered)
        return known

    def _is_english(self, lowered: str) -> bool:
        head = re.split(r"['’]", lowered.rstrip("."), maxsplit=1)[0]  # it's, don't, o'clock
        parts = [p for p in head.split("-") if p]  # re-created, auto-detected
        return bool(parts) and all(any(s in self._common for s in _stems(p)) for p in parts)

    def confirms(self, value: str) -> bool:
        """Does an NER entity read like a name or place, not log vocabulary?

        spaCy's small model tags `MILLISECONDS`, `Unexpected Exception` or `GB` in logs as people
        and places; an entity made only of English words, or a short acronym, is not kept unless
        a word of it is a known given name or surname.
        """
        words = [w.lower() for _, _, w in _words(value)]
        if not words or (value.isupper() and len(value) <= 3):
            return False
        if any(w.rstrip(".") in self._given or w.rstrip(".") in self._surnames for w in words):
            return True
        return not all(self.is_english(w) for w in words)

    def _is_capitalised(self, word: str) -> bool:
        """`Maria`, `McDonald`, `O'Connor`, and each part of `Al-Farsi` or `Smith-Jones`."""
        if "-" in word:
            return all(part and self._is_capitalised(part) for part in word.split("-"))
        if not word[0].isupper() or word.isupper():
            return False
        return sum(c.isupper() for c in word) == 1 or _NAME_PREFIX.match(word) is not None

    def _is_initial(self, word: str) -> bool:
        return len(word.rstrip(".")) == 1 and word[0].isupper()

    def _name_evidence(self, token: _Token) -> bool:
        """Is this capitalised word name-like on its own?"""
        lowered = token.lowered.rstrip(".")
        if len(lowered) < 2:
            return False
        if token.initial and self.is_english(lowered):
            return False  # `Will`, `May`, `Failed`: capitalised because a sentence starts there
        if (lowered in self._given or lowered in self._surnames) and not _frequent_english(lowered):
            return True
        return not self.is_english(lowered)

    def _tokens(self, text: str) -> list[_Token]:
        tokens = []
        for start, end, word in _words(text):
            before = start - 1
            while before >= 0 and text[before] in " \t":
                before -= 1
            initial = before < 0 or text[before] in _SENTENCE_END
            tokens.append(_Token(start, end, word, word.lower(), initial))
        return tokens

    def analyse(self, text: str) -> Analysis:
        """What this pass finds in a free-text string, and the windows NER should still read."""
        tokens = self._tokens(text)
        bare = self._bare_name(tokens, text)
        if bare is not None:
            return Analysis([bare], [])
        if looks_like_prose(text, [t.word for t in tokens]):
            found = self._find(text, tokens)
            return Analysis(found, self._ner_windows(text, tokens, found, prose=True))
        found = self._capitalised_runs(text, tokens, self._is_census_name)
        found += self._after_sentence_naming(text, tokens)
        found += self._by_speech(text, tokens)
        return Analysis(found, self._ner_windows(text, tokens, found, prose=False))

    def find(self, text: str) -> list[Finding]:
        """Everything this pass finds in `text` read as prose."""
        return self._find(text, self._tokens(text))

    def _find(self, text: str, tokens: list[_Token]) -> list[Finding]:
        found = self._capitalised_runs(text, tokens)
        found += self._by_context(text, tokens)
        found += self._by_speech(text, tokens)
        found += self._places(text, tokens)
        return found

    def _bare_name(self, tokens: list[_Token], text: str) -> Finding | None:
        """A string that is nothing but a name (`Zara Patel`, `J. R. Okafor`), as a finding.

        Such values fill `name`-like fields; reading them needs no model.
        """
        if not 1 <= len(tokens) <= 4 or len(text.split()) != len(tokens):
            return None
        shaped = all(
            self._is_capitalised(t.word) or self._is_initial(t.word) or t.lowered in _PARTICLES
            for t in tokens
        )
        if not shaped or not any(
            self._name_evidence(_Token(t.start, t.end, t.word, t.lowered, False)) for t in tokens
        ):
            return None
        return self._finding(tokens[0].start, tokens[-1].end, "PERSON")

    def _is_census_name(self, token: _Token) -> bool:
        """A given name or surname that is no English word at all (`Emma`, `Okafor`, not
        `Server`, `Clock`, `Jun`): in log lines, where capitalised words are mostly vocabulary
        and product names (`Kerberos`), only these make a run a name; the rest is left to NER."""
        lowered = token.lowered.rstrip(".")
        in_census = lowered in self._given or lowered in self._surnames
        return in_census and not self.is_english(lowered)

    def _ner_windows(
        self,
        text: str,
        tokens: list[_Token],
        decided: list[Finding],
        prose: bool,
        reach: int = 24,
    ) -> list[tuple[int, int]]:
        """Spans of `text` that NER should read: around capitalised words this pass cannot decide.

        In prose, that is a capitalised English word mid-sentence (`Smith`, `Hope`) or a census
        name at a sentence start; in logs, an un-English capitalised word outside a census run.
        Everything else the lexical pass has already decided, so NER reads only a few words.
        """
        windows: list[tuple[int, int]] = []
        for token in tokens:
            if not self._is_capitalised(token.word) or len(token.lowered) < 3:
                continue
            if any(f.start <= token.start and token.end <= f.end for f in decided):
                continue
            if token.lowered.split("'")[0] in _STOP_WORDS:
                continue  # I'm, It's, The: never a name
            if prose:
                mid_sentence = _Token(token.start, token.end, token.word, token.lowered, False)
                undecided = not self._name_evidence(token) and (
                    not token.initial or self._is_census_name(mid_sentence)
                )
            else:
                undecided = self._name_evidence(token)
            if not undecided:
                continue
            start = text.rfind(" ", 0, max(0, token.start - reach)) + 1
            end = text.find(" ", min(len(text), token.end + reach))
            end = len(text) if end < 0 else end
            if windows and start <= windows[-1][1]:
                windows[-1] = (windows[-1][0], max(end, windows[-1][1]))
            else:
                windows.append((start, end))
        return windows

    def _places(self, text: str, tokens: list[_Token]) -> list[Finding]:
        """Countries in any case, and lone upper-case words on an address line (`OULU`)."""
        found = [
            self._finding(m.start(), m.end(), "LOCATION")
            for m in _MULTI_WORD_COUNTRY.finditer(text)
        ]
        multi_line = "\n" in text
        for token in tokens:
            lowered = token.lowered.rstrip(".")
            line_start = text.rfind("\n", 0, token.start) + 1
            line_end = text.find("\n", token.end)
            line = text[line_start : len(text) if line_end < 0 else line_end]
            short_caps_line = (
                multi_line and token.word.isupper() and len(lowered) > 2 and len(line.split()) <= 3
            )
            if lowered in COUNTRIES or (short_caps_line and not self.is_english(lowered)):
                found.append(
                    self._extend_number(text, self._finding(token.start, token.end, "LOCATION"))
                )
        return found

    def _extend_number(self, text: str, finding: Finding) -> Finding:
        match = _TRAILING_NUMBER.match(text, finding.end)
        if match is None:
            return finding
        return Finding(
            finding.start, match.end(), finding.entity_type, finding.score, finding.recognizer
        )

    def _finding(self, start: int, end: int, entity_type: str) -> Finding:
        return Finding(start, end, entity_type, self._score, self.name)

    def _capitalised_runs(
        self,
        text: str,
        tokens: list[_Token],
        strong: Callable[[_Token], bool] | None = None,
    ) -> list[Finding]:
        """Runs of capitalised words (with initials and particles) that hold a name-like word.

        `strong` decides which words make a run a name (default: any name-like word); the run
        then spans every name-like word next to them (`Emma Petrova`).
        """
        strong = strong or self._name_evidence
        found: list[Finding] = []
        run: list[tuple[_Token, bool, bool]] = []  # token, may be part of a name, strong
        cue = ""

        def flush() -> None:
            while run and not run[0][1] and not self._is_initial(run[0][0].word):
                run.pop(0)
            while run and not run[-1][1]:
                run.pop()
            if any(is_strong for _, _, is_strong in run):
                start, end = run[0][0].start, run[-1][0].end
                if text[end - 1] == "." and not self._is_initial(run[-1][0].word):
                    end -= 1  # a full stop, not an initial's dot
                entity = "LOCATION" if cue in _PLACE_CUES else "PERSON"
                found.append(self._extend_number(text, self._finding(start, end, entity)))
            run.clear()

        for index, token in enumerate(tokens):
            gap = text[tokens[index - 1].end : token.start] if index else ""
            joined = bool(run) and gap in (" ", "")
            if self._is_capitalised(token.word) or self._is_initial(token.word):
                if run and not joined:
                    flush()
                if not run:
                    cue = tokens[index - 1].lowered if index else ""
                name_like = self._name_evidence(token)
                # A census name next to a name belongs to it even when it is also a common
                # word (`John Smith`, `Maria Garcia wrote`): no part of a name may survive.
                bare = token.lowered.rstrip(".")
                in_census = bare in self._given or (
                    bare in self._surnames
                    and not (token.initial and self.is_english(bare))  # `Mail John`: a verb
                )
                run.append((token, name_like or in_census, name_like and strong(token)))
            elif run and joined and token.lowered in _PARTICLES:
                run.append((token, False, False))
            elif run:
                flush()
        flush()
        return found

    def _by_context(self, text: str, tokens: list[_Token]) -> list[Finding]:
        """Names after titles and naming phrases, lower-case given names, places after cues."""
        found: list[Finding] = []
        lowercase_style = _lowercase_style(text)
        for index, token in enumerate(tokens):
            lowered = token.lowered.rstrip(".")
            previous = tokens[index - 1].lowered.rstrip(".") if index else ""
            english = self.is_english(lowered)
            # `Mr. smith` in lower-case chat; in cased text `Sir bot` is a word, not a name.
            after_title = previous in _TITLES and (
                lowercase_style or self._is_capitalised(token.word) or not english
            )
            before = text[max(0, token.start - 24) : token.start]
            after_naming = _NAMING.search(before) is not None or (
                not english and token.word[0].isupper() and _REPORTING.search(before)
            )
            lower_name = lowercase_style and lowered in self._given and not english
            if after_title or after_naming or lower_name:
                end = self._extend_name(tokens, index)
                found.append(self._finding(token.start, end, "PERSON"))
            elif (
                previous in _PLACE_CUES
                and (not english or self._opens_place_name(tokens, index))
                and len(lowered) > 2
                and (lowercase_style or token.word.isupper())
            ):
                found.append(
                    self._finding(token.start, self._extend_place(tokens, index), "LOCATION")
                )
        return found

    def _by_speech(self, text: str, tokens: list[_Token]) -> list[Finding]:
        """Speakers and possessors: they hold in prose and in transcripts alike."""
        found: list[Finding] = []
        if ":" not in text and "'s" not in text and "’s" not in text:
            return found
        for index, token in enumerate(tokens):
            if self._speaker_or_kin(text, tokens, index) and not self.is_english(token.lowered):
                end = token.end - 2 if token.lowered.endswith(("'s", "’s")) else token.end
                found.append(self._finding(token.start, end, "PERSON"))
        return found

    def _speaker_or_kin(self, text: str, tokens: list[_Token], index: int) -> bool:
        """A speaker in a transcript (`tracy: "i'm ..."`, at a line or sentence start) or a
        possessive before a kinship word (`Amanda's daughter`)."""
        token = tokens[index]
        if len(token.lowered) < 3:
            return False
        if token.initial and _SPEAKER_TURN.match(text, token.end):
            return True
        possessive = token.lowered.endswith(("'s", "’s"))
        return possessive and _KIN_AFTER.match(text, token.end) is not None

    def _after_sentence_naming(self, text: str, tokens: list[_Token]) -> list[Finding]:
        """Outside prose, only the naming phrases that are sentences (`her maiden name is`)."""
        if "name" not in text.lower() and not any(
            t.lowered.rstrip(",") in ("me", "regards", "sincerely", "dear") for t in tokens
        ):
            return []
        found: list[Finding] = []
        for index, token in enumerate(tokens):
            if _SENTENCE_NAMING.search(text[max(0, token.start - 24) : token.start]):
                found.append(self._finding(token.start, self._extend_name(tokens, index), "PERSON"))
        return found

    def _opens_place_name(self, tokens: list[_Token], index: int) -> bool:
        """`new york`, `san diego`: a place prefix followed by a word that is not English."""
        if tokens[index].lowered not in _PLACE_PREFIXES or index + 1 >= len(tokens):
            return False
        return not self.is_english(tokens[index + 1].lowered)

    def _extend_name(self, tokens: list[_Token], index: int) -> int:
        """Up to three following words that are initials, particles or not English."""
        end = tokens[index].end
        for token in tokens[index + 1 : index + 4]:
            word = token.lowered.rstrip(".")
            if len(word) == 1 or word in _PARTICLES or not self.is_english(word):
                end = token.end
            else:
                break
        return end

    def _extend_place(self, tokens: list[_Token], index: int) -> int:
        end = tokens[index].end
        previous = tokens[index].lowered
        for token in tokens[index + 1 : index + 3]:
            opens_a_name = previous in _PLACE_PREFIXES  # `los angeles`, `new york`
            english = self.is_english(token.lowered) and token.lowered not in _PARTICLES
            if english and not opens_a_name:
                break
            end = token.end
            previous = token.lowered
        return end
