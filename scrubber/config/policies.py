"""Named policies (`policies:`) that routes may use or try in the shadow (`shadow:`).

A named policy holds some of the engine's sections (`policy`, `detection`, `limits`, and
`recognizers`), written as in the base config and merged over it: a mapping merges key by key
(`policy.entities`, `policy.fields`, `detection.ner`), except an operator (a mapping with
`type`), which replaces the base's whole; a list or a value replaces the base's; `recognizers`
are added to the base's. The result is a whole config, validated as one, whose hash is the one a
route's output carries (`Config.effective`).
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from typing import Any

from pydantic import Field

from scrubber.models import Strict

NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,62}$"  # a metric label value, as a route's name


class NamedPolicy(Strict):
    """One `policies.NAME`. The sections are checked when merged (`Config.effective`), so a
    problem is reported at its key path under `policies.NAME`."""

    policy: dict[str, Any] = {}
    detection: dict[str, Any] = {}
    limits: dict[str, Any] = {}
    recognizers: tuple[dict[str, Any], ...] = ()  # added to the base's `recognizers`


class ShadowConfig(Strict):
    """`shadow:` candidate policies run beside every route's live one on a sample of records
    (a route's own `shadow:` list replaces `policies` for it); their output is never emitted."""

    policies: tuple[str, ...] = ()
    # The share of records each candidate scrubs too, chosen by a hash of topic, partition and
    # offset (`scrubber.pipeline.shadow.sampled`): the same records on every run.
    sample_rate: float = Field(0.1, gt=0.0, le=1.0)


def merged(base: Any, over: Any) -> Any:
    """`over` merged over `base` (see the module docstring; not `recognizers`)."""
    if isinstance(base, Mapping) and isinstance(over, Mapping) and "type" not in over:
        out = dict(base)
        for key, value in over.items():
            out[key] = merged(base.get(key), value)
        return out
    return over


def with_policy(base: dict[str, Any], named: NamedPolicy) -> dict[str, Any]:
    """The base config's data (`Config.model_dump(mode="json")`) with `named` merged over it."""
    out = dict(base)
    for section in ("policy", "detection", "limits"):
        out[section] = merged(base.get(section, {}), getattr(named, section))
    out["recognizers"] = [*base.get("recognizers", ()), *named.recognizers]
    return out


def unknown_name(name: str, known: Collection[str]) -> str:
    """`unknown policy 'strct' (did you mean 'strict'?)`."""
    close = difflib.get_close_matches(name, sorted(known), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    if not known:
        hint = " (declare it under `policies:`)"
    return f"unknown policy '{name}'{hint}"
