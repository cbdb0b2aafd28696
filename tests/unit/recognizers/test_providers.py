"""Every provider token format: a realistic fake is found whole, and its near-misses are not.

Tokens are built at import time from templates (`{an:36}` = 36 letters and digits, `{hex:64}`,
`{uuid}`...) filled by `fake()`, a hash stretched over the right alphabet, so no token-shaped
literal sits in the repository and none of them is anyone's real key.
"""

from __future__ import annotations

import base64
import re
import zlib

import pytest
import re2

from recognizers.providers import (
    KEYWORD_FORMATS,
    PROVIDER_RECOGNIZERS,
    TOKEN_FORMATS,
    base62_crc32,
    literal_prefix,
)
from tests.unit.recognizers.test_secrets import ALL_SECRETS, fake

ALPHABETS = {
    "an": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    "hex": "0123456789abcdef",
    "HEX": "0123456789ABCDEF",
    "lan": "abcdefghijklmnopqrstuvwxyz0123456789",
    "uan": "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    "d": "0123456789",
    "b64": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
    "wd": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
    "L": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "age": "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L",
}
_FIELD = re.compile(r"\{(\w+)(?::(\d+))?\}")


def build(label: str, template: str) -> str:
    """Fill `{alphabet:count}` and `{uuid}` fields with deterministic random-looking text."""
    counter = iter(range(1000))

    def fill(match: re.Match[str]) -> str:
        kind, count = match.group(1), match.group(2)
        field = f"{label}/{next(counter)}"
        if kind == "uuid":
            return "-".join(fake(f"{field}/{n}", n, ALPHABETS["hex"]) for n in (8, 4, 4, 4, 12))
        return fake(field, int(count), ALPHABETS[kind])

    return _FIELD.sub(fill, template)


def _github(label: str, prefix: str) -> str:
    body = fake(label, 30, ALPHABETS["an"])
    return prefix + body + base62_crc32(body)


def _discord(label: str, id_digits: int = 18) -> str:
    bot_id = base64.b64encode(fake(label, id_digits, "123456789").encode()).decode().rstrip("=")
    return f"{bot_id}.{fake(label + '/t', 6, ALPHABETS['wd'])}.{fake(label + '/h', 27)}"


