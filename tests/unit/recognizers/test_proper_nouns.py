"""The lexical pass for names and places in prose: hits and near-misses."""

from __future__ import annotations

import pytest

from recognizers.proper_nouns import ProperNounRecognizer, looks_like_prose

RECOGNIZER = ProperNounRecognizer()


def _values(text: str) -> set[str]:
    return {text[f.start : f.end] for f in RECOGNIZER.find(text)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The brainchild of our founders: Kónya, Becker and Vasquez.",
            {"Kónya", "Becker", "Vasquez"},
        ),
        ("Please follow up with Szabina J Gelencsér next week.", {"Szabina J Gelencsér"}),
        ("my name is vitoria and i need help", {"vitoria"}),
        ("can you follow up with patricia desrosiers in a month", {"patricia desrosiers"}),
        ("Mr. Pavlović flew to STAXROITH on Monday morning.", {"Pavlović", "STAXROITH"}),
        ("i moved from harburg to lübeck last year", {"harburg", "lübeck"}),
        ("She grew up in Iceland and now lives in new zealand.", {"Iceland", "new zealand"}),
        (
            "Send it to Sara Schwarz\nLAPPEENRANTA\nFinland 53650",
            {"Sara Schwarz", "LAPPEENRANTA", "Finland 53650"},
        ),
        ("Dear Ms. O'Neill, thanks for the update.", {"O'Neill"}),
        ("Mail John Smith at the office.", {"John Smith"}),
        ("Maria Garcia wrote from the office.", {"Maria Garcia"}),
        ("User Ahmed Al-Farsi reported the bug.", {"Ahmed Al-Farsi"}),
        ("my wife's name is emily and she is away", {"emily"}),
        ("i met sarah connor yesterday in los angeles", {"sarah connor", "los angeles"}),
    ],
)
def test_names_and_places_are_found(text: str, expected: set[str]) -> None:
    assert expected <= _values(text)


@pytest.mark.parametrize(
    "text",
    [
        "Failed password for invalid user from the gateway.",
        "Retrying connection to the database in five seconds.",
        "The TaskAttempt Transitioned from NEW to UNASSIGNED",
        "Will you send the report? I'll check it.",
        "It's done. Don't worry, we're fine.",
        "Please restart the server and check the logs.",
        "the quick brown fox jumps over the lazy dog",
    ],
)
def test_ordinary_prose_and_log_words_are_not_names(text: str) -> None:
    assert _values(text) == set()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi, I'm writing about my order from last week.", True),
        ("pam_unix(sshd:auth): authentication failure; uid=0 euid=0 tty=ssh", False),
        ("GET /api/v1/orders?id=123 200 1532", False),
        ("ok", False),
    ],
)
def test_prose_test(text: str, expected: bool) -> None:
    assert looks_like_prose(text) is expected


def test_ner_confirmation_drops_log_vocabulary() -> None:
    assert not RECOGNIZER.confirms("MILLISECONDS")
    assert not RECOGNIZER.confirms("Unexpected Exception")
    assert not RECOGNIZER.confirms("GB")
    assert RECOGNIZER.confirms("Maria Garcia")
    assert RECOGNIZER.confirms("Koskikatu")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Zara Patel", {"Zara Patel"}),
        ("J. R. Okafor", {"J. R. Okafor"}),
        ("Mateo van Dijk", {"Mateo van Dijk"}),
        ("Payment Service", set()),  # English words only
    ],
)
def test_bare_name_fields_need_no_model(text: str, expected: set[str]) -> None:
    analysis = RECOGNIZER.analyse(text)
    assert {text[f.start : f.end] for f in analysis.findings} == expected
    assert analysis.ner_windows == []


def test_log_lines_flag_only_census_name_runs() -> None:
    line = "ts=2026-11-24T10:00:00Z level=warn msg=charge customer Hannah Okafor via Lifecycle Server id=7"
    found = {line[f.start : f.end] for f in RECOGNIZER.analyse(line).findings}
    assert found == {"Hannah Okafor"}


def test_ner_windows_cover_only_undecided_words() -> None:
    line = "ts=2026-11-24T10:00:00Z level=error msg=sync failed for Zyntrax realm; retrying id=7"
    windows = RECOGNIZER.analyse(line).ner_windows
    assert len(windows) == 1
    start, end = windows[0]
    assert "Zyntrax" in line[start:end] and len(line[start:end]) < len(line)
    assert RECOGNIZER.analyse("Failed password for invalid user admin id=7").ner_windows == []
    prose = "Yesterday I met Hope at the station, with Maria Garcia."
    analysis = RECOGNIZER.analyse(prose)
    covered = " ".join(prose[s:e] for s, e in analysis.ner_windows)
    assert "Hope" in covered  # an English word as a name: NER decides
    assert "Maria Garcia" in {prose[f.start : f.end] for f in analysis.findings}


