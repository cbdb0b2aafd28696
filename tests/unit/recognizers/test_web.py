"""Table tests for personal URLs: cue-led websites and social profiles; service URLs survive."""

from __future__ import annotations

import pytest

from recognizers.web import WEB_RECOGNIZERS


def urls(text: str) -> list[str]:
    spans = {(f.start, f.end) for r in WEB_RECOGNIZERS for f in r.scan(text)}
    return [text[start:end] for start, end in sorted(spans)]


HITS = [
    ("My website is http://www.ScrapbookInsider.example.pt/", ["http://www.ScrapbookInsider.example.pt/"]),
    ("E-mail: a@b.example\nWebsite:\nhttps://www.UEarly.example/", ["https://www.UEarly.example/"]),
    ("Check my blog: https://janedoe.example/posts/1. Thanks!", ["https://janedoe.example/posts/1"]),
    ("Find me at www.jane-doe.example", ["www.jane-doe.example"]),
    ("portfolio -> https://jd.example/work", ["https://jd.example/work"]),
    ("connect on https://www.linkedin.com/in/jane-doe-12345/ please",
     ["https://www.linkedin.com/in/jane-doe-12345/"]),
    ("follow instagram.com/jane.doe and twitter.com/@janedoe",
     ["instagram.com/jane.doe", "twitter.com/@janedoe"]),
    ('{"author": "https://github.com/janedoe"}', ["https://github.com/janedoe"]),
    ("Reply to @jdoe_99 on Twitter", ["@jdoe_99"]),
    ("thanks @maria.k!", ["@maria.k"]),
    ("cc @bob, please review", ["@bob"]),
]  # fmt: skip

NEAR_MISSES = [
    "GET https://api.example.com/v1/orders 200 12ms",
    "clone https://github.com/apache/kafka.git",
    "https://github.com/org/repo/pull/12 merged",
    "https://www.facebook.com/sharer/sharer.php?u=x",
    "see https://twitter.com/intent/tweet",
    "https://github.com/login redirect",
    "profile updated for user 42 at https://app.example.com/settings",
    "website redesign shipped",
    "dropbox.com/s/abc upload ok",
    "@Override public void run()",
    "    @property",
    "public @Nullable String name",
    "npm i @types/node",
    "@app.route('/x')",
    "ping @here please",
    "mail a@b.example now",
]


@pytest.mark.parametrize(("text", "expected"), HITS)
def test_personal_urls_are_found_whole(text: str, expected: list[str]) -> None:
    assert urls(text) == expected


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_service_urls_and_site_pages_survive(text: str) -> None:
    assert urls(text) == []
