"""Provider token formats: the public shapes of API keys and tokens, one recognizer per format.

Each format is data: the exact token as RE2 (prefix, alphabet, lengths), read from what the
providers and public scanners (gitleaks, trufflehog, detect-secrets) document. A format becomes a
recognizer that runs only when its trigger — the literal prefix, lower-cased — is in the text, so
the list can grow without costing the lines that hold none of them (the prefilter is one RE2 set
pass over all triggers).

Matching: the token, then any alphanumerics that follow it, must be exactly the format (so a
longer string that merely starts like a token is not cut into one). The part after the literal
prefix must look generated (`secret_values.random_token`: whole-value placeholder checks only)
and not be a name from code (`re_compiled_patternsforfastmatching` is no Resend key).
Formats whose value has no prefix of its own are bound to the provider's name instead
(`HEROKU_API_KEY = <uuid>`, `sourcegraph: <40 hex>`): `_KEYWORD_FORMATS`.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import re2

from recognizers.base import PatternRecognizer, Validator
from recognizers.secret_values import (
    SecretRecognizer,
    entropy,
    is_described,
    is_identifier,
    random_token,
    secret_pattern,
    shape,
    whole_value_placeholder,
)


def _n(alphabet: str, count: int | str) -> str:
    return f"{alphabet}{{{count}}}"


def _alphabet(chars: str) -> Callable[[int | str], str]:
    return lambda count: _n(chars, count)


# `an(36)` = 36 letters and digits; hx: lower-case hex; ahx: hex of either case; lan / uan:
# lower / upper-case letters and digits; wd: base64url (`_`, `-`); b64: base64 (`+`, `/`).
an, hx, ahx, lan, uan, wd, b64 = map(
    _alphabet,
    ("[A-Za-z0-9]", "[a-f0-9]", "[a-fA-F0-9]", "[a-z0-9]", "[A-Z0-9]", "[A-Za-z0-9_-]",
     "[A-Za-z0-9+/]"),
)  # fmt: skip
UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_B64_TAIL = "[A-Za-z0-9+/=]"


@dataclass(frozen=True)
class TokenFormat:
    """One provider's token. `pattern` is the exact token (case-sensitive RE2); `triggers`
    default to its literal prefix; `tail` is what may not follow it; `check`, if given, replaces
    the randomness check of the part after the prefix."""

    name: str
    pattern: str
    triggers: tuple[str, ...] = ()
    tail: str = "[A-Za-z0-9]"
    check: Validator | None = None
    score: float = 0.9


_LITERAL_ESCAPES = frozenset(".-+/$|_~:!=*?()[]{}")
_STOP = frozenset("[({.?*+|^$\\")


def literal_prefix(pattern: str) -> str:
    """The characters every match starts with: `dp\\.pt\\.` -> `dp.pt.`; `hv[sbr]\\.` -> `hv`."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern) and pattern[i + 1] in _LITERAL_ESCAPES:
            literal, width = pattern[i + 1], 2
        elif char in _STOP:
            break
        else:
            literal, width = char, 1
        if pattern[i + width : i + width + 1] in ("?", "*", "{"):
            break  # an optional or repeated character is not part of every match
        out.append(literal)
        i += width
    return "".join(out)


def _format_recognizer(fmt: TokenFormat) -> SecretRecognizer:
    prefix = literal_prefix(fmt.pattern)
    if not fmt.triggers and len(prefix) < 2:
        raise ValueError(f"{fmt.name}: give triggers (its literal prefix is {prefix!r})")
    triggers = fmt.triggers or (prefix.lower(),)
    exact = re2.compile(fmt.pattern)
    check = fmt.check

    mixed_alphabet = "A-Za-z" in fmt.pattern

    def valid(value: str) -> bool:
        if not exact.fullmatch(value):
            return False
        if check is not None:
            return check(value)
        body = value[len(prefix) :]
        if mixed_alphabet and _hex_digest(body):
            return False  # `favicon.ico-<md5>.png`: a fingerprint where letters of both cases go
        return random_token(body) and not is_identifier(body)

    start = r"\b" if fmt.pattern[0].isalnum() or fmt.pattern[0] in "[(\\" else ""
    return secret_pattern(
        fmt.name, rf"{start}(?:{fmt.pattern}){fmt.tail}*", triggers, valid, score=fmt.score
    )


# ---------------------------------------------------------------------------------------------
# Checks for formats that carry more structure than an alphabet and a length
# ---------------------------------------------------------------------------------------------

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def base62_crc32(text: str) -> str:
    """GitHub's and npm's token checksum: CRC32 of the random part, base62, 6 characters."""
    value, digits = zlib.crc32(text.encode()), []
    for _ in range(6):
        value, digit = divmod(value, 62)
        digits.append(_BASE62[digit])
    return "".join(reversed(digits))


def _checksummed(prefix_len: int) -> Validator:
    """A valid checksum vouches for the token whatever it spells; without one, it must look
    random (tokens from older issuers and test fixtures carry none)."""

    def check(value: str) -> bool:
        body = value[prefix_len:]
        if len(body) == 36 and base62_crc32(body[:30]) == body[30:]:
            return True
        return random_token(body)

    return check


def _gitlab(value: str) -> bool:
    """GitLab: fixed body lengths for trigger (40 hex), OAuth secret (64), incoming mail (25)."""
    bodies = {"glptt": (40, 40), "gloas": (64, 64), "glimt": (25, 25), "glagent": (50, 300)}
    prefix, _, body = value.partition("-")
    if value.startswith("GR1348941"):
        prefix, body = "GR1348941", value[9:]
    low, high = bodies.get(prefix, (20, 300))
    return low <= len(body) <= high and random_token(body)