# name -> token template (or a built token). One per format; each is found in a neutral line.
TOKENS: dict[str, str] = {
    "aws_access_key_id": "AKIA{uan:16}",
    "aws_bedrock_api_key": "ABSK{b64:120}==",
    "aws_bedrock_short_lived_key": "bedrock-api-key-{b64:180}=",
    "google_api_key": "AIza{wd:35}",
    "google_oauth_client_secret": "GOCSPX-{wd:28}",
    "google_oauth_access_token": "ya29.{wd:120}",
    "google_oauth_refresh_token": "1//0{wd:90}",
    "azure_storage_account_key": "{b64:76}+ASt{b64:6}==",
    "azure_cosmos_db_key": "{b64:76}ACDb{b64:6}==",
    "azure_service_bus_key": "{b64:33}+ASb{b64:7}=",
    "azure_event_hub_key": "{b64:33}+AEh{b64:7}=",
    "azure_container_registry_password": "{b64:42}+ACR{an:6}",
    "azure_function_key": "{wd:44}AzFu{wd:5}==",
    "alibaba_access_key_id": "LTAI{an:20}",
    "tencent_secret_id": "AKID{an:32}",
    "yandex_api_key": "AQVN{wd:36}",
    "yandex_iam_token": "t1.{wd:80}.{wd:86}",
    "yandex_oauth_token": "y0_{wd:55}",
    "scaleway_access_key": "SCW{uan:17}",
    "digitalocean_pat": "dop_v1_{hex:64}",
    "digitalocean_oauth_token": "doo_v1_{hex:64}",
    "digitalocean_refresh_token": "dor_v1_{hex:64}",
    "heroku_api_key": "HRKU-AA{wd:58}",
    "flyio_access_token": "fm2_{b64:200}==",
    "flyio_org_token": "fo1_{wd:43}",
    "netlify_pat": "nfp_{an:36}",
    "render_api_key": "rnd_{an:32}",
    "scalingo_api_token": "tk-us-{wd:48}",
    "cloudflare_origin_ca_key": "v1.0-{hex:24}-{hex:146}",
    "cloudflare_api_token": "cfut_{an:40}{hex:8}",
    "cloudflare_global_key": "cfk_{an:40}{hex:8}",
    "deno_deploy_token": "ddp_{an:36}",
    "vault_token": "hvs.{wd:95}",
    "terraform_cloud_token": "{an:14}.atlasv1.{an:67}",
    "openshift_user_token": "sha256~{wd:43}",
    "databricks_token": "dapi{hex:32}",
    "supabase_access_token": "sbp_{hex:40}",
    "supabase_secret_key": "sb_secret_{wd:31}",
    "neon_api_key": "napi_{lan:64}",
    "planetscale_token": "pscale_tkn_{an:43}",
    "planetscale_password": "pscale_pw_{an:43}",
    "planetscale_oauth_token": "pscale_oauth_{an:43}",
    "clickhouse_cloud_secret": "4b1d{an:38}",
    "pinecone_api_key": "pcsk_{an:5}_{an:63}",
    "stripe_secret_key": "sk_live_{an:24}",
    "stripe_publishable_key": "pk_live_{an:24}",
    "stripe_webhook_secret": "whsec_{an:32}",
    "stripe_client_secret": "pi_{an:24}_secret_{an:25}",
    "razorpay_key": "rzp_live_{an:14}",
    "flutterwave_secret_key": "FLWSECK_TEST-{hex:32}-X",
    "flutterwave_encryption_key": "FLWSECK_TEST{hex:12}",
    "square_access_token": "sq0atp-{wd:22}",
    "square_oauth_secret": "sq0csp-{wd:43}",
    "square_sandbox_token": "EAAA{wd:60}",
    "braintree_access_token": "access_token$production${lan:16}${hex:32}",
    "pagarme_api_key": "ak_live_{an:30}",
    "checkout_secret_key": "sk_sbox_{uuid}",
    "plaid_access_token": "access-sandbox-{uuid}",
    "recharge_api_key": "sk_1x1_{hex:64}",
    "ramp_client_id": "ramp_id_{an:40}",
    "ramp_client_secret": "ramp_sec_{an:48}",
    "duffel_api_token": "duffel_test_{wd:43}",
    "easypost_api_key": "EZAK{an:54}",
    "shippo_api_token": "shippo_live_{hex:40}",
    "fleetbase_api_key": "flb_live_{an:20}",
    "robinhood_crypto_key": "rh-api-{uuid}",
    "shopify_access_token": "shpat_{hex:32}",
    "shopify_shared_secret": "shpss_{hex:32}",
    "shopify_custom_app_token": "shpca_{hex:32}",
    "shopify_private_app_token": "shppa_{hex:32}",
    "lob_api_key": "live_{hex:35}",
    "posthog_personal_key": "phx_{an:43}",
    "new_relic_user_key": "NRAK-{uan:27}",
    "new_relic_insert_key": "NRII-{wd:32}",
    "new_relic_query_key": "NRIQ-{wd:32}",
    "new_relic_browser_key": "NRJS-{hex:19}",
    "new_relic_license_key": "{hex:36}NRAL",
    "sentry_user_token": "sntryu_{hex:64}",
    "grafana_cloud_token": "glc_{b64:80}=",
    "grafana_service_account_token": "glsa_{an:32}_{hex:8}",
    "grafana_api_key": "eyJrIjoi{an:80}",
    "dynatrace_api_token": "dt0c01.{uan:24}.{an:64}",
    "fullstory_api_key": "na1.{b64:100}",
    "launchdarkly_key": "sdk-{uuid}",
    "nightfall_api_key": "NF-{an:32}",
    "rootly_api_key": "rootly_{hex:64}",
    "pubnub_publish_key": "pub-c-{uuid}",
    "pubnub_secret_key": "sec-c-{an:48}",
    "checkly_api_key": "cu_{hex:32}",
    "figma_pat": "figd_{wd:40}",
    "adobe_client_secret": "p8e-{an:32}",
    "hubspot_private_app_token": "pat-na1-{uuid}",
    "salesforce_access_token": "00D{an:12}!{an:96}",
    "salesforce_consumer_key": "3MVG9{an:84}",
    "salesforce_refresh_token": "5AEP861{an:84}",
    "zoho_token": "1000.{hex:32}.{hex:32}",
    "airtable_pat": "pat{an:14}.{hex:64}",
    "airtable_oauth_token": "{an:18}.v1.{wd:60}.{hex:32}",
    "asana_pat": "2/1{d:15}/1{d:15}:{an:32}",
    "clickup_personal_token": "pk_{d:8}_{uan:32}",
    "linear_api_key": "lin_api_{an:40}",
    "linear_oauth_token": "lin_oauth_{hex:64}",
    "notion_token": "ntn_{d:11}{an:35}",
    "typeform_token": "tfp_{an:44}",
    "atlassian_api_token": "ATATT3{wd:180}",
    "atlassian_cloud_token": "ATCTT3xFfG{wd:150}",
    "bitbucket_app_password": "ATBB{an:32}",
    "contentful_pat": "CFPAT-{wd:43}",
    "dropbox_short_lived_token": "sl.{wd:140}",
    "intercom_access_token": "dG9rO{b64:55}=",
    "mailchimp_api_key": "{hex:32}-us12",
    "mailgun_api_key": "key-{hex:32}",
    "brevo_api_key": "xkeysib-{hex:64}-{an:16}",
    "brevo_smtp_key": "xsmtpsib-{hex:64}-{an:16}",
    "mailersend_api_token": "mlsn.{hex:64}",
    "resend_api_key": "re_{an:8}_{an:24}",
    "sendgrid_api_key": "SG.{wd:22}.{wd:43}",
    "twilio_key_or_sid": "SK{hex:32}",
    "zapier_webhook": "hooks.zapier.com/hooks/catch/{d:7}/{lan:6}",
    "mapbox_secret_token": "sk.eyJ{wd:80}.{wd:22}",
    "locationiq_token": "pk.{hex:32}",
    "stytch_secret": "secret-live-{wd:36}",
    "anthropic_api_key": "sk-ant-api03-{wd:93}AA",
    "openai_api_key": "sk-proj-{wd:120}",
    "openrouter_api_key": "sk-or-v1-{hex:64}",
    "groq_api_key": "gsk_{an:52}",
    "xai_api_key": "xai-{an:80}",
    "perplexity_api_key": "pplx-{an:48}",
    "replicate_api_token": "r8_{an:37}",
    "huggingface_token": "hf_{L:34}",
    "fireworks_api_key": "fw_{an:24}",
    "langsmith_api_key": "lsv2_pt_{hex:32}_{hex:10}",
    "tavily_api_key": "tvly-dev-{an:32}",
    "elevenlabs_api_key": "sk_{hex:48}",
    "nvidia_api_key": "nvapi-{wd:64}",
    "cerebras_api_key": "csk-{lan:48}",
    "firecrawl_api_key": "fc-{hex:32}",
    "jina_api_key": "jina_{an:60}",
    "github_token": _github("gh-classic", "ghp_"),
    "github_fine_grained_pat": "github_pat_{an:22}_{an:59}",
    "gitlab_token": "glpat-{an:20}",
    "circleci_token": "CCIPAT_{an:22}_{hex:40}",
    "buildkite_token": "bkua_{lan:40}",
    "docker_hub_pat": "dckr_pat_{wd:27}",
    "docker_hub_org_token": "dckr_oat_{wd:32}",
    "artifactory_api_key": "AKCp{an:69}",
    "artifactory_reference_token": "cmVmd{an:59}",
    "harness_token": "pat.{wd:22}.{an:24}.{an:20}",
    "octopus_deploy_api_key": "API-{uan:26}",
    "pulumi_access_token": "pul-{hex:40}",
    "doppler_token": "dp.pt.{an:43}",
    "prefect_api_key": "pnu_{an:36}",
    "readme_api_key": "rdme_{lan:70}",
    "postman_api_key": "PMAK-{hex:24}-{hex:34}",
    "rubygems_api_key": "rubygems_{hex:48}",
    "clojars_token": "CLOJARS_{lan:60}",
    "nuget_api_key": "oy2{lan:43}",
    "crates_io_token": "cio{an:32}",
    "npm_token": _github("npm", "npm_"),
    "pypi_upload_token": "pypi-AgEIcHlwaS5vcmc{wd:150}",
    "sonarqube_token": "sqp_{an:40}",
    "sonarcloud_token": "sqco_{an:59}",
    "sourcegraph_token": "sgp_{hex:16}_{hex:40}",
    "sourcegraph_cody_token": "slk_{hex:64}",
    "infracost_api_key": "ico-{an:32}",
    "tailscale_key": "tskey-auth-{an:12}-{an:32}",
    "defined_networking_token": "dnkey-{lan:26}-{lan:52}",
    "frameio_api_token": "fio-u-{wd:64}",
    "endorlabs_api_key": "endr+{an:16}",
    "trufflehog_enterprise_key": "thog-secret-{hex:32}",
    "apify_api_token": "apify_api_{an:36}",
    "adafruit_io_key": "aio_{an:28}",
    "bannerbear_api_key": "bb_pr_{hex:30}",
    "salad_cloud_api_key": "salad_cloud_{an:4}_{an:40}",
    "ubidots_token": "BBFF-{an:30}",
    "voiceflow_api_key": "VF.DM.{hex:24}.{an:16}",
    "maxmind_license_key": "{an:6}_{an:29}_mmk",
    "settlemint_token": "sm_pat_{an:16}",
    "intra42_client_secret": "s-s4t2ud-{hex:64}",
    "age_secret_key": "AGE-SECRET-KEY-1{age:58}",
    "onepassword_secret_key": "A3-{uan:6}-{uan:11}-{uan:5}-{uan:5}-{uan:5}",
    "prefixed_json_token": "ops_eyJ{b64:260}",
    "slack_token": "xoxb-{d:12}-{d:13}-{an:24}",
    "slack_config_token": "xoxe.xoxp-1-{an:163}",
    "slack_app_token": "xapp-1-{uan:11}-{d:13}-{lan:64}",
    "discord_bot_token": _discord("discord"),
    "telegram_bot_token": "{d:10}:AA{wd:33}",
    "twitter_bearer_token": "AAAAAAAAAAAAAAAAAAAAAA{an:90}",
    "facebook_access_token": "EAAC{an:150}",
    "facebook_app_token": "{d:15}|{wd:27}",
    "instagram_access_token": "IGQV{wd:160}",
}

