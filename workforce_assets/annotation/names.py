"""Annotator names and label values: one canonical spelling, one parser, used by every loader."""

from __future__ import annotations

import math
import re

_NON_ALNUM = re.compile(r"[^a-z0-9]+")

_POSITIVE = {"1", "1.0", "true", "yes", "y", "accept", "accepted"}
_NEGATIVE = {"0", "0.0", "false", "no", "n", "reject", "rejected"}


def canonical_annotator_name(name: str) -> str:
    """``llm_gemini-2.5-flash`` and ``LLM Gemini 2.5 Flash`` both become ``llm_gemini_2_5_flash``.

    Annotators are matched across files by this name, never by column position.
    """
    slug = _NON_ALNUM.sub("_", str(name).strip().lower()).strip("_")
    if not slug:
        raise ValueError(f"annotator name {name!r} has no letters or digits")
    return slug


def parse_label(value) -> int | None:
    """1/0, true/false, yes/no, ACCEPT/REJECT (any case) -> 1/0; anything else (ERROR, '', NaN) -> None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isnan(value):
            return None
        return int(value) if value in (0, 1) else None
    text = str(value).strip().lower()
    if text in _POSITIVE:
        return 1
    if text in _NEGATIVE:
        return 0
    return None
