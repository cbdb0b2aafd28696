"""k-anonymity of scrubbed records: is anyone still alone in their crowd?

Direct identifiers (names, e-mails) are removed by the policy; quasi-identifiers (age, postcode,
gender, job title) identify nobody alone but single people out in combination. Records that
share one combination of quasi-identifier values form an equivalence class; a dataset is
k-anonymous when every class holds at least k records, and l-diverse when every class holds at
least l distinct values of a sensitive field. This report says how far a scrubbed file is from
that, so a policy can be tightened (`generalize` with wider bands, shorter postcode prefixes)
before the data is shared.

The measures are those `scrubber run` watches per route (scrubber.privacy, docs/kanon.md);
`window_records` adds one report per window of that many lines, as the stream sees them.

The report holds counts only, never values: a class of one would otherwise print the very
combination that singles its person out.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from scrubber.privacy.classes import ClassCounter, Figures
from scrubber.privacy.quasi_fields import read_record


@dataclass(frozen=True, slots=True)
class KAnonymityReport(Figures):
    """The whole file's figures (records: JSON objects and logfmt lines; other lines skipped)."""

    quasi_identifiers: tuple[str, ...] = ()
    windows: int = 0

    @property
    def skipped_lines(self) -> int:
        return self.skipped

    def as_dict(self) -> dict[str, Any]:
        found = {"quasi_identifiers": list(self.quasi_identifiers), **Figures.as_dict(self)}
        return found | ({"windows": self.windows} if self.windows else {})


def k_anonymity(
    lines: Iterable[str], quasi_identifiers: tuple[str, ...], k: int, *,
    sensitive: str | None = None, l: int = 2, window_records: int | None = None,  # noqa: E741
    on_window: Callable[[int, Figures], None] | None = None,
) -> KAnonymityReport:  # fmt: skip
    """Count equivalence classes of `quasi_identifiers` over the lines (blank ones ignored).

    With `window_records`, also every that many lines: each window's number (from 0) and
    figures go to `on_window` as it closes (the last one may be shorter)."""
    _check(quasi_identifiers, k, sensitive, l, window_records)

    def counter() -> ClassCounter:
        return ClassCounter(quasi_identifiers, k, sensitive=sensitive, l=l, max_classes=sys.maxsize)

    whole, window = counter(), counter()
    seen = windows = 0
    for line in lines:
        if not line.strip():
            continue
        record = read_record(line)
        whole.add(record)
        if window_records is None:
            continue
        window.add(record)
        seen += 1
        if seen == window_records:
            if on_window is not None:
                on_window(windows, window.figures())
            window, seen, windows = counter(), 0, windows + 1
    if seen:
        if on_window is not None:
            on_window(windows, window.figures())
        windows += 1
    figures = whole.figures()
    return KAnonymityReport(**asdict(figures), quasi_identifiers=quasi_identifiers, windows=windows)


def _check(
    quasi_identifiers: tuple[str, ...], k: int, sensitive: str | None, l: int,  # noqa: E741
    window_records: int | None,
) -> None:  # fmt: skip
    if not quasi_identifiers:
        raise ValueError("name at least one quasi-identifier field path")
    if k < 2:
        raise ValueError("k must be at least 2")
    if sensitive is not None and l < 2:
        raise ValueError("l must be at least 2")
    if sensitive is not None and sensitive in quasi_identifiers:
        raise ValueError(f"the sensitive field {sensitive} is also a quasi-identifier")
    if window_records is not None and window_records < k:
        raise ValueError(f"a window of {window_records} lines can never hold a class of k={k}")
