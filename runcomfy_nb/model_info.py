"""`rc.info(model)` / `%runcomfy info MODEL`: a model's fields, readable in a notebook and in a terminal."""

from __future__ import annotations

import html
import textwrap
from typing import Any

from . import schemas
from .errors import brief


def _rule(field: dict[str, Any]) -> str:
    """The range or the choices of a field, as text."""
    if "choices" in field:  # no-break spaces inside a choice: wrapping never splits one
        return f"{len(field['choices'])} choices: " + ", ".join(repr(c).replace(" ", "\u00a0") for c in field["choices"])
    low, high = field.get("minimum"), field.get("maximum")
    parts = []
    if low is not None or high is not None:
        parts.append(f"{'' if low is None else low} – {'' if high is None else high}".strip())
    if "max_length" in field:
        parts.append(f"≤ {field['max_length']} characters")
    if field.get("kind") == "media":
        parts.append(f"{field['media']}: URL, data: URI, path, bytes or PIL image")
    return "; ".join(parts)


class ModelInfo:
    """A model's input fields: key, title, type, range or choices, default, required (`.fields` as dicts)."""

    def __init__(self, model_id: str, display_name: str, fields: list[dict[str, Any]]) -> None:
        self.model_id = model_id
        self.display_name = display_name
        self.fields = fields

    def rows(self) -> list[dict[str, str]]:
        """One row of text per field, in schema order."""
        return [{"key": f["key"], "title": f["label"], "type": f["type"], "rule": _rule(f).replace("\u00a0", " "),
                 "default": repr(f["default"]) if "default" in f else "",
                 "example": brief(f["example"], 60) if "example" in f else "",
                 "required": "required" if f["required"] else ""} for f in self.fields]

    def __repr__(self) -> str:
        lines = [f"{self.model_id} — {self.display_name}" if self.display_name != self.model_id else self.model_id]
        for field, row in zip(self.fields, self.rows(), strict=True):
            head = f"  {row['key']}  ({row['title']}) {row['type']}"
            head += f", {row['required']}" if row["required"] else ""
            head += f", default {row['default']}" if row["default"] else ""
            head += f", example {row['example']}" if row["example"] else ""
            lines.append(head)
            if row["rule"]:
                lines += [line.replace("\u00a0", " ") for line in
                          textwrap.wrap(_rule(field), 110, initial_indent="      ", subsequent_indent="      ")]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        cells = "".join(
            "<tr>" + "".join(f"<td>{html.escape(v)}</td>" if k != "key" else f"<td><code>{html.escape(v)}</code></td>"
                             for k, v in row.items()) + "</tr>" for row in self.rows())
        head = "".join(f"<th>{h}</th>" for h in ("key", "title", "type", "range / choices", "default", "example",
                                                 "required"))
        return (f"<div><b>{html.escape(self.display_name)}</b> <code>{html.escape(self.model_id)}</code>"
                f"<table>{head}{cells}</table></div>")


def info(model_id: str) -> ModelInfo:
    """The fields of `model_id` (from the catalog when reachable, else the shipped schema).

    Raises NotFoundError, with close model ids, when neither knows the model.
    """
    from . import _shortcuts as api

    raw = api.schema(model_id)
    if raw is None:
        raise schemas.unknown_model_error(model_id, [m["model_id"] for m in api.models()])
    entry = schemas.shipped_entry(model_id)
    return ModelInfo(model_id, entry["display_name"] if entry else model_id, schemas.describe_fields(raw))
