"""Whether a value can be sent as JSON exactly as it was validated (schemas.check_inputs asks before validating)."""

from __future__ import annotations

import math
import re
from typing import Any

from .errors import brief

MAX_JSON_DEPTH = 64


def json_problem(value: Any) -> str | None:
    """Why `value` cannot be sent as JSON exactly as validated (None when it can).

    httpx encodes with allow_nan=False and UTF-8: NaN/Infinity and lone surrogates would fail at send time;
    non-string keys would be silently turned into strings; sets, bytes, numpy scalars… are not JSON at all;
    circular or absurdly deep structures cannot be encoded. Iterative: no recursion on hostile nesting.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return f"is nested more than {MAX_JSON_DEPTH} levels deep (or refers to itself)"
        if item is None or isinstance(item, bool):
            continue
        if isinstance(item, int):
            if _too_many_digits(item):
                return "is an integer with too many digits to encode as JSON"
            continue
        if isinstance(item, float):
            if not math.isfinite(item):
                return f"{item!r} is not a JSON number"
        elif isinstance(item, str):
            if _SURROGATE.search(item):
                return "holds a lone surrogate character, which cannot be encoded as UTF-8"
        elif isinstance(item, list | tuple):
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, dict):
            for key, v in item.items():
                if not isinstance(key, str):
                    return f"has a non-string key {brief(key, 40)} (JSON object keys are strings)"
                if _SURROGATE.search(key):
                    return "has a key with a lone surrogate character"
                stack.append((v, depth + 1))
        else:
            return f"a {type(item).__module__}.{type(item).__qualname__} is not a JSON value"
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")


def _too_many_digits(number: int) -> bool:
    """True when json.dumps would raise ValueError (Python's int-to-text digit limit, e.g. 10**5000)."""
    try:
        str(number)
    except ValueError:
        return True
    return False
