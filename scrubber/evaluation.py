"""`scrubber eval`: detection quality on span-labelled JSONL, beside vanilla Presidio.

Schema (one object per line): {"id", "text", "spans": [{"start", "end", "label"}], "meta"}.
Line-level suites (secrets) have no spans and carry `meta.should_flag`.

Span matching is by overlap: a gold span is recalled when a prediction overlaps it (typed:
with the same label; type-agnostic: any label). We also report the share of gold characters
covered, which punishes partial hits, and for PII-free lines the share left byte-identical.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from scrubber.config import Config
from scrubber.models import Reason

Span = tuple[int, int, str]
Predictor = Callable[[list[str]], list[list[Span]]]

# Our entity names where the labelled data uses another.
EVAL_LABEL = {"DATE_OF_BIRTH": "DATE_TIME", "STREET_ADDRESS": "LOCATION", "POSTAL_CODE": "LOCATION"}
# The types whose type-agnostic recall the product promises.
CORE_PII = ("PERSON", "LOCATION", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "EMAIL_ADDRESS",
            "IBAN_CODE", "IP_ADDRESS")  # fmt: skip
BATCH = 256


def _f2(precision: float, recall: float) -> float:
    denominator = 4 * precision + recall
    return 0.0 if denominator == 0 else 5 * precision * recall / denominator


def _overlaps(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _ratio(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else round(numerator / denominator, 4)


def span_metrics(golds: Sequence[list[Span]], preds: Sequence[list[Span]]) -> dict[str, Any]:
    tp_gold: Counter[str] = Counter()
    n_gold: Counter[str] = Counter()
    tp_pred: Counter[str] = Counter()
    n_pred: Counter[str] = Counter()
    agnostic_hit: Counter[str] = Counter()
    chars_total: Counter[str] = Counter()
    chars_covered: Counter[str] = Counter()
    pred_any_hit = 0
    for gold, pred in zip(golds, preds, strict=True):
        for g in gold:
            n_gold[g[2]] += 1
            tp_gold[g[2]] += any(_overlaps(g, p) and p[2] == g[2] for p in pred)
            agnostic_hit[g[2]] += any(_overlaps(g, p) for p in pred)
            covered = {i for p in pred for i in range(max(g[0], p[0]), min(g[1], p[1]))}
            chars_total[g[2]] += g[1] - g[0]
            chars_covered[g[2]] += len(covered)
        for p in pred:
            n_pred[p[2]] += 1
            tp_pred[p[2]] += any(_overlaps(p, g) and p[2] == g[2] for g in gold)
            pred_any_hit += any(_overlaps(p, g) for g in gold)
    per_entity: dict[str, Any] = {}
    for label in sorted(set(n_gold) | set(n_pred)):
        precision = tp_pred[label] / n_pred[label] if n_pred[label] else 0.0
        recall = tp_gold[label] / n_gold[label] if n_gold[label] else 0.0
        per_entity[label] = {
            "gold": n_gold[label],
            "predicted": n_pred[label],
            "precision": round(precision, 4) if n_pred[label] else None,
            "recall": round(recall, 4) if n_gold[label] else None,
            "f2": round(_f2(precision, recall), 4) if n_gold[label] and n_pred[label] else None,
            "agnostic_recall": _ratio(agnostic_hit[label], n_gold[label]),
        }
    core = [label for label in CORE_PII if n_gold[label]]
    return {
        "per_entity": per_entity,
        "type_agnostic": {
            "recall": _ratio(sum(agnostic_hit.values()), sum(n_gold.values())),
            "precision": _ratio(pred_any_hit, sum(n_pred.values())),
            "char_coverage": _ratio(sum(chars_covered.values()), sum(chars_total.values())),
        },
        "core_pii": {
            "types": core,
            "gold": sum(n_gold[c] for c in core),
            "recall": _ratio(sum(agnostic_hit[c] for c in core), sum(n_gold[c] for c in core)),
            "char_coverage": _ratio(
                sum(chars_covered[c] for c in core), sum(chars_total[c] for c in core)
            ),
        },
    }


def _load(path: Path, limit: int) -> list[dict[str, Any]]:
    records = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                records.append(json.loads(line))
            if limit and len(records) >= limit:
                break
    return records


def _evaluate_file(records: list[dict[str, Any]], predict: Predictor) -> dict[str, Any]:
    texts = [r["text"] for r in records]
    started = time.perf_counter()
    preds: list[list[Span]] = []
    for i in range(0, len(texts), BATCH):
        preds.extend(predict(texts[i : i + BATCH]))
    seconds = time.perf_counter() - started
    line_level = all(not r["spans"] and "should_flag" in r.get("meta", {}) for r in records)
    report: dict[str, Any] = {
        "records": len(records),
        "lines_per_second": round(len(records) / seconds, 1),
    }
    if line_level:
        should = [bool(p) for r, p in zip(records, preds, strict=True) if r["meta"]["should_flag"]]
        should_not = [
            not p for r, p in zip(records, preds, strict=True) if not r["meta"]["should_flag"]
        ]
        report["true_lines_scrubbed"] = _ratio(sum(should), len(should))
        report["lookalikes_untouched"] = _ratio(sum(should_not), len(should_not))
        report["counts"] = {"true": len(should), "lookalike": len(should_not)}
        return report
    golds = [[(s["start"], s["end"], s["label"]) for s in r["spans"]] for r in records]
    report.update(span_metrics(golds, preds))
    clean = [not p for r, p in zip(records, preds, strict=True) if not r["spans"]]
    report["pii_free_lines_untouched"] = _ratio(sum(clean), len(clean))
    report["pii_free_lines"] = len(clean)
    return report


def scrubber_predictor(config: Config) -> Predictor:
    from scrubber.vault.recorder import scrubber_for

    engine = scrubber_for(config)

    def predict(texts: list[str]) -> list[list[Span]]:
        out: list[list[Span]] = []
        for found in engine.detect_texts(texts):
            if isinstance(found, Reason):
                # Failed closed: the whole text is withheld, so every span in it is covered.
                out.append([(0, 10**9, "QUARANTINED")])
            else:
                out.append(
                    [(f.start, f.end, EVAL_LABEL.get(f.entity_type, f.entity_type)) for f in found]
                )
        return out

    return predict


def presidio_predictor(model: str) -> Predictor:
    """Vanilla Presidio: AnalyzerEngine defaults with the same spaCy model, one text at a time."""
    from scrubber.baseline import presidio_engines

    analyzer, _ = presidio_engines(model)

    def predict(texts: list[str]) -> list[list[Span]]:
        return [
            [(r.start, r.end, r.entity_type) for r in analyzer.analyze(text=t, language="en")]
            for t in texts
        ]

    return predict


def run_evaluation(
    paths: list[Path], config: Config, baseline: str, limit: int, fmt: str
) -> dict[str, Any]:
    del fmt  # span offsets refer to the raw text, so evaluation scans each record as text
    predictors: dict[str, Predictor] = {"scrubber": scrubber_predictor(config)}
    if baseline == "presidio":
        predictors["presidio"] = presidio_predictor(config.detection.ner.model)
    report: dict[str, Any] = defaultdict(dict)
    for path in paths:
        records = _load(path, limit)
        for name, predict in predictors.items():
            report[path.name][name] = _evaluate_file(records, predict)
    return dict(report)