def _slack(value: str) -> bool:
    """Slack: the last dash segment is the random part; it has letters and 8+ characters."""
    tail = value.rsplit("-", 1)[-1]
    return (
        len(tail) >= 8
        and any(c.isalpha() for c in tail)
        and not whole_value_placeholder(value[5:])
        and not is_described(value[5:])
    )


def _openai(value: str) -> bool:
    """OpenAI-style `sk-` keys (compatible providers use them too); Anthropic's have a rule."""
    if value.startswith("sk-ant-") or len(value) < 32:
        return False
    body = value[3:]
    mixed = any(c.islower() for c in body) and any(c.isupper() for c in body)
    is_hex = all(c in "0123456789abcdef" for c in body)
    if not (mixed or is_hex) or not any(c.isdigit() for c in body):
        return False
    return entropy(body) >= (3.3 if is_hex else 3.5) and random_token(body)


def _huggingface(value: str) -> bool:
    """`hf_` or `api_org_` and 34 random letters of both cases."""
    body = value.rsplit("_", 1)[-1]
    return not body.islower() and not body.isupper() and random_token(body)


def _sendgrid(value: str) -> bool:
    return random_token(value[3:].replace(".", ""))


_DISCORD_SHAPE = shape(59, 80, mixed_case=True, digit=True)


def _discord(value: str) -> bool:
    """Discord bot token: base64 of the numeric bot id (so M, N or O first), a time stamp, an
    HMAC. Test fixtures rarely encode a real id, so the id is not decoded; only its length is
    held (in the pattern)."""
    return _DISCORD_SHAPE(value)


def _telegram(value: str) -> bool:
    return random_token(value.split(":", 1)[1])


def _prefixed_json(value: str) -> bool:
    """`ops_eyJ…`, `glc_eyJ…`, `sntrys_eyJ…`: a vendor prefix over base64 JSON."""
    body = value.split("_", 1)[1]
    try:
        head = base64.b64decode(body[:20] + "=" * (-len(body[:20]) % 4)).decode("latin-1")
    except (binascii.Error, ValueError):
        head = ""
    return head.startswith('{"') and random_token(body)


def _json_b64(value: str) -> bool:
    """`eyJrIjoi…` (a Grafana API key): base64 JSON with a random key inside."""
    body = value.split(".", 1)[0]
    try:
        raw = base64.b64decode(body + "=" * (-len(body) % 4))
        return isinstance(json.loads(raw), dict)
    except (binascii.Error, ValueError):
        return random_token(body)


_LOWER_HEX = frozenset("0123456789abcdef")
_MIXED_SHAPE = shape(8, mixed_case=True)


def _hex_digest(body: str) -> bool:
    """16+ characters of lower-case hex: what a random letters-and-digits body never is."""
    return len(body) >= 16 and _LOWER_HEX.issuperset(body)


def _hex_with_letters(value: str) -> bool:
    body = value.replace("-", "")
    return any(c.isalpha() for c in body) and entropy(body) >= 3.0 and random_token(body)


# ---------------------------------------------------------------------------------------------
# The formats
# ---------------------------------------------------------------------------------------------

_F = TokenFormat
_AWS = r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA)"
_GITLAB = (r"(?:(?:glpat|gldt|glptt|glrt|glrtr|glft|glcbt|glimt|glagent|gloas|glsoat|gltst"
           r"|glffct|glwt)-|GR1348941)")  # fmt: skip

