"""URLs that point at a person: a personal website, a social profile.

Most URLs in logs name services (`GET https://api.internal/v1/orders`), and scrubbing them would
leave logs useless; query strings are scanned by the other recognizers anyway (an e-mail, a
token). A URL is personal when the text says so (`My website is …`, `Website:`, `blog: …`,
`find me at …`) or when it is a profile on a social site (`linkedin.com/in/…`,
`instagram.com/<handle>`, `github.com/<user>` with nothing after the user). Those are reported
whole as `URL`.
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
)
