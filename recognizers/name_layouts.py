"""Names by where they stand, when the word alone does not decide.

The word lists say what a word may be; the layout around it often says what it is:
- a speaker turn in a transcript: `Elizabeth:"I'm ..."` (no space after the colon), or lines
  that open with `Word: ` at least twice (`Destiny: Remember me`), the speaker a given name or
  no English word (`Subject:`, `Note:` are English words, not people);
- a list of names: a word joined by `,`, `and`, `or`, `&` to a name found already, written in the
  same case, is a name too when the census knows it or it is no English word (`Muslija and
  Brown`, `leonti, terrence, pamela`); conjuncts share their kind;
- the name line of an address block or signature: a line of two to four words, the first a given
  name, the rest census names, initials or no English words (`>Fletcher Hill`);
- a middle initial in lower-case text: `emidio p lombardo`, `hyuuma t. maida`;
- after a naming phrase (`this is`, `dear`, `call me`), a word that can be a name: not `the`,
  `customer` or `tomorrow`.
Each rule only reads tokens the proper-noun pass has already described (`recognizers.words`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from recognizers.words import STOP_WORDS_AND_I, Token, Word

Span = tuple[int, int]
Describe = Callable[[str], Word]  # `Vocabulary.word`: what a spelling is

# `Name:"` at a line start or after a sentence's end: a speaker whose quote follows unspaced.
_GLUED_TURN = re.compile(r"(?:^|(?<=[\n.!?])[ \t]*)([^\W\d_]+(?:[-'’][^\W\d_]+)*):[\"“]", re.M)
# `Word: Speech` at a line start (after `>` quoting or blanks).
_LINE_TURN = re.compile(r"^[ \t>]*([^\W\d_]+(?:[-'’][^\W\d_]+)*):[ \t]+[\"“]?[^\W\d_]", re.M)
_CONJUNCTIONS = frozenset({"and", "or", "und", "et", "y"})
_JOINERS = frozenset({", ", " and ", ", and ", " or ", " & ", " und ", " et ", " y "})
_LINE_LEAD = " \t>*-•"
_INITIALS = frozenset("bcdefghjklmnopqrstuvwxyz")  # not `a` or `i`: words


def _name_end(token: Token) -> int:
    """Where the name in a token ends: before a possessive (`samoylova's`), which later
    mentions do not repeat."""
    return token.end - 2 if token.word.lowered.endswith(("'s", "’s")) else token.end


def _name_alone(word: Word) -> bool:
    """Would this word be a name in a name's place: a census name or no English word."""
    if word.bare in STOP_WORDS_AND_I or len(word.bare) < 3:
        return False
    return word.given or (word.surname and not word.word_first) or not word.english


def _speaker(word: Word) -> bool:
    """A speaker's name: no English word, or a given name that is not also a frequent word."""
    return len(word.bare) >= 3 and (not word.english or (word.given and word.evidence))


def named(word: Word) -> bool:
    """Can the word after a naming phrase be the name? Not `the`, `customer` or `tomorrow` (`This
    is the plan`, `Dear customer`, `Call me tomorrow`): name-like, or a capitalised census name."""
    if word.bare in STOP_WORDS_AND_I:
        return False
    return word.evidence or (word.capitalised and (word.given or word.surname))


def speaker_turns(text: str, describe: Describe) -> list[Span]:
    """Speakers of quotes glued to the colon, and of transcripts with two turns or more."""
    found: list[Span] = []
    glued = ':"' in text or ":“" in text
    for match in _GLUED_TURN.finditer(text) if glued else ():
        word = describe(match.group(1))
        if not word.english and len(word.bare) >= 3:
            found.append(match.span(1))
    turns = list(_LINE_TURN.finditer(text)) if "\n" in text else []
    if len(turns) >= 2:
        found += [m.span(1) for m in turns if _speaker(describe(m.group(1)))]
    return found


def listed_names(text: str, tokens: list[Token], names: list[Span]) -> list[Span]:
    """Words listed beside a found name (`Muslija and Brown`), in the same case, chained."""
    if not names or not any(j in text for j in (",", " and ", " or ", " & ")):
        return []
    is_name = [any(s <= t.start and t.end <= e for s, e in names) for t in tokens]
    links = list(_links(text, tokens))
    found: list[Span] = []
    for pairs in (links, [(b, a) for a, b in reversed(links)]):
        for named, candidate in pairs:
            word, other = tokens[candidate].word, tokens[named].word
            if is_name[candidate] or not is_name[named] or not _name_alone(word):
                continue
            same_case = word.capitalised == other.capitalised and (
                word.text.islower() == other.text.islower()
            )
            if same_case:
                is_name[candidate] = True
                found.append((tokens[candidate].start, _name_end(tokens[candidate])))
    return found


def _links(text: str, tokens: list[Token]) -> Iterator[tuple[int, int]]:
    """Pairs of token indexes listed one after the other (`A, B`, `A and B`), in order."""
    for i in range(len(tokens) - 1):
        j = i + 1
        if tokens[j].word.lowered in _CONJUNCTIONS and j + 1 < len(tokens):
            j += 1
        if text[tokens[i].end : tokens[j].start] in _JOINERS:
            yield i, j


def name_lines(text: str, tokens: list[Token]) -> list[Span]:
    """Lines of a multi-line text that are a name and nothing else (`>Fletcher Hill`)."""
    if "\n" not in text:
        return []
    found: list[Span] = []
    line_start = 0
    index = 0
    for line in text.split("\n"):
        line_end = line_start + len(line)
        words: list[Token] = []
        while index < len(tokens) and tokens[index].start < line_end:
            words.append(tokens[index])
            index += 1
        if 2 <= len(words) <= 4 and _is_name_line(line, words):
            found.append((words[0].start, words[-1].end))
        line_start = line_end + 1
    return found


def _is_name_line(line: str, words: list[Token]) -> bool:
    content = line.strip(_LINE_LEAD)
    # The words fill the line: nothing else on it (no digits, no `Inc`).
    if len(content.split()) != len(words) or content.endswith((",", ":", ";")):
        return False
    first = words[0].word
    if not first.capitalised or not first.given or first.bare in STOP_WORDS_AND_I:
        return False
    rest = [t.word for t in words[1:]]
    return all(w.letter or (w.capitalised and _name_alone(w)) for w in rest) and not rest[-1].letter


def initial_runs(text: str, tokens: list[Token]) -> list[Span]:
    """`given m. surname` in lower-case text: two name-like words around a middle initial."""
    found: list[Span] = []
    for i in range(1, len(tokens) - 1):
        initial = tokens[i]
        if len(initial.word.bare) != 1 or initial.word.text[0] not in _INITIALS:
            continue
        first, last = tokens[i - 1], tokens[i + 1]
        spaced = text[first.end : initial.start] == text[initial.end : last.start] == " "
        if spaced and _name_alone(first.word) and _name_alone(last.word):
            found.append((first.start, _name_end(last)))
    return found
