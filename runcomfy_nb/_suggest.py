"""Close matches for what people type: field keys, model ids, enum choices (used in error messages)."""

from __future__ import annotations

import difflib
import re
from typing import Any

from .errors import NotFoundError

ALL_CHOICES_UP_TO = 20  # an enum this small is listed in full in errors; a bigger one by its closest choices


def enum_rule(choices: list[Any], value: Any) -> str:
    """'must be one of …' with every choice, or (for long lists) the closest ones and the count."""
    if len(choices) <= ALL_CHOICES_UP_TO:
        return f"must be one of {len(choices)} choices: " + ", ".join(repr(c) for c in choices)
    close = suggest(str(value), [str(c) for c in choices], n=5) if value is not None else []
    shown = close or [str(c) for c in choices[:5]]
    return (f"must be one of {len(choices)} choices ({'closest' if close else 'e.g.'}: "
            + ", ".join(repr(c) for c in shown) + "; `%runcomfy info MODEL` lists them all)")


def _fold(name: str) -> str:
    """A key as people type it: lower case, no ComfyUI node prefix (598_seed), `×` written as x."""
    return re.sub(r"^\d+_", "", name.lower()).replace("×", "x")


def suggest(word: str, candidates: list[str], n: int = 3) -> list[str]:
    """The candidates `word` was probably meant to be: same folded spelling first, then close spellings."""
    folded = {c: _fold(c) for c in candidates}
    same = [c for c, f in folded.items() if f == _fold(word)]
    close = difflib.get_close_matches(_fold(word), list(dict.fromkeys(folded.values())), n=n, cutoff=0.6)
    by_fold = [c for f in close for c, g in folded.items() if g == f]
    return list(dict.fromkeys([*same, *by_fold]))[:n]


def resolve_key(key: str, keys: list[str]) -> str:
    """The field `key` names: itself, or the one field it spells with an ASCII x for `×` (width×height)."""
    if key in keys or "x" not in key:
        return key
    matches = [k for k in keys if "×" in k and k.replace("×", "x") == key]
    return matches[0] if len(matches) == 1 else key


def unknown_model_error(model_id: str, known: list[str]) -> NotFoundError:
    """The error for a model id that neither the catalog nor the shipped schemas know, with close ids."""
    close = difflib.get_close_matches(model_id, known, n=3, cutoff=0.5)
    hint = (f"did you mean {' or '.join(repr(c) for c in close)}?" if close
            else "`%runcomfy models` (or rc.models()) lists the models")
    return NotFoundError(f"Unknown model {model_id!r}: {hint} Nothing was sent; to send anyway, "
                         "use --no-validate (validate=False in Python).")
