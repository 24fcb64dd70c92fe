"""File names for saved outputs that say what they are and never collide.

    flux-1-kontext-pro-edit_make-it-winter_s42_f76f5288-9c1e04b2a7_0.png
    └ model short name     └ prompt slug   └ seed └ request id + hash └ output index

The request id part is its first 8 characters (to recognise it) plus 10 hex digits of its SHA-256, so ids that
share a long prefix (they may be up to 128 characters) still get different names. A name depends only on
(model, prompt, seed, request id, index, extension): saving the same output twice gives the same name.
Names are plain ASCII `[a-z0-9._-]`, at most `MAX_NAME` characters, never hidden, never a Windows device name,
never ending in a dot or space: safe on Windows, macOS and Linux, in zip files and in URLs.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any

MAX_NAME = 120  # whole name; leaves room for a deep folder under Windows' 260-character path limit
MAX_MODEL = 32
MAX_SLUG = 40
_RID_PREFIX = 8
_RID_HASH = 10  # 40 bits: a collision is expected only after ~10^6 requests, and then also needs the same index
_NOT_SAFE = re.compile(r"[^a-z0-9]+")
_EXT = re.compile(r"^[a-z0-9]{1,8}$")
# Windows refuses these as a file's stem whatever the extension (CON.png), and COM¹… in newer versions too.
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in "0123456789¹²³"), *(f"lpt{i}" for i in "0123456789¹²³")}


def slug(text: str, limit: int = MAX_SLUG) -> str:
    """Lower-case ASCII words joined by '-', cut at a word boundary within `limit` characters.

    Accents are folded ("café" → "cafe"); characters with no ASCII form (CJK, emoji) are dropped, so a prompt
    in another script gives an empty slug and the name simply goes without one.
    """
    folded = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii").lower()
    words = [w for w in _NOT_SAFE.split(folded) if w]
    out = ""
    for word in words:
        candidate = f"{out}-{word}" if out else word
        if len(candidate) > limit:
            if not out:  # one very long word: cut it
                out = word[:limit]
            break
        out = candidate
    return out


def model_short_name(model_id: str) -> str:
    """The model id without its owner, as one slug: "blackforestlabs/flux-1-kontext/pro/edit" → "flux-1-kontext-pro-edit"."""
    parts = [p for p in str(model_id).split("/") if p]
    rest = parts[1:] if len(parts) > 1 else parts
    return slug(" ".join(rest), MAX_MODEL) or "output"


def request_tag(request_id: str) -> str:
    """Enough of the request id to be unique: its first 8 safe characters and 10 hex digits of its SHA-256."""
    digest = hashlib.sha256(str(request_id).encode("utf-8", "surrogatepass")).hexdigest()[:_RID_HASH]
    head = _NOT_SAFE.sub("", str(request_id).lower())[:_RID_PREFIX]
    return f"{head}-{digest}" if head else digest


def _extension(ext: str) -> str:
    clean = str(ext).lower().lstrip(".")
    return clean if _EXT.match(clean) else "bin"


def output_file_name(model_id: str, request_id: str, index: int, ext: str, *, prompt: str | None = None,
                     seed: int | None = None) -> str:
    """The file name of output `index` of a job; see the module docstring for the shape and the guarantees."""
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise ValueError(f"index must be an integer ≥ 0; got {index!r}")
    tail = f"_{request_tag(request_id)}_{index}.{_extension(ext)}"
    parts = [model_short_name(model_id)]
    if isinstance(seed, int) and not isinstance(seed, bool):
        seed_part = f"s{seed}" if seed >= 0 else f"s-{-seed}"
        parts.append(seed_part[:21])
    prompt_slug = slug(prompt or "")
    # The prompt gives way first when the name would be too long (the model, seed and tail are short and bounded).
    room = MAX_NAME - len(tail) - sum(len(p) + 1 for p in parts)
    if prompt_slug and room > 0:
        parts.insert(1, slug(prompt_slug, min(MAX_SLUG, room)))
    name = "_".join(p for p in parts if p) + tail
    return name if name.split(".")[0] not in _RESERVED else f"output-{name}"


def sidecar_name(file_name: str) -> str:
    """The JSON file that carries a non-PNG output's inputs: the full name plus ".json" (clip.mp4 → clip.mp4.json)."""
    return f"{file_name}.json"


def prompt_of(inputs: dict[str, Any]) -> str:
    """The first prompt-like text input (not a negative prompt), as the file name's slug comes from it."""
    for key, value in inputs.items():
        low = str(key).lower()
        if isinstance(value, str) and "prompt" in low and "negative" not in low and not value.startswith("data:"):
            return value
    return ""


def seed_of(inputs: dict[str, Any]) -> int | None:
    """The `seed` (or `…_seed`) integer input, if any."""
    for key, value in inputs.items():
        low = str(key).lower()
        if (low == "seed" or low.endswith("_seed")) and isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def name_for(model_id: str, inputs: dict[str, Any], request_id: str, index: int, ext: str) -> str:
    """`output_file_name` with the prompt and seed taken from the job's inputs."""
    return output_file_name(model_id, request_id, index, ext, prompt=prompt_of(inputs), seed=seed_of(inputs))
