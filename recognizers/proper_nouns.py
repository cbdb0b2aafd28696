"""Proper nouns in prose: names and places that a small NER model misses.

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
What each word is (English, a census name, its case shape) comes from `recognizers/words.py`,
worked out once per distinct word; the rules here only combine those answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from recognizers.base import Finding
from recognizers.name_layouts import initial_runs, listed_names, name_lines, named, speaker_turns
from recognizers.places import COUNTRIES, MULTI_WORD_COUNTRIES
from recognizers.words import STOP_WORDS_AND_I, Keywords, Token, Vocabulary, Word, prose_shaped

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
# Every naming phrase holds one of these words: the phrase is searched for only before words
# that have one in reach.
_NAMING_WORDS = Keywords("name", "call", "this", "signed", "regards", "sincerely", "dear")
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
_REPORTING_WORDS = Keywords(
    "says", "said", "asks", "asked", "replies", "replied", "writes", "wrote", "adds", "added",
    "according",
)  # fmt: skip
_REACH = 24  # how far before a word a naming phrase may start
_SPEAKER_TURN = re.compile(r":\s*[\"“]")
_KIN_AFTER = re.compile(
    r"\s+(?:daughter|son|wife|husband|mother|father|brother|sister|aunt|uncle|niece|nephew|"
    r"cousin|grandson|granddaughter|grandmother|grandfather|widow|fianc[eé]e?|partner)s?\b",
    re.IGNORECASE,
)
_COUNTRY_WORDS = Keywords(*MULTI_WORD_COUNTRIES)
_MULTI_WORD_COUNTRY = re.compile(r"\b(?:" + "|".join(MULTI_WORD_COUNTRIES) + r")\b", re.IGNORECASE)
# A postcode or house number right after a place at the end of an address line: `Estonia 62488`.
_TRAILING_NUMBER = re.compile(r"[ ,]+\d{3,6}(?:[- ]\d{2,4})?(?=\s*(?:$|\n|[,.;)]))")


def _phrase_before(
    text: str, start: int, phrase: re.Pattern[str], keywords: list[tuple[int, int]]
) -> bool:
    """Does `phrase` end right before `start`, within the `_REACH` characters before it?"""
    reach = max(0, start - _REACH)
    if not any(reach <= k and end <= start for k, end in keywords):
        return False
    return phrase.search(text[reach:start]) is not None


def _lowercase_style(text: str) -> bool:
    """Written without capitals (chat, search boxes): lower-case names are then plausible."""
    letters = "".join(filter(str.isalpha, text))
    return sum(map(str.isupper, letters)) <= len(letters) // 50


def looks_like_prose(text: str) -> bool:
    """Sentences rather than log or code syntax: mostly letters, few code characters."""
    return prose_shaped(text, Vocabulary().tokens(text))


@dataclass(slots=True)
class Analysis:
    """The proper-noun pass's findings in a string, and the spans NER should still read."""

    findings: list[Finding]
    ner_windows: list[tuple[int, int]]


def _shouted_place(word: Word) -> bool:
    """A word in capitals after a place cue (`in NAANTALI`), but not an acronym (`in EMEA`, `to
    HDFS`, ASCII and short): a known city, five letters or more, or another script (`ΚΑΤΩ`)."""
    return word.text.isupper() and (len(word.bare) >= 5 or word.city or not word.bare.isascii())


def _evidence(token: Token) -> bool:
    """Is this capitalised word name-like on its own, where it stands?"""
    return token.word.evidence_at_start if token.initial else token.word.evidence