TOKEN_FORMATS: tuple[TokenFormat, ...] = (
    # Cloud providers
    _F("aws_access_key_id", _AWS + uan(16),
       ("akia", "asia", "abia", "acca", "a3t", "agpa", "aida", "aipa", "anpa", "anva", "aroa",
        "apka")),
    _F("aws_bedrock_api_key", "ABSK" + b64("109,269") + "={0,2}", tail=_B64_TAIL),
    _F("aws_bedrock_short_lived_key", "bedrock-api-key-" + b64("40,1000") + "={0,2}",
       tail=_B64_TAIL),
    _F("google_api_key", r"AIza[\w-]{35}", ("aiza",), tail=r"[\w-]"),
    _F("google_oauth_client_secret", r"GOCSPX-[\w-]{28}", tail=r"[\w-]"),
    _F("google_oauth_access_token", r"ya29\.[\w-]{30,1000}", tail=r"[\w-]"),
    _F("google_oauth_refresh_token", r"1//0[\w-]{40,500}", tail=r"[\w-]"),
    _F("azure_storage_account_key", b64(76) + r"\+ASt" + b64("4,6") + "={0,2}", ("+ast",),
       tail=_B64_TAIL),
    _F("azure_cosmos_db_key", b64(76) + "ACDb" + b64("4,6") + "={0,2}", ("acdb",),
       tail=_B64_TAIL),
    _F("azure_service_bus_key", b64(33) + r"\+ASb" + b64(7) + "=", ("+asb",), tail=_B64_TAIL),
    _F("azure_event_hub_key", b64(33) + r"\+AEh" + b64(7) + "=", ("+aeh",), tail=_B64_TAIL),
    _F("azure_container_registry_password", b64(42) + r"\+ACR" + an(6), ("+acr",)),
    _F("azure_function_key", wd(44) + "AzFu" + wd(5) + "==", ("azfu",), tail=_B64_TAIL),
    _F("alibaba_access_key_id", "LTAI" + an("17,21")),
    _F("tencent_secret_id", "AKID" + an(32)),
    _F("yandex_api_key", "AQVN" + wd("35,38")),
    _F("yandex_iam_token", r"t1\.[A-Z0-9a-z_-]{60,100}={0,2}\." + wd(86) + "={0,2}",
       tail=r"[\w=-]"),
    _F("yandex_oauth_token", "y0_" + wd("50,60"), tail=r"[\w-]"),
    _F("scaleway_access_key", "SCW" + uan(17)),
    _F("digitalocean_pat", "dop_v1_" + hx(64)),
    _F("digitalocean_oauth_token", "doo_v1_" + hx(64)),
    _F("digitalocean_refresh_token", "dor_v1_" + hx(64)),
    _F("heroku_api_key", "HRKU-AA" + wd(58), tail=r"[\w-]"),
    _F("flyio_access_token", r"fm[12][ar]?_" + b64("100,1000") + "={0,3}", ("fm1", "fm2"),
       tail=_B64_TAIL),
    _F("flyio_org_token", "fo1_" + wd(43), tail=r"[\w-]"),
    _F("netlify_pat", "nfp_" + an(36)),
    _F("render_api_key", "rnd_" + an(32)),
    _F("scalingo_api_token", "tk-us-" + wd(48), tail=r"[\w-]"),
    _F("cloudflare_origin_ca_key", r"v1\.0-" + hx(24) + "-" + hx(146)),
    _F("cloudflare_api_token", "cf[ua]t_" + an(40) + hx(8), ("cfut_", "cfat_")),
    _F("cloudflare_global_key", "cfk_" + an(40) + hx(8)),
    _F("deno_deploy_token", "dd[pw]_" + an(36), ("ddp_", "ddw_")),
    _F("vault_token", r"hv[sbr]\." + wd("24,300"), ("hvs.", "hvb.", "hvr."), tail=r"[\w-]"),
    _F("terraform_cloud_token", an(14) + r"\.atlasv1\." + _n(r"[\w=-]", "60,70"), ("atlasv1",),
       tail=r"[\w=-]"),
    _F("openshift_user_token", "sha256~" + wd(43), tail=r"[\w-]"),
    # Databases and data platforms as a service
    _F("databricks_token", "dapi" + hx(32) + r"(?:-\d)?"),
    _F("supabase_access_token", "sbp_" + hx(40)),
    _F("supabase_secret_key", "sb_secret_" + wd("20,64"), tail=r"[\w-]"),
    _F("neon_api_key", "napi_" + lan(64)),
    _F("planetscale_token", "pscale_tkn_" + _n(r"[\w=.-]", "32,64"), tail=r"[\w=.-]"),
    _F("planetscale_password", "pscale_pw_" + _n(r"[\w=.-]", "32,64"), tail=r"[\w=.-]"),
    _F("planetscale_oauth_token", "pscale_oauth_" + _n(r"[\w=.-]", "32,64"), tail=r"[\w=.-]"),
    _F("clickhouse_cloud_secret", "4b1d" + an(38)),
    _F("pinecone_api_key", "pcsk_" + an("5,6") + "_" + an(63)),
    # Payments and commerce
    _F("stripe_secret_key", "[rs]k_(?:live|test|prod)_" + an("16,247"),
       ("sk_live_", "sk_test_", "sk_prod_", "rk_live_", "rk_test_", "rk_prod_")),
    # Publishable keys ship in web pages: reported below the default threshold.
    _F("stripe_publishable_key", "pk_(?:live|test)_" + an("16,247"), ("pk_live_", "pk_test_"),
       score=0.3),
    _F("stripe_webhook_secret", "whsec_" + an("32,64")),
    _F("stripe_client_secret", "(?:pi|seti)_" + an(24) + "_secret_" + an(25), ("_secret_",)),
    _F("razorpay_key", "rzp_(?:live|test)_" + an(14), ("rzp_",)),
    _F("flutterwave_secret_key", "FLWSECK(?:_TEST)?-" + _n("[a-hA-H0-9]", 32) + "-X",
       ("flwseck",)),
    _F("flutterwave_encryption_key", "FLWSECK_TEST" + _n("[a-hA-H0-9]", 12)),
    _F("square_access_token", "sq0atp-" + wd("22,60"), tail=r"[\w-]"),
    _F("square_oauth_secret", "sq0csp-" + wd("40,50"), tail=r"[\w-]"),
    _F("square_sandbox_token", "EAAA" + wd(60), tail=r"[\w-]"),
    _F("braintree_access_token",
       r"access_token\$(?:production|sandbox)\$" + lan(16) + r"\$" + hx(32), ("access_token$",)),
    _F("pagarme_api_key", "ak_(?:live|test)_" + an(30), ("ak_live_", "ak_test_")),
    _F("checkout_secret_key", "sk_(?:sbox_|test_)?" + UUID, ("sk_",)),
    _F("plaid_access_token", "access-(?:sandbox|development|production)-" + UUID, ("access-",)),
    _F("recharge_api_key", "sk(?:_test)?_(?:1|2|3|5|10)x[123]_" + ahx(64), ("sk_",)),
    _F("ramp_client_id", "ramp_id_" + an(40)),
    _F("ramp_client_secret", "ramp_sec_" + an(48)),
    _F("duffel_api_token", "duffel_(?:test|live)_" + _n(r"[\w=-]", 43), ("duffel_",),
       tail=r"[\w=-]"),
    _F("easypost_api_key", "EZ[AT]K" + an(54), ("ezak", "eztk")),
    _F("shippo_api_token", "shippo_(?:live|test)_" + ahx(40), ("shippo_",)),
    _F("fleetbase_api_key", "flb_live_" + an(20)),
    _F("robinhood_crypto_key", "rh-api-" + UUID),
    _F("shopify_access_token", "shpat_" + ahx(32)),
    _F("shopify_shared_secret", "shpss_" + ahx(32)),
    _F("shopify_custom_app_token", "shpca_" + ahx(32)),
    _F("shopify_private_app_token", "shppa_" + ahx(32)),
    _F("lob_api_key", "(?:live|test)_(?:pub_)?" + hx("31,35"), ("live_", "test_"),
       check=_hex_with_letters),
    # Analytics, monitoring and incident tools
    _F("posthog_personal_key", "phx_" + _n(r"[\w]", "43,48"), tail=r"\w"),
    _F("new_relic_user_key", "NRAK-" + uan(27)),
    _F("new_relic_insert_key", "NRII-" + wd("25,32"), tail=r"[\w-]"),
    _F("new_relic_query_key", "NRIQ-" + wd("25,32"), tail=r"[\w-]"),
    _F("new_relic_browser_key", "NR(?:JS|BR)-" + hx(19), ("nrjs-", "nrbr-")),
    _F("new_relic_license_key", hx(36) + "NRAL", ("nral",), check=_hex_with_letters),
    _F("sentry_user_token", "sntryu_" + hx(64)),
    _F("grafana_cloud_token", "glc_" + b64("32,400") + "={0,3}", tail=_B64_TAIL),
    _F("grafana_service_account_token", "glsa_" + an(32) + "_" + ahx(8)),
    _F("grafana_api_key", "eyJrIjoi" + an("70,400") + "={0,3}", check=_json_b64,
       tail=_B64_TAIL),
    _F("dynatrace_api_token", r"dt0[a-z][0-9]{2}\." + uan(24) + r"\." + an(64),
       ("dt0",)),
    _F("fullstory_api_key", r"na1\." + b64(100) + "={0,2}", tail=_B64_TAIL),
    _F("launchdarkly_key", "(?:api|sdk|mob)-" + UUID, ("api-", "sdk-", "mob-")),
    _F("nightfall_api_key", "NF-" + an(32)),
    _F("rootly_api_key", "rootly_" + hx(64)),
    _F("pubnub_publish_key", "pub-c-" + UUID),
    _F("pubnub_secret_key", "sec-c-" + an(48)),
    _F("checkly_api_key", "cu_" + hx(32)),
    # Design, CRM, productivity and content
    _F("figma_pat", "fig[dp]_" + _n(r"[\w=-]", "40,54"), ("figd_", "figp_"), tail=r"[\w=-]"),
    _F("adobe_client_secret", "p8e-" + an(32)),
    _F("hubspot_private_app_token", "pat-(?:na|eu)1-" + UUID, ("pat-na1-", "pat-eu1-")),
    _F("salesforce_access_token", "00D" + an("12,15") + "!" + _n(r"[\w.]", "90,110"),
       ("00d",), tail=r"[\w.]", check=lambda v: random_token(v.split("!", 1)[1])),
    _F("salesforce_consumer_key", "3MVG9" + _n(r"[\w.+/=]", "80,251"), tail=r"[\w.+/=]"),
    _F("salesforce_refresh_token", "5AEP861" + _n(r"[\w.=]", "80,200"), tail=r"[\w.=]"),
    _F("zoho_token", r"1000\." + hx(32) + r"\." + hx(32)),
    _F("airtable_pat", "pat" + an(14) + r"\." + hx(64), ("pat",)),
    _F("airtable_oauth_token", an("10,30") + r"\.v1\." + wd("20,200") + r"\." + hx("20,64"),
       (".v1.",)),
    _F("asana_pat", r"[12]/[0-9]{16}(?:/[0-9]{16})?:" + an("32,40"), ("1/1", "2/1"),
       check=lambda v: random_token(v.rsplit(":", 1)[1])),
    _F("clickup_personal_token", "pk_[0-9]{6,9}_" + uan(32), ("pk_",)),
    _F("linear_api_key", "lin_api_" + an(40)),
    _F("linear_oauth_token", "lin_oauth_" + hx(64)),
    _F("notion_token", "(?:ntn_[0-9]{11}" + an(35) + "|secret_" + an(43) + ")",
       ("ntn_", "secret_")),
    _F("typeform_token", "tfp_" + _n(r"\w", "40,59"), tail=r"\w"),
    _F("atlassian_api_token", "ATATT3" + _n(r"[\w=-]", "150,250"), tail=r"[\w=-]"),
    _F("atlassian_cloud_token", "ATCTT3" + _n(r"[\w+/=-]", "100,250"), tail=r"[\w+/=-]"),
    _F("bitbucket_app_password", "ATBB" + an("28,40")),
    _F("contentful_pat", "CFPAT-" + wd(43), tail=r"[\w-]"),
    _F("dropbox_short_lived_token", r"sl\.[A-Za-z0-9_=.-]{130,1000}", ("sl.",),
       tail=r"[\w=.-]"),
    _F("intercom_access_token", "dG9rO" + b64("40,120") + "={0,2}", tail=_B64_TAIL),
    _F("mailchimp_api_key", hx(32) + r"-us[0-9]{1,2}", ("-us",), tail=r"[0-9]"),
    _F("mailgun_api_key", "key-" + hx(32), check=_hex_with_letters),
    _F("brevo_api_key", "xkeysib-" + hx(64) + "-" + an(16)),
    _F("brevo_smtp_key", "xsmtpsib-" + hx(64) + "-" + an(16)),
    _F("mailersend_api_token", r"mlsn\." + hx(64)),
    _F("resend_api_key", "re_" + an("8,12") + "_" + an("20,30"), ("re_",)),
    _F("sendgrid_api_key", r"SG\." + wd(22) + r"\." + wd(43), ("sg.",), tail=r"[\w-]",
       check=_sendgrid),
    _F("twilio_key_or_sid", "(?:AC|SK)" + hx(32), ("ac", "sk"), check=_hex_with_letters),
    _F("zapier_webhook", r"hooks\.zapier\.com/hooks/catch/[0-9]{5,10}/" + lan("5,10"),
       ("hooks.zapier.com",), tail=r"[a-z0-9]"),
    _F("mapbox_secret_token", r"sk\.eyJ" + wd("50,300") + r"\." + wd("20,30"), ("sk.eyj",),
       tail=r"[\w-]"),
    _F("locationiq_token", r"pk\." + hx(32)),
    _F("stytch_secret", "secret-(?:live|test)-" + _n(r"[\w=-]", 36), ("secret-live-",
       "secret-test-"), tail=r"[\w=-]"),
    # AI and ML APIs
    _F("anthropic_api_key", r"sk-ant-(?:api|admin|sid|oat|ort)[0-9]{2}-" + wd("32,200"),
       ("sk-ant-",), tail=r"[\w-]"),
    _F("openai_api_key", r"sk-(?:proj-|svcacct-|admin-|None-)?" + wd("29,300"), ("sk-",),
       tail=r"[\w-]", check=_openai),
    _F("openrouter_api_key", "sk-or-v1-" + hx(64)),
    _F("groq_api_key", "gsk_" + an(52)),
    _F("xai_api_key", "xai-" + an(80)),
    _F("perplexity_api_key", "pplx-" + an(48)),
    _F("replicate_api_token", "r8_" + an(37)),
    _F("huggingface_token", "(?:hf_|api_org_)[A-Za-z]{34}", ("hf_", "api_org_"),
       check=_huggingface),
    _F("fireworks_api_key", "fw_" + an(24)),
    _F("langsmith_api_key", "lsv2_(?:pt|sk)_" + hx(32) + "_" + hx(10), ("lsv2_",)),
    _F("tavily_api_key", "tvly-(?:dev-|prod-)?" + an(32), ("tvly-",)),
    _F("elevenlabs_api_key", "sk_" + hx(48), check=_hex_with_letters),
    _F("nvidia_api_key", "nvapi-" + wd(64), tail=r"[\w-]"),
    _F("cerebras_api_key", "csk-" + lan(48)),
    _F("firecrawl_api_key", "fc-" + hx(32), check=_hex_with_letters),
    _F("jina_api_key", "jina_" + an("56,64")),
    # Source hosting, CI/CD, registries and developer tools
    _F("github_token", "gh[pousr]_" + an(36), ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
       check=_checksummed(4)),
    _F("github_fine_grained_pat", r"github_pat_\w{82}", tail=r"\w"),
    _F("gitlab_token", _GITLAB + r"[\w.-]{20,300}",
       ("glpat-", "gldt-", "glptt-", "glrt", "glft-", "glcbt-", "glimt-", "glagent-", "gloas-",
        "glsoat-", "gltst-", "glffct-", "glwt-", "gr1348941"), tail=r"[\w.-]", check=_gitlab),
    _F("circleci_token", "CCIP(?:AT|RJ)_" + an(22) + "_" + ahx(40), ("ccipat_", "cciprj_")),
    _F("buildkite_token", "bkua_" + lan(40)),
    _F("docker_hub_pat", "dckr_pat_" + wd(27), tail=r"[\w-]"),
    _F("docker_hub_org_token", "dckr_oat_" + wd(32), tail=r"[\w-]"),
    _F("artifactory_api_key", "AKCp" + an(69)),
    _F("artifactory_reference_token", "cmVmd" + an(59)),
    _F("harness_token", r"(?:pat|sat)\." + wd(22) + r"\." + an(24) + r"\." + an(20),
       ("pat.", "sat.")),
    _F("octopus_deploy_api_key", "API-" + uan(26)),
    _F("pulumi_access_token", "pul-" + hx(40)),
    _F("doppler_token", r"dp\.(?:pt|st|sa|ct|scim|audit)\." + an("40,44"), ("dp.",)),
    _F("prefect_api_key", "pnu_" + an(36)),
    _F("readme_api_key", "rdme_" + lan(70)),
    _F("postman_api_key", "PMAK-" + ahx(24) + "-" + ahx(34)),
    _F("rubygems_api_key", "rubygems_" + hx(48)),
    _F("clojars_token", "CLOJARS_" + lan(60)),
    _F("nuget_api_key", "oy2" + lan(43)),
    _F("crates_io_token", "cio" + an(32)),
    _F("npm_token", "npm_" + an(36), check=_checksummed(4)),
    # A macaroon: `AgE` + the location (pypi.org, test.pypi.org) + identifier and caveats.
    _F("pypi_upload_token", r"pypi-AgE[\w-]{100,1000}", ("pypi-age",), tail=r"[\w-]"),
    _F("sonarqube_token", "sq[apu]_" + an(40), ("sqa_", "sqp_", "squ_")),
    _F("sonarcloud_token", "sqco_" + an(59)),
    _F("sourcegraph_token", "sgp_(?:" + ahx(16) + "_|local_)?" + ahx(40), ("sgp_",)),
    _F("sourcegraph_cody_token", "slk_" + hx(64)),
    _F("infracost_api_key", "ico-" + an(32), check=_MIXED_SHAPE),
    _F("tailscale_key", "tskey-(?:auth|api|client|scim|webhook)-" + an("6,20") + "-" + an(
       "20,64"), ("tskey-",), check=lambda v: random_token(v.rsplit("-", 1)[1])),
    _F("defined_networking_token", "dnkey-" + _n(r"[a-z0-9=_-]", 26) + "-" +
       _n(r"[a-z0-9=_-]", 52), tail=r"[\w=-]"),
    _F("frameio_api_token", "fio-u-" + _n(r"[\w=-]", 64), tail=r"[\w=-]"),
    _F("endorlabs_api_key", r"endr\+" + _n("[A-Za-z0-9-]", 16), ("endr+",)),
    _F("trufflehog_enterprise_key", "thog-(?:key-" + hx(16) + "|secret-" + hx(32) + ")",
       ("thog-key-", "thog-secret-")),
    _F("apify_api_token", "apify_api_" + an(36)),
    _F("adafruit_io_key", "aio_" + an(28)),
    _F("bannerbear_api_key", "bb_(?:pr|ma)_" + hx(30), ("bb_pr_", "bb_ma_")),
    _F("salad_cloud_api_key", "salad_cloud_" + an("1,7") + "_" + an("7,235")),
    _F("ubidots_token", "BBFF-" + an(30)),
    _F("voiceflow_api_key", r"VF\.(?:(?:DM|WS)\.)?" + ahx(24) + r"\." + an(16), ("vf.",)),
    _F("maxmind_license_key", an(6) + "_" + an(29) + "_mmk", ("_mmk",)),
    _F("settlemint_token", "sm_(?:pat|aat|sat)_" + an(16), ("sm_pat_", "sm_aat_", "sm_sat_")),
    _F("intra42_client_secret", "s-s4t2(?:ud|af)-" + hx(64), ("s-s4t2",)),
    _F("age_secret_key", "AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}"),
    _F("onepassword_secret_key",
       "A3-" + uan(6) + "-(?:" + uan(11) + "|" + uan(6) + "-" + uan(5) + ")(?:-" + uan(5) +
       "){3}", ("a3-",)),
    _F("prefixed_json_token", "[a-z][a-z0-9]{1,9}_eyJ" + b64("30,1000") + "={0,3}", ("_eyj",),
       tail=_B64_TAIL, check=_prefixed_json),
    # Chat, social and messaging
    _F("slack_token", r"xox[abposre]-(?:[0-9]-)?[0-9]{6,14}-(?:[0-9]{6,14}-){0,3}" + an("8,64"),
       ("xox",), check=_slack),
    _F("slack_config_token", r"xoxe(?:\.xox[bp])?-[0-9]-" + an("140,180"), ("xoxe",)),
    _F("slack_app_token", r"xapp-[0-9]-[A-Z0-9]{8,14}-[0-9]{10,16}-" + lan("32,80"),
       ("xapp-",)),
    # The first part is base64 of a snowflake id: 18 or 19 digits for bots (bots came in 2016;
    # 17-digit ids ran out in 2015, 20 digits not before ~2090, when ms since 2015 outgrow
    # 10**19 / 2**22), so 24 to 26 characters.
    _F("discord_bot_token", r"[MNO]" + wd("23,25") + r"\." + wd(6) + r"\." + wd("27,40"),
       (".",), tail=r"[\w-]", check=_discord),
    _F("telegram_bot_token", r"[0-9]{8,10}:AA" + wd("33,34"), (":aa",), tail=r"[\w-]",
       check=_telegram),
    _F("twitter_bearer_token", "A{22}" + _n("[A-Za-z0-9%]", "80,120"),
       ("aaaaaaaaaaaaaaaaaaaaaa",), tail="[A-Za-z0-9%]",
       check=lambda v: random_token(v.lstrip("A"))),
    _F("facebook_access_token", "EAA[A-Za-z0-9]" + an("90,400"), ("eaa",),
       check=lambda v: random_token(v[3:]) and entropy(v) >= 4.0),
    _F("facebook_app_token", r"[0-9]{15,16}\|" + wd("27,40"), ("|",), tail=r"[\w-]",
       check=lambda v: random_token(v.split("|", 1)[1])),
    _F("instagram_access_token", "IGQV" + wd("100,400"), ("igqv",), tail=r"[\w-]"),
)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Values bound to a provider's name: `HEROKU_API_KEY=<uuid>`, `"datadog_app_key": "<40 hex>"`
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeywordFormat:
    """A value with no prefix of its own, after a key or label that names the provider."""

    name: str
    keywords: tuple[str, ...]  # lower-case; also the triggers
    value: str  # the exact value, case-sensitive RE2
    tail: str = "[A-Za-z0-9]"
    check: Validator | None = None  # replaces the randomness check of the value


