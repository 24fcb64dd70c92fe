"""The simulator's model catalog: the five shipped seed schemas, in the shape of `GET /v1/models`.

Prices are invented (the real ones are not public in the seeds); everything else comes from the shipped
schema files, kept byte-for-byte.
"""

from __future__ import annotations

import copy
from functools import cached_property
from typing import Any

# Invented list prices (USD) and units: the simulator's cost is base price × units.
_PRICES: dict[str, tuple[float, str]] = {
    "wan-ai/wan-2-5/text-to-image": (0.03, "image"),
    "bytedance/dreamina-4-0/text-to-image": (0.03, "image"),
    "blackforestlabs/flux-1-kontext/pro/edit": (0.04, "image"),
    "ideogram/ideogram-v3/reframe": (0.06, "image"),
    "community/wan-2-1/fusionx/image-to-video": (0.05, "second"),
}
_DESCRIPTIONS: dict[str, str] = {
    "wan-ai/wan-2-5/text-to-image": "Wan 2.5 text-to-image: a prompt in, one image out.",
    "bytedance/dreamina-4-0/text-to-image": "Dreamina 4.0 (Seedream) text-to-image, up to 6K resolutions.",
    "blackforestlabs/flux-1-kontext/pro/edit": "FLUX.1 Kontext Pro: edit an image with a text instruction.",
    "ideogram/ideogram-v3/reframe": "Ideogram v3 reframe: extend an image to a new aspect ratio.",
    "community/wan-2-1/fusionx/image-to-video": "Wan 2.1 FusionX image-to-video: animate a still image.",
}


class Catalog:
    """Model entries by model_id, plus the search the list endpoint does."""

    def __init__(self, entries: list[dict[str, Any]] | None = None) -> None:
        self._given = entries

    @cached_property
    def _entries(self) -> dict[str, dict[str, Any]]:
        if self._given is None:
            from ..schemas import shipped_models

            raw = shipped_models()
        else:
            raw = copy.deepcopy(self._given)
        return {e["model_id"]: self._entry(e) for e in raw}

    @staticmethod
    def _entry(raw: dict[str, Any]) -> dict[str, Any]:
        model_id = raw["model_id"]
        input_schema = raw.get("input_schema") or {"type": "object", "properties": {}}
        price, unit = _PRICES.get(model_id, (0.05, "image" if raw.get("kind") != "video" else "second"))
        return {
            "model_id": model_id,
            "display_name": raw.get("display_name") or model_id,
            "description": raw.get("description") or _DESCRIPTIONS.get(model_id, ""),
            "categories": list(raw.get("categories") or []),
            "base_price_usd": price,
            "price_unit": unit,
            "inputs": list((input_schema.get("properties") or {}).keys()),
            "required_inputs": list(input_schema.get("required") or []),
            "kind": raw.get("kind") or "image",
            "input_schema": input_schema,
        }

    def ids(self) -> list[str]:
        return list(self._entries)

    def get(self, model_id: str) -> dict[str, Any] | None:
        """The stored entry (not a copy: callers must not modify it)."""
        return self._entries.get(model_id)

    def public(self, model_id: str, *, include_schema: bool = True) -> dict[str, Any] | None:
        entry = self._entries.get(model_id)
        if entry is None:
            return None
        out = copy.deepcopy(entry)
        if not include_schema:
            out.pop("input_schema")
        return out

    def search(self, *, search: str = "", category: str = "", kind: str = "") -> list[str]:
        needle = search.strip().lower()
        found = []
        for model_id, entry in self._entries.items():
            if category and category not in entry["categories"]:
                continue
            if kind and kind != entry["kind"]:
                continue
            if needle:
                haystack = " ".join([model_id, entry["display_name"], entry["description"], *entry["categories"]])
                if needle not in haystack.lower():
                    continue
            found.append(model_id)
        return found

    @staticmethod
    def cost(entry: dict[str, Any], inputs: dict[str, Any], outputs: int) -> float:
        """An invented but plausible price: per image, or per second of video."""
        if entry["price_unit"] == "second":
            frames, fps = video_timing(inputs)
            units = frames / fps if fps else 0.0
        else:
            units = max(1, outputs)
        return round(entry["base_price_usd"] * units, 6)


def video_timing(inputs: dict[str, Any]) -> tuple[int, int]:
    """(frames, fps) from keys like `602_num_frames` / `609_frame_rate` (defaults 81 frames at 16 fps)."""
    frames, fps = 81, 16
    for key, value in inputs.items():
        low = key.lower()
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if low.endswith(("num_frames", "frames")):
            frames = int(value)
        elif low.endswith(("frame_rate", "fps")):
            fps = int(value)
    return max(1, frames), max(1, fps)
