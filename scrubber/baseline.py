"""Vanilla Presidio, built once, for the comparisons `scrubber eval` and the benchmarks make.

Nothing may reach the network at run time. Presidio's email recognizer calls `tldextract.extract`,
whose default extractor downloads the public suffix list on first use: in an air-gapped cluster
that hangs or prints tracebacks. Building the AnalyzerEngine here first swaps in an extractor that
only reads the suffix-list snapshot shipped inside the package.
"""

from __future__ import annotations

from typing import Any


def make_tldextract_offline() -> None:
    import tldextract

    offline = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)
    tldextract.extract = offline  # type: ignore[assignment]  # same call signature
    tldextract.tldextract.TLD_EXTRACTOR = offline


def presidio_engines(model: str) -> tuple[Any, Any]:
    """Presidio's AnalyzerEngine (its default recognizers on `model`) and AnonymizerEngine."""
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_anonymizer import AnonymizerEngine

    make_tldextract_offline()
    nlp = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": model}],
        }
    ).create_engine()
    return AnalyzerEngine(nlp_engine=nlp), AnonymizerEngine()  # type: ignore[no-untyped-call]