_HEX32, _HEX40, _HEX64 = hx(32), hx(40), hx(64)
_KW = KeywordFormat

KEYWORD_FORMATS: tuple[KeywordFormat, ...] = (
    _KW("adafruit_key", ("adafruit",), wd(32), r"[\w-]"),
    _KW("adobe_client_id", ("adobe",), ahx(32)),
    _KW("airtable_legacy_key", ("airtable",), "key" + an(14)),
    _KW("algolia_admin_key", ("algolia",), lan(32)),
    _KW("alibaba_secret_key", ("alibaba",), an(30)),
    _KW("asana_client_secret", ("asana",), an(32)),
    _KW("assemblyai_api_key", ("assemblyai",), lan(32)),
    _KW("azure_devops_pat", ("azure", "devops", "vsts", "azdo", "ado_"), lan(52)),
    _KW("azure_openai_key", ("azure_openai", "azure-openai", "azureopenai"), _HEX32),
    _KW("beamer_api_token", ("beamer",), "b_" + _n(r"[\w=-]", 44), r"[\w=-]"),
    _KW("bitbucket_client_secret", ("bitbucket",), _n(r"[\w-]", 64), r"[\w-]"),
    _KW("bittrex_key", ("bittrex",), an(32)),
    _KW("bugsnag_api_key", ("bugsnag",), _HEX32),
    _KW("cloudflare_legacy_key", ("cloudflare",), "(?:" + hx(37) + "|" + wd(40) + ")", r"[\w-]"),
    _KW("codecov_token", ("codecov",), "(?:" + UUID + "|" + an(32) + ")"),
    _KW("cohere_api_key", ("cohere", "co_api_key"), an(40)),
    _KW("coinbase_key", ("coinbase",), _n(r"[\w-]", 64), r"[\w-]"),
    _KW("confluent_secret", ("confluent",), an(64)),
    _KW("contentful_delivery_token", ("contentful",), _n(r"[\w=-]", 43), r"[\w=-]"),
    _KW("datadog_key", ("datadog", "dd_api_key", "dd_app_key", "dd-api-key", "dd-application-key"),
        "(?:" + _HEX32 + "|" + _HEX40 + ")"),
    _KW("deepgram_api_key", ("deepgram",), _HEX40),
    _KW("discord_client_secret", ("discord",), "(?:" + _HEX64 + "|" + wd(32) + ")", r"[\w-]"),
    _KW("droneci_token", ("drone",), an(32)),
    _KW("dropbox_long_lived_token", ("dropbox",), an(11) + "AAAAAAAAAA" + _n(r"[\w=-]", 43),
        r"[\w=-]", lambda v: random_token(v[:11] + v[21:])),
    _KW("etsy_api_key", ("etsy",), an(24)),
    _KW("facebook_app_secret", ("facebook",), _HEX32),
    _KW("fastly_api_token", ("fastly",), _n(r"[\w=-]", 32), r"[\w=-]"),
    _KW("finicity_secret", ("finicity",), "(?:" + an(20) + "|" + _HEX32 + ")"),
    _KW("finnhub_token", ("finnhub",), an(20)),
    _KW("flickr_token", ("flickr",), an(32)),
    _KW("freshbooks_token", ("freshbooks",), an(64)),
    _KW("freshdesk_api_key", ("freshdesk",), an(20)),
    _KW("gitter_token", ("gitter",), _n(r"[\w-]", 40), r"[\w-]"),
    _KW("gocardless_token", ("gocardless",), "live_" + _n(r"[\w=-]", 40), r"[\w=-]"),
    _KW("heroku_legacy_key", ("heroku",), UUID),
    _KW("honeycomb_api_key", ("honeycomb",), "(?:" + _HEX32 + "|" + an(22) + ")"),
    _KW("ibm_cloud_api_key", ("ibm",), wd(44), r"[\w-]"),
    _KW("intercom_legacy_token", ("intercom",), _n(r"[\w=-]", 60), r"[\w=-]"),
    _KW("jfrog_key", ("jfrog", "artifactory", "bintray", "xray"), "(?:" + an(73) + "|" +
        an(64) + ")"),
    _KW("kraken_key", ("kraken",), _n(r"[\w/=+-]", "80,90"), r"[\w/=+-]"),
    _KW("kucoin_key", ("kucoin",), "(?:" + hx(24) + "|" + UUID + ")"),
    _KW("linear_client_secret", ("linear_client", "linear_secret", "linear_oauth"), _HEX32),
    _KW("linkedin_client_secret", ("linkedin", "linked-in", "linked_in"), an(16)),
    _KW("linode_token", ("linode",), _HEX64),
    _KW("looker_client_secret", ("looker",), an(24)),
    _KW("mailgun_signing_key", ("mailgun",), _n("[a-h0-9]", 32) + "-" + _n("[a-h0-9]", 8) +
        "-" + _n("[a-h0-9]", 8)),
    _KW("mattermost_token", ("mattermost",), lan(26)),
    _KW("meraki_api_key", ("meraki",), _HEX40),
    _KW("messagebird_key", ("messagebird", "message_bird", "message-bird"), "(?:" + an(25) +
        "|" + UUID + ")"),
    _KW("miro_token", ("miro",), an(27)),
    _KW("mistral_api_key", ("mistral",), an(32)),
    _KW("mixpanel_secret", ("mixpanel",), _n("[A-Za-z0-9-]", 32), "[A-Za-z0-9-]"),
    _KW("mollie_api_key", ("mollie",), "(?:live|test)_" + an(30)),
    _KW("netlify_legacy_token", ("netlify",), _n(r"[\w=-]", "40,46"), r"[\w=-]"),
    _KW("new_relic_key", ("newrelic", "new_relic", "new-relic", "nr_"), "(?:" + _HEX40 + "|" +
        uan(32) + ")"),
    _KW("ngrok_authtoken", ("ngrok", "authtoken"), "2" + an(26) + "_[0-9]" + an(20)),
    _KW("nytimes_api_key", ("nytimes", "new-york-times", "newyorktimes"), _n(r"[\w=-]", 32),
        r"[\w=-]"),
    _KW("okta_api_token", ("okta",), "00" + _n(r"[\w=-]", 40), r"[\w=-]"),
    _KW("opsgenie_api_key", ("opsgenie",), UUID),
    _KW("pagerduty_api_key", ("pagerduty", "pager_duty", "pd_api", "pd_token"),
        r"u\+" + _n(r"[\w+-]", 18), r"[\w+-]"),
    _KW("pipedrive_token", ("pipedrive",), _HEX40),
    _KW("plaid_secret", ("plaid",), "(?:" + an(30) + "|" + an(24) + ")"),
    _KW("postmark_token", ("postmark",), UUID),
    _KW("privateai_api_key", ("private_ai", "private-ai", "privateai"), lan(32)),
    _KW("railway_token", ("railway",), UUID),
    _KW("rapidapi_key", ("rapidapi",), _n(r"[\w-]", 50), r"[\w-]"),
    _KW("rollbar_token", ("rollbar",), _HEX32),
    _KW("sanity_token", ("sanity",), "sk" + an(79)),
    _KW("segment_write_key", ("segment_write", "segment-write", "segmentwrite", "segment_api",
                              "segment_key"), an(32)),
    _KW("sendbird_token", ("sendbird",), "(?:" + _HEX40 + "|" + UUID + ")"),
    _KW("sentry_legacy_token", ("sentry",), _HEX64),
    _KW("snyk_token", ("snyk",), UUID),  # UUID values need a secret word in the key (below)
    _KW("sourcegraph_legacy_token", ("sourcegraph",), ahx(40)),
    _KW("sparkpost_api_key", ("sparkpost",), _HEX40),
    _KW("splunk_hec_token", ("splunk",), UUID),
    _KW("squarespace_token", ("squarespace",), UUID),
    _KW("storyblok_token", ("storyblok",), an(22) + "tt-[0-9]{6}-" + wd(20), r"[\w-]"),
    _KW("sumologic_access_id", ("sumologic", "sumo_", "sumo-", "sumo."), "su" + an(12)),
    _KW("sumologic_access_key", ("sumologic", "sumo_", "sumo-", "sumo."), an(64)),
    _KW("together_api_key", ("together_api", "together_key", "togetherai", "together.ai"),
        _HEX64),
    _KW("travis_token", ("travis",), an(22)),
    _KW("trello_token", ("trello",), "(?:" + an(32) + "|" + an(64) + ")"),
    _KW("twilio_auth_token", ("twilio",), _HEX32),
    _KW("twitch_token", ("twitch",), lan(30)),
    _KW("twitter_secret", ("twitter",), "(?:" + an(25) + "|" + an(45) + "|" + an(50) + "|" +
        "[0-9]{15,25}-" + an("20,40") + ")"),
    _KW("uptimerobot_api_key", ("uptimerobot",), "(?:u|m|ur)[0-9]{6,8}-" + hx(24)),
    _KW("vercel_token", ("vercel",), an(24)),
    _KW("vultr_api_key", ("vultr",), uan(36)),
    _KW("wandb_api_key", ("wandb",), _HEX40),
    _KW("webex_bot_token", ("webex",), an(64) + "_" + an(4) + "_" + UUID),
    _KW("webflow_token", ("webflow",), _HEX64),
    _KW("yandex_access_key", ("yandex",), "YC" + wd(38), r"[\w-]"),
    _KW("zendesk_token", ("zendesk",), an(40)),
)  # fmt: skip

