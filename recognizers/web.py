"""URLs that point at a person: a personal website, a social profile.

Most URLs in logs name services (`GET https://api.internal/v1/orders`), and scrubbing them would
leave logs useless; query strings are scanned by the other recognizers anyway (an e-mail, a
token). A URL is personal when the text says so (`My website is …`, `Website:`, `blog: …`,
`find me at …`) or when it is a profile on a social site (`linkedin.com/in/…`,
`instagram.com/<handle>`, `github.com/<user>` with nothing after the user). Those are reported
whole as `URL`. A mention such as `@jdoe_99` is a `USERNAME`.
"""

from __future__ import annotations

from recognizers.base import PatternRecognizer

_ENTITY = "URL"
# A URL runs to whitespace or a quote; trailing sentence punctuation is not part of it.
_URL = r"(?:https?://|www\.)[^\s<>\"'`]*[^\s<>\"'`.,;:!?)\]]"
_CUE = (
    r"\b(?:web ?site|home ?page|blog|portfolio|(?:my|personal|professional) (?:site|page|profile)"
    r"|profile(?: page| link| url)?|find me (?:at|on)|visit me (?:at|on))"
)
_CUE_TRIGGERS = (
    "website", "web site", "homepage", "home page", "blog", "portfolio", "my site", "my page",
    "my profile", "personal site", "personal page", "personal profile", "professional",
    "profile", "find me", "visit me",
)  # fmt: skip

_SOCIAL_HOSTS = (
    r"linkedin\.com/(?:in|pub)|facebook\.com|fb\.com|instagram\.com|twitter\.com|x\.com"
    r"|tiktok\.com/@|youtube\.com/@|medium\.com/@|github\.com|gitlab\.com|t\.me|threads\.net/@"
)
_SOCIAL_TRIGGERS = (
    "linkedin.com/", "facebook.com/", "fb.com/", "instagram.com/", "twitter.com/", "x.com/",
    "tiktok.com/@", "youtube.com/@", "medium.com/@", "github.com/", "gitlab.com/", "t.me/",
    "threads.net/@",
)  # fmt: skip
# First path segments that are site pages, not people.
_SITE_PAGES = frozenset(
    (
        "login", "signup", "sharer", "share", "intent", "home", "explore", "settings", "search",
        "about", "help", "privacy", "terms", "features", "pricing", "marketplace", "notifications",
        "orgs", "organizations", "topics", "apps", "api", "watch", "hashtag", "i", "p", "reel",
        "stories", "groups", "pages", "events", "jobs", "company", "school", "feed", "messages",
        "dialog", "plugins", "tr", "status", "sponsors", "enterprise", "team", "security",
    )
)  # fmt: skip


def _profile_url(value: str) -> bool:
    """`…/in/jane-doe`, `instagram.com/jane.doe`: the handle is not a page of the site."""
    handle = value.rstrip("/").rsplit("/", 1)[-1].lstrip("@").lower()
    return len(handle) >= 2 and handle not in _SITE_PAGES


# Mentions that address everyone, and words after `@` in code and configs (`@Override`).
_NOT_HANDLES = frozenset(("here", "channel", "everyone", "all", "team", "admin", "types"))


def _handle(value: str) -> bool:
    """`@jdoe_99`, `@maria.k`: a digit, `_` or `.` inside, or not a plain word. Decorators and
    annotations (`@property`, `@Override`) are words; `@here` pings everyone."""
    name = value.lstrip("@").lower()
    if name in _NOT_HANDLES or len(name) < 3:
        return False
    return any(c.isdigit() or c in "_." for c in name)


WEB_RECOGNIZERS: tuple[PatternRecognizer, ...] = (
    PatternRecognizer(
        name="personal_url",
        entity_type=_ENTITY,
        pattern=rf"(?i){_CUE}\W{{0,6}}(?:(?:is|at|on|here|see)\W{{1,3}}){{0,2}}({_URL})",
        score=0.8,
        value_group=1,
        triggers=_CUE_TRIGGERS,
        ignore_case=True,
    ),
    PatternRecognizer(
        name="social_profile_url",
        entity_type=_ENTITY,
        # One path segment after the host (`github.com/jane`, not `github.com/org/repo`).
        pattern=rf"(?i)(?:^|[^\w.@/-])((?:https?://)?(?:www\.|[a-z]{{2}}\.|m\.)?(?:{_SOCIAL_HOSTS})"
        r"/@?[A-Za-z0-9_.-]*[A-Za-z0-9_]/?)(?:$|[\s\"'<>),;\]]|[.!?](?:\s|$))",
        score=0.8,
        value_group=1,
        triggers=_SOCIAL_TRIGGERS,
        validator=_profile_url,
        ignore_case=True,
    ),
    PatternRecognizer(
        name="social_handle",
        entity_type="USERNAME",
        # `Reply to @jdoe_99 on Twitter`: a mention after a space or an opening bracket; not an
        # e-mail (`a@b`), an npm scope (`@types/node`) or a decorator call (`@app.route(`).
        pattern=r"(?:^|[\s(\[])(@[A-Za-z0-9_](?:[A-Za-z0-9_.]{1,28}[A-Za-z0-9_])?)"
        r"(?:$|[\s,;:!?)\]]|\.(?:\s|$))",
        score=0.7,
        value_group=1,
        triggers=("@",),
        validator=_handle,
    ),
    PatternRecognizer(
        name="social_mention",
        entity_type="USERNAME",
        # `cc @bob`, `thanks @maria`: a lower-case word after `@` and a word that addresses
        # someone. Elsewhere `@word` is code: a decorator (`@property`), a Ruby instance
        # variable (`<%= @user %>`), an annotation (`@Override`).
        pattern=r"(?i:\b(?:cc|to|thanks|thank you|thx|ty|ping|ask|hey|hi|hello|by|from|with|and"
        r"|via|for))[ \t]+(@[a-z]{3,30})(?:$|[\s,;:!?)\]]|\.(?:\s|$))",
        score=0.7,
        value_group=1,
        triggers=("@",),
        validator=lambda value: value[1:] not in _NOT_HANDLES,
    ),
)