@pytest.mark.parametrize("phrase", ["Her maiden name is", "my name is", "His last name is",
                                    "Call me", "Kind regards,", "Dear"])  # fmt: skip
@pytest.mark.parametrize("name", ["Møller", "nyberg", "Hauta-aho", "Oyelaran", "LeBatelier"])
def test_a_sentence_naming_phrase_names_in_lines_that_are_not_prose(phrase: str, name: str) -> None:
    """Dates, ids and paths make a line read as a log, not prose; the phrase still holds."""
    text = f"id=4471 born 11/22/2000 at /srv/x. {phrase} {name}"
    found = ProperNounRecognizer().analyse(text).findings
    assert [text[f.start : f.end] for f in found if f.entity_type == "PERSON"] == [name]


@pytest.mark.parametrize("line", ["2024-01-01 INFO job=name is_ok=1 path=/a/b",
                                  "ERROR [main] dear_user_id=77 /var/x", "key=value name=x"])  # fmt: skip
def test_no_naming_phrase_no_name_in_log_lines(line: str) -> None:
    assert ProperNounRecognizer().analyse(line).findings == []


@pytest.mark.parametrize("verb", ["says", "said", "asked", "replied", "according to"])
def test_a_reporting_verb_before_an_unknown_capitalised_word_names_a_person(verb: str) -> None:
    for name in ("Hauta-aho", "Nwachukwu", "Szczepańska"):
        text = f"The market is moving in that direction, {verb} {name} in the report."
        found = ProperNounRecognizer().analyse(text).findings
        assert name in [text[f.start : f.end] for f in found], (verb, name)
    kept = f"The market is moving in that direction, {verb} Monday in the report."
    assert not [
        f for f in ProperNounRecognizer().analyse(kept).findings if f.entity_type == "PERSON"
    ]


@pytest.mark.parametrize("name", ["Koppány", "tracy", "Oyelaran", "Nguyễn"])
def test_speakers_and_possessors_before_kin_are_people(name: str) -> None:
    recognizer = ProperNounRecognizer()
    for text in (f'{name}: "Who are you?" she asked.', f"I'm {name}'s daughter, from 10/2/1990."):
        found = [text[f.start : f.end] for f in recognizer.analyse(text).findings]
        assert name in found, text


@pytest.mark.parametrize("line", ['Error: "file not found"', 'WARN kafka: "broker down"',
                                  "the mother's daughter", 'Exception: "NullPointer" thread: "main"'])  # fmt: skip
def test_log_labels_and_english_possessives_are_not_speakers(line: str) -> None:
    assert ProperNounRecognizer().analyse(line).findings == []


@pytest.mark.parametrize(
    ("line", "places", "window"),
    [
        ("2024-05-01 WARN ticket from Sofia Rossi in Lisbon, reply by mail", {"Lisbon"}, False),
        ("2024-05-01 INFO shipment left Wrocław for Coimbatore id=7", {"Wrocław", "Coimbatore"},
         False),
        ("ts=1 msg=moved from Lyon to Omaha today", {"Lyon", "Omaha"}, False),
        # An English word (`Reading`; `boston` is one too, a card game) is left to the model;
        # a given name (`Florence`) is not read as the city.
        ("2024-05-01 INFO office in Reading closed id=9", set(), True),
        ("2024-05-01 INFO Florence approved the refund id=9", set(), False),
    ],
)  # fmt: skip
def test_a_city_in_a_log_line_is_a_place_without_the_model(
    line: str, places: set[str], window: bool
) -> None:
    analysis = RECOGNIZER.analyse(line)
    found = {line[f.start : f.end] for f in analysis.findings if f.entity_type == "LOCATION"}
    assert found == places
    assert bool(analysis.ner_windows) is window


def test_a_given_name_after_a_place_cue_opens_a_person() -> None:
    line = "2024-05-01 WARN ticket from Noah Murphy in Chicago, reply to ops"
    found = {(line[f.start : f.end], f.entity_type) for f in RECOGNIZER.analyse(line).findings}
    assert found == {("Noah Murphy", "PERSON"), ("Chicago", "LOCATION")}