# name -> (line, value template): a value bound to the provider's name in its key.
KEYED: dict[str, tuple[str, str]] = {
    "adafruit_key": ("ADAFRUIT_API_KEY = '{}'", "{wd:32}"),
    "adobe_client_id": ('"adobe_client_id": "{}"', "{hex:32}"),
    "airtable_legacy_key": ("airtable.api_key={}", "key{an:14}"),
    "algolia_admin_key": ("ALGOLIA_ADMIN={}", "{lan:32}"),
    "alibaba_secret_key": ("alibaba_secret: {}", "{an:30}"),
    "asana_client_secret": ("asana_secret = {}", "{an:32}"),
    "assemblyai_api_key": ("assemblyai.key: {}", "{lan:32}"),
    "azure_devops_pat": ("AZURE_DEVOPS_EXT_PAT={}", "{lan:52}"),
    "azure_openai_key": ("AZURE_OPENAI_API_KEY={}", "{hex:32}"),
    "beamer_api_token": ("beamer_token: {}", "b_{wd:44}"),
    "bitbucket_client_secret": ("bitbucket_client_secret={}", "{wd:64}"),
    "bittrex_key": ("bittrex_api = {}", "{an:32}"),
    "bugsnag_api_key": ("BUGSNAG_API_KEY='{}'", "{hex:32}"),
    "cloudflare_legacy_key": ("CLOUDFLARE_API_KEY={}", "{hex:37}"),
    "codecov_token": ("CODECOV_TOKEN: {}", "{an:32}"),
    "cohere_api_key": ("CO_API_KEY={}", "{an:40}"),
    "coinbase_key": ("coinbase_secret = {}", "{wd:64}"),
    "confluent_secret": ("confluent.secret={}", "{an:64}"),
    "contentful_delivery_token": ("contentful_delivery = {}", "{wd:43}"),
    "datadog_key": ("DD_APP_KEY={}", "{hex:40}"),
    "deepgram_api_key": ("deepgram_key = '{}'", "{hex:40}"),
    "discord_client_secret": ("discord_client_secret={}", "{wd:32}"),
    "droneci_token": ("DRONE_TOKEN={}", "{an:32}"),
    "dropbox_long_lived_token": ("dropbox: {}", "{an:11}AAAAAAAAAA{wd:43}"),
    "etsy_api_key": ("ETSY_KEYSTRING={}", "{an:24}"),
    "facebook_app_secret": ("facebook_app_secret = {}", "{hex:32}"),
    "fastly_api_token": ("FASTLY_API_TOKEN={}", "{wd:32}"),
    "finicity_secret": ("finicity_app_key: {}", "{hex:32}"),
    "finnhub_token": ("finnhub_token={}", "{an:20}"),
    "flickr_token": ("flickr.key = {}", "{an:32}"),
    "freshbooks_token": ("freshbooks_token: {}", "{an:64}"),
    "freshdesk_api_key": ("FRESHDESK_KEY={}", "{an:20}"),
    "gitter_token": ("GITTER_TOKEN={}", "{wd:40}"),
    "gocardless_token": ("gocardless_access_token: {}", "live_{wd:40}"),
    "heroku_legacy_key": ("HEROKU_API_KEY={}", "{uuid}"),
    "honeycomb_api_key": ("HONEYCOMB_WRITEKEY={}", "{an:22}"),
    "ibm_cloud_api_key": ("IBMCLOUD_API_KEY={}", "{wd:44}"),
    "intercom_legacy_token": ("intercom_access = {}", "{wd:60}"),
    "jfrog_key": ("JFROG_ACCESS={}", "{an:64}"),
    "kraken_key": ("kraken_private = {}", "{b64:88}"),
    "kucoin_key": ("KUCOIN_KEY={}", "{hex:24}"),
    "linear_client_secret": ("LINEAR_CLIENT_SECRET={}", "{hex:32}"),
    "linkedin_client_secret": ("linkedin_client_secret: {}", "{an:16}"),
    "linode_token": ("LINODE_TOKEN={}", "{hex:64}"),
    "looker_client_secret": ("looker_secret = {}", "{an:24}"),
    "mailgun_signing_key": ("MAILGUN_SIGNING={}", "{hex:32}-{hex:8}-{hex:8}"),
    "mattermost_token": ("MATTERMOST_TOKEN={}", "{lan:26}"),
    "meraki_api_key": ("MERAKI_DASHBOARD={}", "{hex:40}"),
    "messagebird_key": ("messagebird_api = {}", "{an:25}"),
    "miro_token": ("MIRO_TOKEN={}", "{an:27}"),
    "mistral_api_key": ("MISTRAL_API_KEY={}", "{an:32}"),
    "mixpanel_secret": ("mixpanel_secret: {}", "{hex:32}"),
    "mollie_api_key": ("MOLLIE_KEY={}", "live_{an:30}"),
    "netlify_legacy_token": ("NETLIFY_AUTH_TOKEN={}", "{wd:43}"),
    "new_relic_key": ("NEW_RELIC_API={}", "{hex:40}"),
    "ngrok_authtoken": ("ngrok config add-authtoken {}", "2{an:26}_5{an:20}"),
    "nytimes_api_key": ("nytimes_key = {}", "{wd:32}"),
    "okta_api_token": ("OKTA_API_TOKEN={}", "00{wd:40}"),
    "opsgenie_api_key": ("OPSGENIE_API_KEY={}", "{uuid}"),
    "pagerduty_api_key": ("PAGERDUTY_TOKEN={}", "u+{wd:18}"),
    "pipedrive_token": ("pipedrive_api_token={}", "{hex:40}"),
    "plaid_secret": ("PLAID_SECRET={}", "{an:30}"),
    "postmark_token": ("POSTMARK_SERVER_TOKEN={}", "{uuid}"),
    "privateai_api_key": ("PRIVATE_AI_KEY={}", "{lan:32}"),
    "railway_token": ("RAILWAY_TOKEN={}", "{uuid}"),
    "rapidapi_key": ("X-RapidAPI-Key: {}", "{wd:50}"),
    "rollbar_token": ("ROLLBAR_ACCESS_TOKEN={}", "{hex:32}"),
    "sanity_token": ("SANITY_AUTH_TOKEN={}", "sk{an:79}"),
    "segment_write_key": ("SEGMENT_WRITE_KEY={}", "{an:32}"),
    "sendbird_token": ("sendbird_api_token: {}", "{hex:40}"),
    "sentry_legacy_token": ("SENTRY_AUTH_TOKEN={}", "{hex:64}"),
    "snyk_token": ("SNYK_TOKEN={}", "{uuid}"),
    "sourcegraph_legacy_token": ("sourcegraph: {}", "{hex:40}"),
    "sparkpost_api_key": ("SPARKPOST_API_KEY={}", "{hex:40}"),
    "splunk_hec_token": ("splunk_hec_token = {}", "{uuid}"),
    "squarespace_token": ("squarespace_api_key: {}", "{uuid}"),
    "storyblok_token": ("STORYBLOK_TOKEN={}", "{an:22}tt-{d:6}-{wd:20}"),
    "sumologic_access_id": ("SUMO_ACCESS_ID={}", "su{an:12}"),
    "sumologic_access_key": ("SUMO_ACCESS_KEY={}", "{an:64}"),
    "together_api_key": ("TOGETHER_API_KEY={}", "{hex:64}"),
    "travis_token": ("TRAVIS_TOKEN={}", "{an:22}"),
    "trello_token": ("trello_token: {}", "{an:64}"),
    "twilio_auth_token": ("TWILIO_AUTH_TOKEN={}", "{hex:32}"),
    "twitch_token": ("twitch_oauth = {}", "{lan:30}"),
    "twitter_secret": ("TWITTER_CONSUMER_SECRET={}", "{an:50}"),
    "uptimerobot_api_key": ("UPTIMEROBOT_API_KEY={}", "u{d:7}-{hex:24}"),
    "vercel_token": ("VERCEL_TOKEN={}", "{an:24}"),
    "vultr_api_key": ("VULTR_API_KEY={}", "{uan:36}"),
    "wandb_api_key": ("WANDB_API_KEY={}", "{hex:40}"),
    "webex_bot_token": ("WEBEX_BOT={}", "{an:64}_{an:4}_{uuid}"),
    "webflow_token": ("webflow_token = {}", "{hex:64}"),
    "yandex_access_key": ("yandex_secret: {}", "YC{wd:38}"),
    "zendesk_token": ("ZENDESK_API_TOKEN={}", "{an:40}"),
}

