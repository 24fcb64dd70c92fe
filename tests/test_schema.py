"""Schemas: shipped byte-for-byte, normalised, validated (cases as data), described for forms."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from runcomfy_nb import schemas
from runcomfy_nb._media import prepare_media
from runcomfy_nb.errors import InputValidationError

# shared/ sits beside the checkout (a worktree may be one level deeper): the nearest one up the tree.
SEEDS = next((d / "shared" / "seeds" for d in Path(__file__).resolve().parents if (d / "shared" / "seeds").is_dir()),
             Path(__file__).resolve().parents[2] / "shared" / "seeds")
CASES = json.loads((Path(__file__).parent / "cases" / "invalid_inputs.json").read_text(encoding="utf-8"))
MODELS = sorted(m["model_id"] for m in schemas.shipped_models())


def _seed_schema(model_id: str) -> dict:
    for path in SEEDS.glob("*.txt"):
        text = path.read_text(encoding="utf-8")
        if f"/v1/models/{model_id} " in text or f"/v1/models/{model_id} \\" in text:
            start = text.index('{\n"type": "object",\n"title"')
            return json.JSONDecoder().raw_decode(text, start)[0]
    raise LookupError(model_id)


def test_five_seed_models_ship() -> None:
    assert sorted([
        "wan-ai/wan-2-5/text-to-image", "bytedance/dreamina-4-0/text-to-image",
        "community/wan-2-1/fusionx/image-to-video", "blackforestlabs/flux-1-kontext/pro/edit",
        "ideogram/ideogram-v3/reframe"]) == MODELS


@pytest.mark.skipif(not SEEDS.exists(), reason="shared/seeds is beside the checkout only in the workplace")
@pytest.mark.parametrize("model_id", MODELS)
def test_shipped_schema_is_the_seed_byte_for_byte(model_id: str) -> None:
    shipped = schemas.shipped_schema(model_id)
    seed = _seed_schema(model_id)
    assert shipped == seed
    assert list(shipped["properties"]) == list(seed["properties"])  # key order and spelling, incl. ×


def test_non_standard_bits_are_normalised() -> None:
    dreamina = schemas.normalise(schemas.shipped_schema("bytedance/dreamina-4-0/text-to-image"))
    assert dreamina["properties"]["scale"]["type"] == "number"
    assert "width×height" in dreamina["properties"]
    reframe = schemas.normalise(schemas.shipped_schema("ideogram/ideogram-v3/reframe"))
    assert reframe["properties"]["style"] == {"title": "Style", "description": "", "type": "object"}


def test_catalog_extras_are_understood() -> None:
    raw = {"type": "object", "properties": {
        "images": {"type": "string", "format": "image_uris"},
        "prompt": {"type": "string", "validations": [{"validation_rule": "max_length", "validation_value": 5,
                                                      "validation_error": "too long"},
                                                     {"validation_rule": "mystery", "validation_value": 1}]}}}
    assert schemas.media_fields(raw) == {"images": "image"}
    assert schemas.normalise(raw)["properties"]["images"]["type"] == "array"
    with pytest.raises(InputValidationError) as caught:
        schemas.validate_inputs(raw, {"prompt": "toolong"})
    assert caught.value.field == "prompt" and caught.value.rule == "maxLength"


@pytest.mark.parametrize("case", CASES, ids=[f"{c['model'].split('/')[1]}-{c['field']}-{c['rule']}" for c in CASES])
def test_invalid_inputs_name_field_rule_and_value(case: dict) -> None:
    raw = schemas.shipped_schema(case["model"])
    inputs = {k: ("x" * int(v[5:]) if isinstance(v, str) and v.startswith("LONG:") else v)
              for k, v in case["inputs"].items()}
    full = schemas.apply_defaults(raw, inputs)
    defaults = {k: p.get("default") for k, p in raw["properties"].items()}
    with pytest.raises(InputValidationError) as caught:
        schemas.validate_inputs(raw, full)
        prepare_media(schemas.media_fields(raw), full, defaults)
    error = caught.value
    matching = [e for e in error.errors if e.field == case["field"]]
    assert matching, str(error)
    assert matching[0].rule == case["rule"]
    assert case["field"] in str(matching[0]) and case["rule"] in str(matching[0])
    if case["rule"] != "required":
        shown = str(inputs[case["field"]])[:20]
        assert shown in str(matching[0]) or repr(inputs[case["field"]])[:20] in str(matching[0])


@pytest.mark.parametrize("model_id", MODELS)
def test_defaults_are_valid_and_fields_described(model_id: str) -> None:
    raw = schemas.shipped_schema(model_id)
    fields = schemas.describe_fields(raw)
    assert [f["key"] for f in fields] == list(raw["properties"])
    for field in fields:
        assert field["label"] and not re.match(r"^\d+_", field["label"])
        assert field["kind"] in {"text", "enum", "integer", "number", "boolean", "seed", "json", "media"}
    required = {f["key"] for f in fields if f["required"]}
    assert required == set(raw["required"])


def test_field_kinds_per_seed() -> None:
    kinds = {m: {f["key"]: f["kind"] for f in schemas.describe_fields(schemas.shipped_schema(m))} for m in MODELS}
    assert kinds["ideogram/ideogram-v3/reframe"] == {"image": "media", "resolution": "enum", "seed": "seed",
                                                     "rendering_speed": "enum", "color_palette": "json", "style": "json"}
    assert kinds["community/wan-2-1/fusionx/image-to-video"]["598_cfg"] == "number"
    assert kinds["community/wan-2-1/fusionx/image-to-video"]["598_steps"] == "integer"
    assert kinds["community/wan-2-1/fusionx/image-to-video"]["608_image"] == "media"
    assert kinds["blackforestlabs/flux-1-kontext/pro/edit"]["image_url"] == "media"
    assert kinds["bytedance/dreamina-4-0/text-to-image"]["force_single"] == "boolean"
    reframe = {f["key"]: f for f in schemas.describe_fields(schemas.shipped_schema("ideogram/ideogram-v3/reframe"))}
    assert len(reframe["resolution"]["choices"]) == 69
    assert reframe["image"]["label"] == "Image"  # the seed's title is the raw key; shown capitalised


def test_several_errors_are_all_reported() -> None:
    raw = schemas.shipped_schema("community/wan-2-1/fusionx/image-to-video")
    with pytest.raises(InputValidationError) as caught:
        schemas.validate_inputs(raw, {"600_prompt": "x", "608_image": "https://e.x/a.png", "598_steps": 99,
                                      "598_cfg": 9})
    assert {e.field for e in caught.value.errors} == {"598_steps", "598_cfg"}
    assert "2 invalid inputs" in str(caught.value)
