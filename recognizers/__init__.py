"""Our recognizers: declared RE2 patterns with small validation hooks, grouped by domain."""

from __future__ import annotations

from recognizers.base import PatternRecognizer


def default_recognizers() -> tuple[PatternRecognizer, ...]:
    """Every built-in pattern recognizer, secrets first (they are the most specific)."""
    from recognizers.assets import ASSET_RECOGNIZERS
    from recognizers.contact import CONTACT_RECOGNIZERS
    from recognizers.credentials import CREDENTIAL_RECOGNIZERS
    from recognizers.demographics import AGE_RECOGNIZERS
    from recognizers.finance import FINANCE_RECOGNIZERS
    from recognizers.identity import IDENTITY_RECOGNIZERS
    from recognizers.logs import LOG_IDIOM_RECOGNIZERS
    from recognizers.national_ids import NATIONAL_ID_RECOGNIZERS
    from recognizers.network import NETWORK_RECOGNIZERS
    from recognizers.providers import PROVIDER_RECOGNIZERS
    from recognizers.secrets import SECRET_RECOGNIZERS
    from recognizers.web import WEB_RECOGNIZERS

    return (
        *PROVIDER_RECOGNIZERS,
        *SECRET_RECOGNIZERS,
        *CREDENTIAL_RECOGNIZERS,
        *NETWORK_RECOGNIZERS,
        *CONTACT_RECOGNIZERS,
        *FINANCE_RECOGNIZERS,
        *IDENTITY_RECOGNIZERS,
        *NATIONAL_ID_RECOGNIZERS,
        *ASSET_RECOGNIZERS,
        *AGE_RECOGNIZERS,
        *WEB_RECOGNIZERS,
        *LOG_IDIOM_RECOGNIZERS,
    )
