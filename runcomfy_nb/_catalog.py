"""The model catalog that ships with the package (runcomfy_nb/schemas/*.json): offline ids, names and schemas."""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def _shipped() -> dict[str, dict[str, Any]]:
    entries = {}
    for item in resources.files(__package__).joinpath("schemas").iterdir():
        if item.name.endswith(".json"):
            entry = json.loads(item.read_text(encoding="utf-8"))
            entries[entry["model_id"]] = entry
    return entries


def shipped_models() -> list[dict[str, Any]]:
    """Catalog entries for the models whose schemas ship with the package (deep copies)."""
    return [copy.deepcopy(e) for e in _shipped().values()]


def shipped_entry(model_id: str) -> dict[str, Any] | None:
    """The shipped catalog entry of a model (a deep copy), or None."""
    entry = _shipped().get(model_id)
    return copy.deepcopy(entry) if entry else None


def display_name(model_id: str) -> str:
    """The model's human name from the shipped catalog, else its id."""
    entry = _shipped().get(model_id)
    return str(entry.get("display_name") or model_id) if entry else model_id


def shipped_schema(model_id: str) -> dict[str, Any] | None:
    """The shipped input schema of a model (a deep copy), or None."""
    entry = _shipped().get(model_id)
    return copy.deepcopy(entry["input_schema"]) if entry else None
