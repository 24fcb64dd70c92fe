"""Model input schemas: the shipped seeds, normalisation to standard JSON Schema, validation, form fields.

RunComfy's schemas are JSON-Schema-like but not standard (`"type": "float"`, bare `object`s, keys with `×`
or ComfyUI node prefixes, a catalog-only `validations` list and `format: image_uri`). Raw schemas are kept
byte-for-byte; everything here works on a normalised copy.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from .errors import InputValidationError

_TYPE_ALIASES = {"float": "number", "double": "number", "int": "integer", "bool": "boolean",
                 "str": "string", "dict": "object", "list": "array"}
_MEDIA_FORMATS = {"image_uri": "image", "image_uris": "image", "video_uri": "video", "video_uris": "video",
                  "audio_uri": "audio", "audio_uris": "audio"}
# Keys like image, image_url, 608_image, video_urls, input_audio: media inputs when the schema does not say.
_MEDIA_KEY = re.compile(r"(?:^|_)(image|video|audio)(?:_(?:url|uri))?s?$")
# The catalog's `validations` rules we understand, as JSON Schema keywords.
_VALIDATION_RULES = {"max_length": "maxLength", "min_length": "minLength", "max": "maximum", "min": "minimum",
                     "maximum": "maximum", "minimum": "minimum", "pattern": "pattern",
                     "max_items": "maxItems", "min_items": "minItems"}


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
    entry = _shipped().get(model_id)
    return copy.deepcopy(entry) if entry else None


def shipped_schema(model_id: str) -> dict[str, Any] | None:
    entry = _shipped().get(model_id)
    return copy.deepcopy(entry["input_schema"]) if entry else None


def _normalise_property(prop: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(prop)
    kind = out.get("type")
    if isinstance(kind, str):
        out["type"] = _TYPE_ALIASES.get(kind, kind)
    elif isinstance(kind, list):
        out["type"] = [_TYPE_ALIASES.get(k, k) for k in kind]
    fmt = out.get("format")
    if fmt in _MEDIA_FORMATS:
        out.pop("format")  # not a JSON Schema format; media rules are checked by media.py
        if fmt.endswith("s") and out.get("type") in (None, "string"):
            out["type"] = "array"
            out.setdefault("items", {"type": "string"})
    for rule in out.pop("validations", None) or []:
        keyword = _VALIDATION_RULES.get(str(rule.get("validation_rule", "")).lower())
        if keyword and rule.get("validation_value") is not None:
            out[keyword] = rule["validation_value"]
    if out.get("type") == "object" and "properties" in out:
        out["properties"] = {k: _normalise_property(v) for k, v in out["properties"].items()}
    return out


def normalise(raw: dict[str, Any]) -> dict[str, Any]:
    """A standard JSON Schema (draft 2020-12) equivalent of a RunComfy input schema."""
    schema = {k: v for k, v in raw.items() if k != "properties"}
    schema["type"] = "object"
    schema["properties"] = {k: _normalise_property(v) for k, v in (raw.get("properties") or {}).items()}
    return schema


def media_fields(raw: dict[str, Any]) -> dict[str, str]:
    """key -> "image" | "video" | "audio" for the inputs that take media (by format, else by key name)."""
    found = {}
    for key, prop in (raw.get("properties") or {}).items():
        fmt = prop.get("format")
        if fmt in _MEDIA_FORMATS:
            found[key] = _MEDIA_FORMATS[fmt]
        elif _TYPE_ALIASES.get(prop.get("type"), prop.get("type")) in ("string", "array", None):
            match = _MEDIA_KEY.search(key.lower())
            if match:
                found[key] = match.group(1)
    return found


def apply_defaults(raw: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """The inputs with every missing field that has a default filled in (inputs win; order: schema's)."""
    result: dict[str, Any] = {}
    props = raw.get("properties") or {}
    for key, prop in props.items():
        if key in inputs:
            result[key] = inputs[key]
        elif "default" in prop:
            result[key] = copy.deepcopy(prop["default"])
    for key, value in inputs.items():
        result.setdefault(key, value)
    return result


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    if isinstance(value, str) and value.startswith("data:"):
        text = repr(value[:40] + f"…<{len(value)} chars>")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _describe(error: jsonschema.ValidationError, props: dict[str, Any]) -> InputValidationError:
    path = [str(p) for p in error.absolute_path]
    rule = str(error.validator)
    field = path[0] if path else None
    value = error.instance
    if rule == "required":
        missing = [k for k in error.validator_value if k not in error.instance]
        field = missing[0] if missing else None
        label = (props.get(field) or {}).get("title") or field
        return InputValidationError(f"{field}: required ({label}) — the field is missing",
                                    field=field, rule="required", value=None)
    where = ".".join(path) if path else "(inputs)"
    expected = error.validator_value
    if rule == "enum":
        choices = ", ".join(repr(c) for c in expected[:8]) + (f", … ({len(expected)} choices)" if len(expected) > 8 else "")
        detail = f"must be one of {choices}"
    elif rule == "type":
        detail = f"must be of type {expected}"
    elif rule in ("maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum"):
        sign = {"maximum": "≤", "minimum": "≥", "exclusiveMaximum": "<", "exclusiveMinimum": ">"}[rule]
        detail = f"must be {sign} {expected}"
    elif rule in ("maxLength", "minLength"):
        detail = f"must be {'at most' if rule == 'maxLength' else 'at least'} {expected} characters (has {len(value)})"
    else:
        detail = error.message
    return InputValidationError(f"{where}: {rule} — {detail}; got {_short(value)}",
                                field=field, rule=rule, value=value)


@cache
def _validator_for(raw_json: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(normalise(json.loads(raw_json)))


def check_inputs(raw: dict[str, Any], inputs: dict[str, Any], *, allow_unknown: bool = False) -> list[InputValidationError]:
    """Every problem with `inputs`, one error per field (first rule broken), in schema order."""
    if not isinstance(inputs, dict):
        return [InputValidationError(f"inputs: type — must be a JSON object; got {_short(inputs)}",
                                     field=None, rule="type", value=inputs)]
    props = raw.get("properties") or {}
    validator = _validator_for(json.dumps(raw, sort_keys=True, ensure_ascii=False))
    by_field: dict[str | None, InputValidationError] = {}
    for error in sorted(validator.iter_errors(inputs), key=lambda e: (len(e.absolute_path) == 0, str(e.validator))):
        described = _describe(error, props)
        by_field.setdefault(described.field, described)
    if not allow_unknown and props:
        for key in inputs:
            if key not in props:
                close = difflib.get_close_matches(key, list(props), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; known fields: {', '.join(props)}"
                by_field.setdefault(key, InputValidationError(
                    f"{key}: unknown_field — not an input of this model{hint}; got {_short(inputs[key])}", field=key, rule="unknown_field", value=inputs[key]))
    order = {k: i for i, k in enumerate(props)}
    return sorted(by_field.values(), key=lambda e: order.get(e.field, len(order)))


def validate_inputs(raw: dict[str, Any], inputs: dict[str, Any], *, allow_unknown: bool = False) -> None:
    """Raise InputValidationError (naming field, rule and value) if `inputs` break the schema."""
    errors = check_inputs(raw, inputs, allow_unknown=allow_unknown)
    if not errors:
        return
    if len(errors) == 1:
        raise errors[0]
    first = errors[0]
    message = f"{len(errors)} invalid inputs:\n" + "\n".join(f"  - {e}" for e in errors)
    raise InputValidationError(message, field=first.field, rule=first.rule, value=first.value, errors=errors)


def _label(key: str, prop: dict[str, Any]) -> str:
    title = str(prop.get("title") or "").strip()
    if title and title != key:
        return title
    words = re.sub(r"^\d+_", "", key).replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else key


def describe_fields(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """One plain-JSON field description per input, for forms: key, label, kind, bounds, choices, default…"""
    normal = normalise(raw)
    media = media_fields(raw)
    required = set(raw.get("required") or [])
    fields = []
    for key, prop in normal["properties"].items():
        kind_type = prop.get("type")
        field: dict[str, Any] = {"key": key, "label": _label(key, prop), "description": str(prop.get("description") or ""),
                                 "required": key in required}
        if "default" in prop:
            field["default"] = prop["default"]
        for src, dst in (("minimum", "minimum"), ("maximum", "maximum"), ("maxLength", "max_length")):
            if src in prop:
                field[dst] = prop[src]
        if "enum" in prop:
            field.update(kind="enum", choices=list(prop["enum"]))
        elif key in media:
            field.update(kind="media", media=media[key])
        elif kind_type == "integer" and re.search(r"(^|_)seed$", key):
            field["kind"] = "seed"
        elif kind_type in ("integer", "number", "boolean"):
            field["kind"] = kind_type
        elif kind_type in ("object", "array"):
            field["kind"] = "json"
        else:
            field.update(kind="text", multiline=("prompt" in key.lower() or prop.get("maxLength", 0) > 200))
        fields.append(field)
    return fields
