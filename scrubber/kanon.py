"""k-anonymity of scrubbed JSON records: is anyone still alone in their crowd?

Direct identifiers (names, e-mails) are removed by the policy; quasi-identifiers (age, postcode,
gender, job title) identify nobody alone but single people out in combination. Records that
share one combination of quasi-identifier values form an equivalence class; a dataset is
k-anonymous when every class holds at least k records. This report says how far a scrubbed
file is from that, so a policy can be tightened (`generalize` with wider bands, shorter postcode
prefixes) before the data is shared.

The report holds counts only, never values: a class of one would otherwise print the very
combination that singles its person out.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class KAnonymityReport:
    records: int
    skipped_lines: int  # not JSON objects: counted, not classed
    quasi_identifiers: tuple[str, ...]
    k: int
    classes: int
    smallest_class: int
    classes_below_k: int
    records_below_k: int

    @property
    def k_anonymous(self) -> bool:
        return self.records > 0 and self.smallest_class >= self.k

    def as_dict(self) -> dict[str, Any]:
        share = self.records_below_k / self.records if self.records else 0.0
        return {
            "records": self.records,
            "skipped_lines": self.skipped_lines,
            "quasi_identifiers": list(self.quasi_identifiers),
            "k": self.k,
            "k_anonymous": self.k_anonymous,
            "classes": self.classes,
            "smallest_class": self.smallest_class,
            "classes_below_k": self.classes_below_k,
            "records_below_k": self.records_below_k,
            "share_of_records_below_k": round(share, 4),
        }


def _value_at(record: Any, path: str) -> tuple[bool, Any]:
    """(present, value) at a dotted path (`user.address.zip`). A record without the field still
    belongs to a class: "missing" is a value like any other, distinct from `null`."""
    current = record
    for key in path.split("."):
        if not isinstance(current, dict) or key not in current:
            return False, None
        current = current[key]
    return True, current


def _class_key(record: Any, quasi_identifiers: tuple[str, ...]) -> str:
    values = [_value_at(record, path) for path in quasi_identifiers]
    return json.dumps(values, sort_keys=True, default=str)


def k_anonymity(
    lines: Iterable[str], quasi_identifiers: tuple[str, ...], k: int
) -> KAnonymityReport:
    """Count equivalence classes of `quasi_identifiers` over JSON-object lines."""
    if not quasi_identifiers:
        raise ValueError("name at least one quasi-identifier field path")
    if k < 2:
        raise ValueError("k must be at least 2")
    sizes: Counter[str] = Counter()
    skipped = 0
    for line in lines:
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            skipped += 1
            continue
        if not isinstance(record, dict):
            skipped += 1
            continue
        sizes[_class_key(record, quasi_identifiers)] += 1
    small = [size for size in sizes.values() if size < k]
    return KAnonymityReport(
        records=sum(sizes.values()),
        skipped_lines=skipped,
        quasi_identifiers=quasi_identifiers,
        k=k,
        classes=len(sizes),
        smallest_class=min(sizes.values(), default=0),
        classes_below_k=len(small),
        records_below_k=sum(small),
    )