# After the name: the rest of the key (`_API_KEY`), a closing quote, a separator, an opening
# quote. The separator may be `=`, `:`, `:=`, `=>`, `,` (a call's next argument) or a space.
_SEPARATOR = r"[\"'`]?[ \t]*(?:=>|:=|=|:|,|[ \t])[ \t]*[\"'`]?"
_KEY_TAIL = r"[\w.-]{0,30}?" + _SEPARATOR
# A bare UUID after a provider's name is as often an id (`heroku_app_id`) as a key: the key
# must also say it holds a secret.
_SECRET_KEY_TAIL = (
    r"[\w.-]{0,20}?(?i:key|token|secret|auth|pass|pwd|cred)[\w.-]{0,12}?" + _SEPARATOR
)


def _keyword_value(fmt: KeywordFormat) -> Validator:
    exact = re2.compile(fmt.value)
    check = fmt.check

    def valid(value: str) -> bool:
        if not exact.fullmatch(value):
            return False
        if check is not None:
            return check(value)
        body = value.replace("-", "")
        return any(c.isdigit() for c in body) and entropy(body) >= 2.8 and random_token(body)

    return valid


def _keyword_recognizer(fmt: KeywordFormat) -> SecretRecognizer:
    names = "|".join(re2.escape(k) for k in fmt.keywords)
    # The name starts a word: after a non-alphanumeric or at a camelCase hump (`myHerokuKey`),
    # never inside one (`ReactNativeCameraKit` holds no Meraki key, `rookTable` no Okta token).
    humps = "|".join(re2.escape(k[0].upper() + k[1:]) for k in fmt.keywords if k[0].isalpha())
    start = rf"(?:(?:^|[^A-Za-z0-9])(?i:{names})|(?-i:[a-z0-9](?:{humps})))"
    return secret_pattern(
        fmt.name,
        rf"{start}{_SECRET_KEY_TAIL if fmt.value == UUID else _KEY_TAIL}"
        rf"((?:{fmt.value}){fmt.tail}*)",
        fmt.keywords,
        _keyword_value(fmt),
        value_group=1,
        score=0.8,
    )


