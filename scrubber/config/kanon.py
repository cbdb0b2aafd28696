"""Config of a route's `kanon:` section: k-anonymity of the scrubbed output over tumbling windows.

Example (under a route):

    kanon:
      quasi_identifiers: [user.age, user.zip, gender]   # JSON paths (dotted) or logfmt keys
      sensitive: diagnosis                              # optional: l-diversity of this field
      k: 5
      l: 2
      window_records: 10000                             # or window_seconds: 60 (exactly one)
      on_breach: alert                                  # or generalize

docs/kanon.md says what is measured and what `generalize` does.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from scrubber.models import Strict

# A window tracks at most this many distinct combinations unless `max_classes` says otherwise;
# records of further combinations are counted as classes of one (scrubber.privacy.kanon_window).
DEFAULT_MAX_CLASSES = 10_000


def path_problem(path: str) -> str | None:
    """Why a quasi-identifier or sensitive field path names no single field, with the fix."""
    if not path.strip():
        return "is empty: name a dotted JSON path such as `user.age` or a logfmt key such as `zip`"
    if path != path.strip():
        return f"'{path}' has blanks around it: write `{path.strip()}`"
    if "*" in path or "?" in path or "[" in path:
        return (
            f"'{path}' is a pattern; a quasi-identifier is one field: write its dotted path "
            "(`user.zip`; array elements are not followed)"
        )
    if "" in path.split("."):
        return f"'{path}' has an empty key between dots: write keys joined by single dots"
    return None


class KAnonymityConfig(Strict):
    # The fields that single people out in combination, read from each scrubbed output record.
    quasi_identifiers: tuple[str, ...] = Field(min_length=1)
    # A field whose values must vary inside every class (l-diversity); None: not measured.
    sensitive: str | None = None
    k: int = Field(ge=2)
    l: int = Field(2, ge=2)  # noqa: E741  # the measure's own name
    # Tumbling windows: every `window_records` records, or every `window_seconds` seconds.
    window_records: int | None = Field(None, ge=2, le=10_000_000)
    window_seconds: float | None = Field(None, gt=0, le=86_400)
    on_breach: Literal["alert", "generalize"] = "alert"
    # Memory bound: distinct combinations a window counts (see DEFAULT_MAX_CLASSES).
    max_classes: int = Field(DEFAULT_MAX_CLASSES, ge=1, le=1_000_000)

    @field_validator("quasi_identifiers")
    @classmethod
    def _fields(cls, paths: tuple[str, ...]) -> tuple[str, ...]:
        problems = [why for path in paths if (why := path_problem(path))]
        repeated = sorted({path for path in paths if paths.count(path) > 1})
        if repeated:
            problems.append(f"{', '.join(repeated)} named twice: name each field once")
        if problems:
            raise ValueError("; ".join(problems))
        return paths

    @field_validator("sensitive")
    @classmethod
    def _sensitive_field(cls, path: str | None) -> str | None:
        if path is not None and (why := path_problem(path)):
            raise ValueError(why)
        return path

    @model_validator(mode="after")
    def _consistent(self) -> KAnonymityConfig:
        if (self.window_records is None) == (self.window_seconds is None):
            raise ValueError(
                "give exactly one of `window_records` (a count) or `window_seconds` (a time)"
            )
        if self.window_records is not None and self.window_records < self.k:
            raise ValueError(
                f"window_records {self.window_records} is below k {self.k}: no class could "
                "ever reach k; make the window larger"
            )
        if self.sensitive in self.quasi_identifiers:
            raise ValueError(
                f"sensitive '{self.sensitive}' is also a quasi-identifier: it would vary in no "
                "class; drop it from one of the two"
            )
        if self.sensitive is None and "l" in self.model_fields_set:
            raise ValueError("`l` is set but no `sensitive` field is named to measure it on")
        return self
