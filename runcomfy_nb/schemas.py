"""Model input schemas: the shipped seeds, normalisation to standard JSON Schema, validation, form fields.

RunComfy's schemas are JSON-Schema-like but not standard (`"type": "float"`, bare `object`s, keys with `×`
or ComfyUI node prefixes, a catalog-only `validations` list and `format: image_uri`). Raw schemas are kept
byte-for-byte; everything here works on a normalised copy.
"""

from __future__ import annotations

import copy
import json
import math
import re
import sys
from typing import TYPE_CHECKING, Any, TypeGuard

from ._catalog import display_name as display_name
from ._catalog import shipped_entry as shipped_entry
from ._catalog import shipped_models as shipped_models
from ._catalog import shipped_schema as shipped_schema
from ._json_safe import json_problem
from ._suggest import ALL_CHOICES_UP_TO as ALL_CHOICES_UP_TO
from ._suggest import enum_rule
from ._suggest import resolve_key as resolve_key
from ._suggest import suggest as suggest
from ._suggest import unknown_model_error as unknown_model_error
from .errors import InputValidationError, brief

if TYPE_CHECKING:
    import jsonschema

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


_JSON_TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})
# Keywords whose values are checked before jsonschema sees them (a catalog schema is data from the network: a
# malformed keyword must not crash validation or the form). Anything else that validates is dropped; plain
# annotations (title, description, default, examples, …) are kept as they are.
_NUMBER_KEYWORDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
_COUNT_KEYWORDS = ("minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties")
_VALIDATING = frozenset({
    "type", "enum", "const", "multipleOf", *_NUMBER_KEYWORDS, *_COUNT_KEYWORDS, "pattern", "items", "properties",
    "required", "uniqueItems", "additionalProperties", "$ref", "$defs", "definitions", "$id", "$schema",
    "$anchor", "$dynamicRef", "$dynamicAnchor", "$vocabulary", "allOf", "anyOf", "oneOf", "not", "if", "then",
    "else", "dependentRequired", "dependentSchemas", "dependencies", "prefixItems", "contains", "minContains",
    "maxContains", "patternProperties", "propertyNames", "unevaluatedItems", "unevaluatedProperties",
    "additionalItems", "contentSchema", "format", "validations"})
_MAX_SCHEMA_DEPTH = 16
# Annotations keep their value only when it has the type the meta-schema asks for.
_ANNOTATIONS = {"title": str, "description": str, "$comment": str, "examples": list, "deprecated": bool,
                "readOnly": bool, "writeOnly": bool, "contentEncoding": str, "contentMediaType": str}


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _type_name(kind: Any) -> str | None:
    name = _TYPE_ALIASES.get(kind, kind) if isinstance(kind, str) else None
    return name if name in _JSON_TYPES else None


def _normalise_property(prop: Any, depth: int = 0) -> dict[str, Any]:
    """A standard, well-formed JSON Schema for one property; what cannot be understood is dropped."""
    if not isinstance(prop, dict) or depth > _MAX_SCHEMA_DEPTH:
        return {}
    out: dict[str, Any] = {k: copy.deepcopy(v) for k, v in prop.items()
                           if isinstance(k, str) and k not in _VALIDATING
                           and isinstance(v, _ANNOTATIONS.get(k, object))}
    kind = prop.get("type")
    if isinstance(kind, list):
        kinds = list(dict.fromkeys(t for t in map(_type_name, kind) if t))
        if kinds:
            out["type"] = kinds
    elif _type_name(kind):
        out["type"] = _type_name(kind)
    if isinstance(prop.get("enum"), list) and prop["enum"]:
        out["enum"] = copy.deepcopy(prop["enum"])
    if "const" in prop:
        out["const"] = copy.deepcopy(prop["const"])
    for keyword in _NUMBER_KEYWORDS:
        if _is_number(prop.get(keyword)):
            out[keyword] = prop[keyword]
    if _is_number(prop.get("multipleOf")) and prop["multipleOf"] > 0:
        out["multipleOf"] = prop["multipleOf"]
    for keyword in _COUNT_KEYWORDS:
        value = prop.get(keyword)
        if _is_number(value) and value >= 0 and float(value).is_integer():
            out[keyword] = int(value)
    if isinstance(prop.get("pattern"), str) and _compiles(prop["pattern"]):
        out["pattern"] = prop["pattern"]
    if isinstance(prop.get("uniqueItems"), bool):
        out["uniqueItems"] = prop["uniqueItems"]
    fmt = prop.get("format")
    if isinstance(fmt, str) and fmt not in _MEDIA_FORMATS:
        out["format"] = fmt  # an annotation only: no format checker is used
    elif isinstance(fmt, str) and fmt.endswith("s") and out.get("type") in (None, "string"):  # a media format
        out["type"] = "array"  # media rules themselves are checked by media.py
        out.setdefault("items", {"type": "string"})
    rules = prop.get("validations")
    for rule in rules if isinstance(rules, list) else []:
        if not isinstance(rule, dict):
            continue
        keyword = _VALIDATION_RULES.get(str(rule.get("validation_rule", "")).lower(), "")
        value = rule.get("validation_value")
        if keyword == "pattern":
            if isinstance(value, str) and _compiles(value):
                out[keyword] = value
        elif keyword and _is_number(value) and (keyword in _NUMBER_KEYWORDS or (value >= 0 and float(value).is_integer())):
            out[keyword] = value if keyword in _NUMBER_KEYWORDS else int(value)
    if isinstance(prop.get("items"), dict):
        out["items"] = _normalise_property(prop["items"], depth + 1)
    if isinstance(prop.get("properties"), dict):
        out["properties"] = {k: _normalise_property(v, depth + 1) for k, v in prop["properties"].items()
                             if isinstance(k, str)}
    if isinstance(prop.get("required"), list):
        out["required"] = [k for k in prop["required"] if isinstance(k, str)]
    if isinstance(prop.get("additionalProperties"), bool):
        out["additionalProperties"] = prop["additionalProperties"]
    return out