class ProperNounRecognizer:
    """Finds names and places in prose by shape, word lists and context."""

    name = "proper_nouns"

    def __init__(self, score: float = 0.6) -> None:
        self._score = score
        self._vocabulary = Vocabulary()

    def is_english(self, lowered: str) -> bool:
        return self._vocabulary.is_english(lowered)

    def confirms(self, value: str) -> bool:
        """Does an NER entity read like a name or place, not log vocabulary?

        spaCy's small model tags `MILLISECONDS`, `Unexpected Exception` or `GB` in logs as people
        and places; an entity made only of English words, or a short acronym, is not kept unless
        a word of it is a known given name or surname.
        """
        words = [t.word for t in self._vocabulary.tokens(value)]
        if not words or (value.isupper() and len(value) <= 3):
            return False
        if any(w.given or w.surname for w in words):
            return True
        return not all(w.english for w in words)

    def analyse(self, text: str) -> Analysis:
        """What this pass finds in a free-text string, and the windows NER should still read."""
        tokens = self._vocabulary.tokens(text)
        bare = self._bare_name(tokens, text)
        if bare is not None:
            return Analysis([bare], [])
        if prose_shaped(text, tokens):
            found = self._find(text, tokens)
            return Analysis(found, self._ner_windows(text, tokens, found, prose=True))
        found = self._capitalised_runs(text, tokens, lambda t: t.word.unenglish_census)
        found += self._after_sentence_naming(text, tokens)
        found += self._by_speech(text, tokens)
        found += self._cities(tokens, found)
        found += self._by_layout(text, tokens, found)
        return Analysis(found, self._ner_windows(text, tokens, found, prose=False))

    def find(self, text: str) -> list[Finding]:
        """Everything this pass finds in `text` read as prose."""
        return self._find(text, self._vocabulary.tokens(text))

    def _find(self, text: str, tokens: list[Token]) -> list[Finding]:
        found = self._capitalised_runs(text, tokens)
        found += self._by_context(text, tokens)
        found += self._by_speech(text, tokens)
        found += self._places(text, tokens)
        found += self._by_layout(text, tokens, found)
        return found

    def _by_layout(self, text: str, tokens: list[Token], found: list[Finding]) -> list[Finding]:
        """Speaker turns, name lines, middle initials, and words listed beside a found name
        (`recognizers/name_layouts.py`)."""
        describe = self._vocabulary.word
        spans = speaker_turns(text, describe) + name_lines(text, tokens)
        initials = initial_runs(text, tokens)
        if initials and _lowercase_style(text):
            spans += initials
        people = [(f.start, f.end) for f in found if f.entity_type == "PERSON"] + spans
        spans += listed_names(text, tokens, people)
        return [self._finding(start, end, "PERSON") for start, end in spans]

    def _bare_name(self, tokens: list[Token], text: str) -> Finding | None:
        """A string that is nothing but a name (`Zara Patel`, `J. R. Okafor`), as a finding.

        Such values fill `name`-like fields; reading them needs no model.
        """
        if not 1 <= len(tokens) <= 4 or len(text.split()) != len(tokens):
            return None
        words = [t.word for t in tokens]
        if not all(w.capitalised or w.letter or w.lowered in _PARTICLES for w in words):
            return None
        if not any(w.evidence for w in words):
            return None
        return self._finding(tokens[0].start, tokens[-1].end, "PERSON")

    def _ner_windows(
        self,
        text: str,
        tokens: list[Token],
        decided: list[Finding],
        prose: bool,
        reach: int = _REACH,
    ) -> list[tuple[int, int]]:
        """Spans of `text` that NER should read: around capitalised words this pass cannot decide.

        In prose, that is a capitalised English word mid-sentence (`Smith`, `Hope`) or a given
        name at a sentence start (`James`, `Maria`); in logs, an un-English capitalised word
        outside a census run.
        Everything else the lexical pass has already decided, so NER reads only a few words.
        """
        windows: list[tuple[int, int]] = []
        for token in tokens:
            word = token.word
            if not word.capitalised or len(word.lowered) < 3:
                continue
            if any(f.start <= token.start and token.end <= f.end for f in decided):
                continue
            if word.lowered.split("'")[0] in STOP_WORDS_AND_I:
                continue  # I'm, It's, The: never a name
            if prose:
                # A sentence's first word is capitalised anyway: an English word there is a
                # word, unless it is a given name too (`James called`; not `Jetty bound`).
                given_name = word.evidence and word.given
                undecided = not _evidence(token) and (not token.initial or given_name)
            else:
                undecided = _evidence(token)
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

    def _places(self, text: str, tokens: list[Token]) -> list[Finding]:
        """Countries in any case, capitalised city names (`Chicago`; not `Reading`, an English
        word, nor `Austin`, a census name: those are left to the model), and lone upper-case
        words on an address line (`OULU`)."""
        found = (
            [
                self._finding(m.start(), m.end(), "LOCATION")
                for m in _MULTI_WORD_COUNTRY.finditer(text)
            ]
            if _COUNTRY_WORDS.in_(text)
            else []
        )
        multi_line = "\n" in text
        for token in tokens:
            word = token.word
            if (
                word.bare not in COUNTRIES
                and not (word.city and word.capitalised)
                and not (
                    multi_line
                    and word.text.isupper()
                    and len(word.bare) > 2
                    and not word.english
                    and self._short_line(text, token)
                )
            ):
                continue
            end = token.end - (word.text.endswith(".") and not word.bare.endswith("."))
            found.append(self._extend_number(text, self._finding(token.start, end, "LOCATION")))
        return found

    def _cities(self, tokens: list[Token], decided: list[Finding]) -> list[Finding]:
        """In a log line, a capitalised city name not already part of a finding (`in Lisbon`):
        a place, decided without the model (a window around it would cost ~1 ms)."""
        return [
            self._finding(t.start, t.start + len(t.word.bare), "LOCATION")
            for t in tokens
            if t.word.city
            and t.word.capitalised
            and not any(f.start <= t.start and t.end <= f.end for f in decided)
        ]

    def _short_line(self, text: str, token: Token) -> bool:
        line_start = text.rfind("\n", 0, token.start) + 1
        line_end = text.find("\n", token.end)
        return len(text[line_start : len(text) if line_end < 0 else line_end].split()) <= 3

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
        tokens: list[Token],
        strong: Callable[[Token], bool] = _evidence,
    ) -> list[Finding]:
        """Runs of capitalised words (with initials and particles) that hold a name-like word.

        `strong` decides which words make a run a name (default: any name-like word); the run
        then spans every name-like word next to them (`Emma Petrova`).
        """
        found: list[Finding] = []
        run: list[tuple[Token, bool, bool]] = []  # token, may be part of a name, strong
        cue = ""

        def flush() -> None:
            while run and not run[0][1] and not run[0][0].word.letter:
                run.pop(0)
            while run and not run[-1][1]:
                run.pop()
            if any(is_strong for _, _, is_strong in run):
                start, end = run[0][0].start, run[-1][0].end
                if text[end - 1] == "." and not run[-1][0].word.letter:
                    end -= 1  # a full stop, not an initial's dot
                # `from Lisbon` is a place, `from Noah Murphy` a person: a given name opens it.
                place = cue in _PLACE_CUES and not (run[0][0].word.given and len(run) > 1)
                entity = "LOCATION" if place else "PERSON"
                found.append(self._extend_number(text, self._finding(start, end, entity)))
            run.clear()

        previous: Token | None = None
        for token in tokens:
            word = token.word
            joined = bool(run) and previous is not None and text[previous.end : token.start] == " "
            if word.capitalised or word.letter:
                if run and not joined:
                    flush()
                if not run:
                    cue = previous.word.lowered if previous is not None else ""
                name_like = _evidence(token)
                # A census name next to a name belongs to it even when it is also a common
                # word (`John Smith`, `Maria Garcia wrote`): no part of a name may survive.
                in_census = word.given or (
                    word.surname and not (token.initial and word.english)  # `Mail John`: a verb
                )
                run.append((token, name_like or in_census, name_like and strong(token)))
            elif run and joined and word.lowered in _PARTICLES:
                run.append((token, False, False))
            elif run:
                flush()
            previous = token
        flush()
        return found

    def _by_context(self, text: str, tokens: list[Token]) -> list[Finding]:
        """Names after titles and naming phrases, lower-case given names, places after cues."""
        found: list[Finding] = []
        lowercase_style = _lowercase_style(text)
        naming, reporting = _NAMING_WORDS.spans(text), _REPORTING_WORDS.spans(text)
        for index, token in enumerate(tokens):
            word = token.word
            previous = tokens[index - 1].word.bare if index else ""
            # `Mr. smith` in lower-case chat; in cased text `Sir bot` is a word, not a name.
            after_title = previous in _TITLES and (
                lowercase_style or word.capitalised or not word.english
            )
            after_naming = (
                bool(naming) and named(word) and _phrase_before(text, token.start, _NAMING, naming)
            ) or (
                bool(reporting)
                and not word.english
                and word.text[0].isupper()
                and _phrase_before(text, token.start, _REPORTING, reporting)
            )
            lower_name = lowercase_style and word.given and not word.english
            if after_title or after_naming or lower_name:
                end = self._extend_name(tokens, index)
                found.append(self._finding(token.start, end, "PERSON"))
            elif (
                previous in _PLACE_CUES
                and (not word.english or self._opens_place_name(tokens, index))
                and len(word.bare) > 2
                and (lowercase_style or _shouted_place(word))
            ):
                found.append(
                    self._finding(token.start, self._extend_place(tokens, index), "LOCATION")
                )
        return found

    def _by_speech(self, text: str, tokens: list[Token]) -> list[Finding]:
        """Speakers and possessors: they hold in prose and in transcripts alike."""
        found: list[Finding] = []
        if ":" not in text and "'s" not in text and "’s" not in text:
            return found
        for token in tokens:
            if self._speaker_or_kin(text, token) and not token.word.english:
                end = token.end - 2 if token.word.lowered.endswith(("'s", "’s")) else token.end
                found.append(self._finding(token.start, end, "PERSON"))
        return found

    def _speaker_or_kin(self, text: str, token: Token) -> bool:
        """A speaker in a transcript (`tracy: "i'm ..."`, at a line or sentence start) or a
        possessive before a kinship word (`Amanda's daughter`)."""
        lowered = token.word.lowered
        if len(lowered) < 3:
            return False
        if token.initial and _SPEAKER_TURN.match(text, token.end):
            return True
        possessive = lowered.endswith(("'s", "’s"))
        return possessive and _KIN_AFTER.match(text, token.end) is not None

    def _after_sentence_naming(self, text: str, tokens: list[Token]) -> list[Finding]:
        """Outside prose, only the naming phrases that are sentences (`her maiden name is`)."""
        if "name" not in text.lower() and not any(
            t.word.lowered in ("me", "regards", "sincerely", "dear") for t in tokens
        ):
            return []
        naming = _NAMING_WORDS.spans(text)
        found: list[Finding] = []
        for index, token in enumerate(tokens):
            if named(token.word) and _phrase_before(text, token.start, _SENTENCE_NAMING, naming):
                found.append(self._finding(token.start, self._extend_name(tokens, index), "PERSON"))
        return found

    def _opens_place_name(self, tokens: list[Token], index: int) -> bool:
        """`new york`, `san diego`: a place prefix followed by a word that is not English."""
        if tokens[index].word.lowered not in _PLACE_PREFIXES or index + 1 >= len(tokens):
            return False
        return not tokens[index + 1].word.english

    def _extend_name(self, tokens: list[Token], index: int) -> int:
        """Up to three following words that are initials, particles or not English."""
        end = tokens[index].end
        for token in tokens[index + 1 : index + 4]:
            word = token.word
            if len(word.bare) == 1 or word.bare in _PARTICLES or not word.english:
                end = token.end
            else:
                break
        return end

    def _extend_place(self, tokens: list[Token], index: int) -> int:
        end = tokens[index].end
        previous = tokens[index].word.lowered
        for token in tokens[index + 1 : index + 3]:
            opens_a_name = previous in _PLACE_PREFIXES  # `los angeles`, `new york`
            word = token.word
            if word.english and word.lowered not in _PARTICLES and not opens_a_name:
                break
            end = token.end
            previous = word.lowered
        return end
