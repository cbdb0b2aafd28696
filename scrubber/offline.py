"""Nothing may reach the network at run time.

Presidio's email recognizer calls `tldextract.extract`, whose default extractor downloads the
public suffix list on first use: in an air-gapped cluster that hangs or prints tracebacks. We
swap in an extractor that only reads the suffix-list snapshot shipped inside the package.
"""

from __future__ import annotations

import tldextract


def make_tldextract_offline() -> None:
    offline = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)
    tldextract.extract = offline  # type: ignore[assignment]  # same call signature
    tldextract.tldextract.TLD_EXTRACTOR = offline