def _compiles(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError, ValueError):
        return False
    return True


def _properties(raw: Any) -> dict[str, Any]:
    props = raw.get("properties") if isinstance(raw, dict) else None
    return {k: v for k, v in props.items() if isinstance(k, str)} if isinstance(props, dict) else {}


# raw schema's id -> (that raw schema, its normalised copy): a client's cached schema is normalised once, not on
# every check (a magic's submit asked 3-4 times). The raw dict is kept so its id cannot be reused meanwhile.
_NORMALISED: dict[int, tuple[Any, dict[str, Any]]] = {}
_NORMALISED_KEPT = 64


def normalise(raw: dict[str, Any]) -> dict[str, Any]:
    """A standard JSON Schema (draft 2020-12) equivalent of a RunComfy input schema (do not modify it).

    Also the gate for schemas that came over the network: anything malformed is dropped, never raised.
    """
    hit = _NORMALISED.get(id(raw))
    if hit is not None and hit[0] is raw:
        return hit[1]
    schema = _normalise(raw)
    if len(_NORMALISED) >= _NORMALISED_KEPT:
        _NORMALISED.pop(next(iter(_NORMALISED)), None)
    _NORMALISED[id(raw)] = (raw, schema)
    return schema


def _normalise(raw: dict[str, Any]) -> dict[str, Any]:
    raw = raw if isinstance(raw, dict) else {}
    schema = _normalise_property({k: v for k, v in raw.items() if k not in ("properties", "type")})
    schema["type"] = "object"
    schema["properties"] = {k: _normalise_property(v) for k, v in _properties(raw).items()}
    schema["required"] = [k for k in schema.get("required", []) if isinstance(k, str)]
    if not schema["required"] and "required" not in raw:
        del schema["required"]
    return schema


def media_fields(raw: dict[str, Any]) -> dict[str, str]:
    """key -> "image" | "video" | "audio" for the inputs that take media (by format, else by key name)."""
    found = {}
    for key, prop in _properties(raw).items():
        prop = prop if isinstance(prop, dict) else {}
        fmt = prop.get("format")
        kind = prop.get("type")
        if isinstance(fmt, str) and fmt in _MEDIA_FORMATS:
            found[key] = _MEDIA_FORMATS[fmt]
        elif kind is None or {_type_name(k) for k in (kind if isinstance(kind, list) else [kind])} & {"string", "array"}:
            match = _MEDIA_KEY.search(key.lower())
            if match:
                found[key] = match.group(1)
    return found