LINES = ("{}", "using {} for the call", '"{}",', "curl -H 'X-Key: {}' https://api.example.com")
_BY_NAME = {r.name: r for r in PROVIDER_RECOGNIZERS}
_FORMATS = {f.name: f for f in TOKEN_FORMATS}


def token(name: str) -> str:
    template = TOKENS[name]
    return build(name, template) if "{" in template else template


def keyed_value(name: str) -> str:
    return build(name, KEYED[name][1])


def findings(name: str, text: str) -> set[str]:
    return {text[f.start : f.end] for f in _BY_NAME[name].scan(text)}


def test_there_are_more_than_150_formats_and_each_has_a_sample() -> None:
    assert len(TOKEN_FORMATS) + len(KEYWORD_FORMATS) >= 150
    assert set(TOKENS) == {f.name for f in TOKEN_FORMATS}
    assert set(KEYED) == {f.name for f in KEYWORD_FORMATS}


@pytest.mark.parametrize("name", sorted(TOKENS))
def test_token_is_found_whole_by_its_format(name: str) -> None:
    value = token(name)
    line = LINES[zlib.crc32(name.encode()) % len(LINES)].format(value)
    assert findings(name, line) == {value}
    # No other secret recognizer reaches past the token.
    for recognizer in ALL_SECRETS:
        for f in recognizer.scan(line):
            assert line[f.start : f.end] in value, (recognizer.name, line[f.start : f.end])


