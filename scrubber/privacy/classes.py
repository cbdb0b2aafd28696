"""Equivalence classes of quasi-identifier values, and the measures read from them.

Records that share one combination of quasi-identifier values form a class. From the class
sizes: the smallest class (the data is k-anonymous when it is at least k), the records in
classes below k, the number of classes, and prosecutor risk, 1 / smallest class: the chance that
someone who knows a person is in the data and knows their quasi-identifiers picks their record.
With a sensitive field: l-diversity, the number of distinct sensitive values in the least
diverse class (l = 1: knowing the class tells the sensitive value).

Memory is bounded: a class is a 16-byte digest and a count, never the values; at most
`max_classes` classes are tracked and a record of a further combination is counted as a class
of one of its own (`untracked`), the worst it could be; a class remembers at most
MAX_SENSITIVE_VALUES distinct sensitive values (l-diversity saturates there).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scrubber.privacy.quasi_fields import FieldRecord, canonical

MAX_SENSITIVE_VALUES = 64


@dataclass(frozen=True, slots=True)
class Figures:
    """The measures of one window (or file). Counts only, never a value."""

    records: int  # classed records
    skipped: int  # records without fields (plain text, placeholders): not classed
    missing_all: int  # classed records that have none of the quasi-identifiers
    untracked: int  # past max_classes: each counted as a class of one
    classes: int
    smallest_class: int  # 0 when no record was classed
    classes_below_k: int
    records_below_k: int
    l_diversity: int | None  # None: no sensitive field declared
    k: int
    l: int | None  # noqa: E741  # the measure's own name

    @property
    def records_below_k_ratio(self) -> float:
        return self.records_below_k / self.records if self.records else 0.0

    @property
    def prosecutor_risk(self) -> float:
        return 1.0 / self.smallest_class if self.smallest_class else 0.0

    @property
    def k_anonymous(self) -> bool:
        return self.records > 0 and self.smallest_class >= self.k

    @property
    def k_breached(self) -> bool:
        return self.records > 0 and self.smallest_class < self.k

    @property
    def l_breached(self) -> bool:
        return self.records > 0 and self.l is not None and (self.l_diversity or 0) < self.l

    @property
    def breached(self) -> bool:
        return self.k_breached or self.l_breached

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "records": self.records, "skipped_lines": self.skipped,
            "records_missing_all": self.missing_all, "records_untracked": self.untracked,
            "k": self.k, "k_anonymous": self.k_anonymous,
            "classes": self.classes, "smallest_class": self.smallest_class,
            "classes_below_k": self.classes_below_k, "records_below_k": self.records_below_k,
            "share_of_records_below_k": round(self.records_below_k_ratio, 4),
            "prosecutor_risk": round(self.prosecutor_risk, 4),
        }  # fmt: skip
        if self.l is not None:
            diverse = not self.l_breached
            found |= {"l": self.l, "l_diversity": self.l_diversity, "l_diverse": diverse}
        return found


class ClassCounter:
    """Counts classes of `quasi_identifiers` (and sensitive values per class) record by record."""

    def __init__(
        self, quasi_identifiers: Sequence[str], k: int, *, sensitive: str | None = None,
        l: int | None = None, max_classes: int = 10_000,  # noqa: E741
    ) -> None:  # fmt: skip
        self.quasi_identifiers = tuple(quasi_identifiers)
        self.sensitive = sensitive
        self.k, self.l = k, (l if sensitive is not None else None)
        self.max_classes = max_classes
        self._sizes: dict[bytes, int] = {}
        self._diversity: dict[bytes, set[bytes]] = {}
        self._skipped = self._missing_all = self._untracked = 0

    def add(self, record: FieldRecord | None) -> None:
        """One record into its class (None: a record without fields, skipped)."""
        if record is None:
            self._skipped += 1
            return
        values = [canonical(record.value(path)) for path in self.quasi_identifiers]
        if all(value is None for value in values):
            self._missing_all += 1
        key = _digest(values, 16)
        if key not in self._sizes and len(self._sizes) >= self.max_classes:
            self._untracked += 1
            return
        self._sizes[key] = self._sizes.get(key, 0) + 1
        if self.sensitive is not None:
            seen = self._diversity.setdefault(key, set())
            if len(seen) < MAX_SENSITIVE_VALUES:
                seen.add(_digest([canonical(record.value(self.sensitive))], 8))

    def has_class_below_k(self) -> bool:
        return self._untracked > 0 or any(size < self.k for size in self._sizes.values())

    def figures(self) -> Figures:
        sizes = list(self._sizes.values()) + [1] * self._untracked
        small = [size for size in sizes if size < self.k]
        diversity = None
        if self.sensitive is not None:
            # An untracked record is a class of one: one sensitive value.
            counts = [len(seen) for seen in self._diversity.values()] + [1] * min(
                self._untracked, 1
            )
            diversity = min(counts, default=0)
        return Figures(
            records=sum(sizes), skipped=self._skipped, missing_all=self._missing_all,
            untracked=self._untracked, classes=len(sizes), smallest_class=min(sizes, default=0),
            classes_below_k=len(small), records_below_k=sum(small), l_diversity=diversity,
            k=self.k, l=self.l,
        )  # fmt: skip


def _digest(values: list[str | None], size: int) -> bytes:
    # json.dumps escapes control characters, so \x1e and \x00 cannot occur inside a value.
    joined = "\x1e".join("\x00" if value is None else value for value in values)
    return hashlib.blake2b(joined.encode("utf-8", "surrogatepass"), digest_size=size).digest()