def apply_defaults(raw: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """The inputs with every missing field that has a default filled in (inputs win; order: schema's)."""
    if not isinstance(inputs, dict):
        raise _not_an_object(inputs)
    result: dict[str, Any] = {}
    for key, prop in _properties(raw).items():
        if key in inputs:
            result[key] = inputs[key]
        elif isinstance(prop, dict) and "default" in prop:
            result[key] = copy.deepcopy(prop["default"])
    for key, value in inputs.items():
        result.setdefault(key, value)
    return result


def _not_an_object(inputs: Any) -> InputValidationError:
    return InputValidationError(f"inputs: type — must be a JSON object; got {brief(inputs)}",
                                field=None, rule="type", value=inputs)


def _describe(error: jsonschema.ValidationError, props: dict[str, Any]) -> InputValidationError:
    path = [str(p) for p in error.absolute_path]
    rule = str(error.validator)
    field = path[0] if path else None
    value = error.instance
    if rule == "required":  # inside an object input (the top level's are listed by check_inputs)
        missing = [k for k in error.validator_value if isinstance(error.instance, dict) and k not in error.instance]
        where = ".".join([*path, *missing[:1]])
        return InputValidationError(f"{where}: required — the field is missing", field=field, rule="required",
                                    value=None)
    where = ".".join(path) if path else "(inputs)"
    expected = error.validator_value
    if rule == "enum":
        detail = enum_rule(expected, value)
    elif rule == "type":
        detail = f"must be of type {expected}"
    elif rule in ("maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum"):
        sign = {"maximum": "≤", "minimum": "≥", "exclusiveMaximum": "<", "exclusiveMinimum": ">"}[rule]
        detail = f"must be {sign} {expected}"
    elif rule in ("maxLength", "minLength"):
        detail = f"must be {'at most' if rule == 'maxLength' else 'at least'} {expected} characters (has {len(value)})"
    else:
        detail = error.message if len(error.message) <= 200 else error.message[:199] + "…"
    return InputValidationError(f"{where}: {rule} — {detail}; got {brief(value)}",
                                field=field, rule=rule, value=value)


def _jsonschema() -> Any:
    """jsonschema, imported on first validation without its costly, unused format helpers (deferred_imports)."""
    if "jsonschema" not in sys.modules:
        from .deferred_imports import deferred

        with deferred():
            import jsonschema
    import jsonschema

    return jsonschema


_VALIDATORS: dict[str, jsonschema.Draft202012Validator] = {}  # raw schema as JSON -> its validator


def _validator_for(raw: dict[str, Any]) -> jsonschema.Draft202012Validator:
    try:
        key = json.dumps(raw, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):  # not JSON itself: validate without the cache
        return _jsonschema().Draft202012Validator(normalise(raw))
    validator = _VALIDATORS.get(key)
    if validator is None:
        validator = _VALIDATORS[key] = _jsonschema().Draft202012Validator(normalise(raw))
    return validator


def check_inputs(raw: dict[str, Any], inputs: dict[str, Any], *, allow_unknown: bool = False) -> list[InputValidationError]:
    """Every problem with `inputs`, one error per field (first rule broken), in schema order."""
    if not isinstance(inputs, dict):
        return [_not_an_object(inputs)]
    normal = normalise(raw)
    props = normal["properties"]
    by_field: dict[str | None, InputValidationError] = {}
    for key, value in inputs.items():
        if not isinstance(key, str):
            by_field.setdefault(str(key), InputValidationError(
                f"{brief(key, 40)}: type — input names must be strings; got a {type(key).__name__}",
                field=str(key), rule="type", value=key))
            continue
        problem = json_problem(value)
        if problem:
            by_field[key] = InputValidationError(f"{key}: json — {problem}; got {brief(value)}",
                                                 field=key, rule="json", value=value)
    # jsonschema sees only what can be sent; a field refused above still counts as present.
    sendable = {k: v for k, v in inputs.items() if isinstance(k, str) and k not in by_field}
    present = {k for k in inputs if isinstance(k, str)}
    validator = _validator_for(raw)
    for error in sorted(validator.iter_errors(sendable), key=lambda e: (len(e.absolute_path) == 0, str(e.validator))):
        if error.validator == "required" and not error.absolute_path:
            continue  # the top level's missing fields are listed below, one error each
        described = _describe(error, props)
        by_field.setdefault(described.field, described)
    for key in normal.get("required", []):
        if key not in present:
            label = props.get(key, {}).get("title") or key
            by_field.setdefault(key, InputValidationError(f"{key}: required ({label}) — the field is missing",
                                                          field=key, rule="required", value=None))
    if not allow_unknown and props:
        for key in sendable:
            if key not in props:
                close = suggest(key, list(props))
                hint = (f"; did you mean {' or '.join(repr(c) for c in close)}?" if close
                        else f"; known fields: {', '.join(props)}")
                by_field.setdefault(key, InputValidationError(
                    f"{key}: unknown_field — not an input of this model{hint}; got {brief(inputs[key])}", field=key, rule="unknown_field", value=inputs[key]))
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
    required = set(normal.get("required") or [])
    fields = []
    for key, prop in normal["properties"].items():
        kind_type = prop.get("type")
        field: dict[str, Any] = {"key": key, "label": _label(key, prop), "description": str(prop.get("description") or ""),
                                 "required": key in required, "type": _type_text(kind_type)}
        examples = prop.get("examples") if isinstance(prop.get("examples"), list) else []
        if examples and isinstance(examples[0], str | int | float):
            field["example"] = examples[0]
        if "default" in prop:
            # A required text or media field's default is the schema's example prompt or picture: shown as a
            # hint, never sent unless the person types it (docs/decisions.md).
            if field["required"] and isinstance(prop["default"], str) and (key in media or kind_type == "string") \
                    and "enum" not in prop:
                if prop["default"]:
                    field.setdefault("example", prop["default"])
            else:
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


def _type_text(kind: Any) -> str:
    if isinstance(kind, list):
        return " | ".join(map(str, kind))
    return str(kind) if kind else "any"