@pytest.mark.parametrize("name", sorted(TOKENS))
def test_x_filled_and_overlong_tokens_are_not_that_format(name: str) -> None:
    value = token(name)
    prefix = literal_prefix(_FORMATS[name].pattern)
    filled = prefix + re.sub(r"[A-Za-z0-9]", "x", value[len(prefix) :])
    assert findings(name, f"sample: {filled}") == set()
    if not re2.compile(_FORMATS[name].pattern).fullmatch(value + "7"):
        assert findings(name, f"sample: {value}7 end") == set()


@pytest.mark.parametrize("name", sorted(KEYED))
def test_keyed_value_is_found_after_the_provider_name(name: str) -> None:
    line_template, _ = KEYED[name]
    value = keyed_value(name)
    assert findings(name, line_template.format(value)) == {value}


@pytest.mark.parametrize("name", sorted(KEYED))
def test_keyed_value_needs_its_name_and_its_length(name: str) -> None:
    line_template, _ = KEYED[name]
    value = keyed_value(name)
    assert findings(name, f"value = {value}") == set()
    shorter = value[:-1]
    fmt = next(f for f in KEYWORD_FORMATS if f.name == name)
    if not re2.compile(fmt.value).fullmatch(shorter):
        assert findings(name, line_template.format(shorter)) == set()