# ---------------------------------------------------------------------------------------------
# Webhook URLs and a few shapes the table cannot say
# ---------------------------------------------------------------------------------------------

_SPECIAL_RECOGNIZERS: tuple[PatternRecognizer, ...] = (
    secret_pattern(
        "slack_webhook_url",
        r"hooks\.slack\.com/(?:services|workflows|triggers)/(T[A-Z0-9]+/[A-Z0-9]+/[A-Za-z0-9/]+)",
        ("hooks.slack.com",),
        shape(20),
        value_group=1,
    ),
    secret_pattern(
        "discord_webhook_url",
        r"discord(?:app)?\.com/api/webhooks/([0-9]{17,20}/[\w-]{60,68})",
        ("/api/webhooks/",),
        lambda v: random_token(v.split("/", 1)[1]),
        value_group=1,
    ),
    secret_pattern(
        "teams_webhook_url",
        r"\.webhook\.office\.com/webhookb2/([\w@-]{30,80}/IncomingWebhook/[a-f0-9]{32}/[\w-]{36})",
        ("webhookb2",),
        lambda v: random_token(v.split("/")[2]),
        value_group=1,
    ),
    secret_pattern(
        "google_chat_webhook_token",
        r"chat\.googleapis\.com/v1/spaces/[\w-]+/messages\?[^\s\"']*?token=([\w%=-]{20,})",
        ("chat.googleapis.com",),
        random_token,
        value_group=1,
    ),
    secret_pattern(
        "gitlab_session_cookie",
        r"_gitlab_session=([0-9a-z]{32})\b",
        ("_gitlab_session=",),
        random_token,
        value_group=1,
    ),
    secret_pattern(
        "azure_ad_client_secret",
        r"(?:^|[^\w~.-])([A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34})(?:$|[^\w~.-])",
        ("q~",),
        shape(37, 40, digit=True),
        value_group=1,
    ),
)

PROVIDER_RECOGNIZERS: tuple[PatternRecognizer, ...] = (
    *(_format_recognizer(f) for f in TOKEN_FORMATS),
    *(_keyword_recognizer(f) for f in KEYWORD_FORMATS),
    *_SPECIAL_RECOGNIZERS,
)
