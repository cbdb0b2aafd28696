"""Every entity type the engine can report is documented for policy writers."""

from __future__ import annotations

import re
from pathlib import Path

from recognizers import default_recognizers
from recognizers.fields import FIELD_HINTS

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_every_entity_type_is_listed_in_the_configuration_guide() -> None:
    types = {r.entity_type for r in default_recognizers()} | {h.entity_type for h in FIELD_HINTS}
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", DOC.read_text(encoding="utf-8")))
    assert sorted(types - documented) == []