AWS_WITH_WORDS = ("AKIAHERE" + fake("aws-here", 12, ALPHABETS["uan"]), "AKIA2YOURKEY7QZX5WVB")


@pytest.mark.parametrize("value", AWS_WITH_WORDS)
def test_a_random_key_that_contains_a_word_is_still_a_key(value: str) -> None:
    assert findings("aws_access_key_id", f"aws key {value} rotated") == {value}


def test_a_valid_checksum_vouches_for_a_github_token() -> None:
    value = _github("gh-typed", "ghp_").replace(fake("gh-typed", 6, ALPHABETS["an"]), "aaaaaa")
    body = value[4:34]
    with_checksum = "ghp_" + body + base62_crc32(body)
    assert findings("github_token", with_checksum) == {with_checksum}


@pytest.mark.parametrize("digits", [18, 19])
def test_a_discord_token_carries_a_bot_id_of_18_or_19_digits(digits: int) -> None:
    value = _discord(f"discord-{digits}", digits)
    assert findings("discord_bot_token", f"DISCORD_TOKEN {value} set") == {value}


@pytest.mark.parametrize("digits", [17, 20])
def test_a_discord_like_token_whose_id_part_no_bot_id_fits_is_not_one(digits: int) -> None:
    # 17 digits (23 characters) ran out before bots existed; 20 (27) come ~2090.
    value = _discord(f"discord-{digits}", digits)
    assert len(value.split(".")[0]) == {17: 23, 20: 27}[digits]
    assert findings("discord_bot_token", f"DISCORD_TOKEN {value} set") == set()


