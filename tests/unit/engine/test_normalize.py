from __future__ import annotations

import pytest

from scrubber.engine.normalize import normalize


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("plain ascii", "plain ascii"),
        ("john%40example.com", "john@example.com"),
        ("ｊｏｈｎ＠example.com", "john@example.com"),
        ("jo\u200bhn@exa\u200dmple.com", "john@example.com"),
        ("\u2064x\ufeffy", "xy"),
        ("100% sure", "100% sure"),
        ("%zz%4", "%zz%4"),
    ],
)
def test_normalized_text(text: str, normalized: str) -> None:
    assert normalize(text).text == normalized


def test_offsets_map_back_to_the_original_span() -> None:
    text = "mail: jo\u200bhn%40exa\u200bmple.com!"
    norm = normalize(text)
    start = norm.text.index("john")
    end = start + len("john@example.com")
    s, e = norm.original_span(start, end)
    assert text[s:e] == "jo\u200bhn%40exa\u200bmple.com"


ESC = "\x1b"


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        (f"{ESC}[31mred{ESC}[0m text", "red text"),
        (f"{ESC}[1;38;5;208mbold{ESC}[m", "bold"),
        (f"{ESC}]0;window title\x07after", "after"),
        (f"{ESC}]8;;https://example.com{ESC}\\link{ESC}]8;;{ESC}\\", "link"),
        (f"{ESC}(B{ESC}[mreset", "reset"),
        ("\x9b32mgreen", "green"),
        ("spelled \\x1b[33mout\\x1b[0m", "spelled out"),
        ("octal \\033[1mbold\\033[0m", "octal bold"),
        ("caret ^[[32mok^[[0m", "caret ok"),
        ("a lone \x1b escape", "a lone  escape"),
        ("C:\\temp\\e[1]", "C:\\temp\\e[1]"),  # spelled, but not a colour: a path
        ("[31m without escape", "[31m without escape"),
    ],
)
def test_ansi_escape_sequences_are_dropped(text: str, normalized: str) -> None:
    assert normalize(text).text == normalized


def test_a_token_in_colour_codes_maps_back_to_its_original_offsets() -> None:
    token = "AKIA" + "Q7ZX5WVB2M4NJ8KR"
    text = f"deploy key: {ESC}[1;31m{token}{ESC}[0m done"
    norm = normalize(text)
    start = norm.text.index(token)
    s, e = norm.original_span(start, start + len(token))
    assert text[s:e] == token
    assert norm.text == f"deploy key: {token} done"