def test_one_more_character_in_the_id_part_is_not_a_discord_token() -> None:
    grown = _discord("discord-grown", 19).replace(".", "A.", 1)
    assert findings("discord_bot_token", grown) == set()


PLACEHOLDERS = [
    "AKIAIOSFODNN7EXAMPLE",
    "AKIA" + "X" * 16,
    "AKIA" + "1234567890ABCDEF",
    "ghp_" + "x" * 36,
    "ghp_YourPersonalAccessTokenHereXXXXXXXX",
    "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
    "sk_live_YOUR_SECRET_KEY_HERE_abcdefgh",
    "sk_live_" + "0123456789abcdefghij",
    "xoxb-123456789012-1234567890123-" + "x" * 24,
    "glpat-" + "X" * 20,
    "glpat-your-gitlab-token-here",
    "npm_" + "abcdef" * 6,
    "sk-proj-" + "your-openai-api-key-here-please-replace",
    "dop_v1_" + "0" * 64,
    "hf_" + "abcdefghij" * 3 + "abcd",
    "AIza" + "SyA-your-google-api-key-here-000000",
]


@pytest.mark.parametrize("text", PLACEHOLDERS)
def test_placeholders_and_documented_examples_are_left_alone(text: str) -> None:
    assert [r.name for r in PROVIDER_RECOGNIZERS if r.scan(f"key: {text}")] == []


def test_formats_run_only_when_their_trigger_is_present() -> None:
    text = "2024-05-01T10:00:00Z INFO worker-3 processed batch 1842 in 35 ms"
    lowered = text.lower()
    assert [r.name for r in PROVIDER_RECOGNIZERS if r.applies(text, lowered, True)] == []
