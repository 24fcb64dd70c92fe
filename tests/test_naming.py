"""Output file names: readable, deterministic, unique per (request id, index), safe on every OS."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from runcomfy_nb import naming

SAFE = re.compile(r"^[a-z0-9][a-z0-9._-]*[a-z0-9]$")
WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}

model_ids = st.sampled_from(["wan-ai/wan-2-5/text-to-image", "blackforestlabs/flux-1-kontext/pro/edit",
                             "ideogram/ideogram-v3/reframe", "con", "x", "///", "nul/aux/com1"]) | st.text(max_size=200)
request_ids = st.text(min_size=1, max_size=128)
prompts = st.none() | st.text(max_size=500)
seeds = st.none() | st.integers(min_value=-(2**63), max_value=2**64)
exts = st.sampled_from(["png", "mp4", ".webp", "JPG", "tar.gz", "", "../x", "exe\x00"]) | st.text(max_size=12)


def assert_safe(name: str) -> None:
    assert SAFE.match(name), name
    assert len(name) <= naming.MAX_NAME, (len(name), name)
    assert ".." not in name and "/" not in name and "\\" not in name
    assert name.split(".")[0] not in WINDOWS_RESERVED
    assert not name.startswith(".")


def test_the_name_says_what_it_is() -> None:
    name = naming.name_for("blackforestlabs/flux-1-kontext/pro/edit",
                           {"prompt": "Make it Winter, at night!", "seed": 42, "image_url": "https://x/y.png"},
                           "f76f528849034b32a0c1", 0, "png")
    assert re.fullmatch(r"flux-1-kontext-pro-edit_make-it-winter-at-night_s42_f76f5288-[0-9a-f]{10}_0\.png", name)
    no_seed = naming.name_for("wan-ai/wan-2-5/text-to-image", {"prompt": "café crème ☕ 狐"}, "abc", 3, "mp4")
    assert re.fullmatch(r"wan-2-5-text-to-image_cafe-creme_abc-[0-9a-f]{10}_3\.mp4", no_seed)
    nothing = naming.output_file_name("x/y", "r", 0, "exe\x00")
    assert nothing.endswith(".bin") and nothing.startswith("y_r-")
    assert naming.sidecar_name(no_seed) == no_seed + ".json"


def test_request_ids_sharing_a_long_prefix_get_different_names() -> None:
    base = "f76f528849034b32" * 7  # 112 shared characters, as long request ids may
    a = naming.output_file_name("wan-ai/wan-2-5/text-to-image", base + "aaaa", 0, "png", prompt="fox", seed=1)
    b = naming.output_file_name("wan-ai/wan-2-5/text-to-image", base + "aaab", 0, "png", prompt="fox", seed=1)
    assert a != b
    assert a.split("_")[-2][:8] == b.split("_")[-2][:8] == "f76f5288"  # same readable head, different hash


def test_a_long_prompt_gives_way_but_model_seed_and_tail_stay() -> None:
    name = naming.output_file_name("wan-ai/" + "very-long-model-name-" * 10, "r" * 128, 12, "webp",
                                   prompt="word " * 200, seed=2**64)
    assert_safe(name)
    assert name.endswith("_12.webp") and f"_s{2**64}"[:22] in name


@settings(max_examples=300, deadline=None)
@given(model_ids, request_ids, st.integers(0, 10_000), exts, prompts, seeds)
def test_every_name_is_safe_and_deterministic(model_id, request_id, index, ext, prompt, seed) -> None:
    name = naming.output_file_name(model_id, request_id, index, ext, prompt=prompt, seed=seed)
    assert_safe(name)
    assert name == naming.output_file_name(model_id, request_id, index, ext, prompt=prompt, seed=seed)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120), st.lists(st.text(min_size=1, max_size=16), min_size=2, max_size=30, unique=True),
       st.integers(1, 4), prompts, seeds)
def test_distinct_request_ids_and_indexes_never_collide(prefix, suffixes, outputs, prompt, seed) -> None:
    # Request ids with a long shared prefix; the prompt and seed may be the same for all of them (a sweep).
    names = [naming.output_file_name("wan-ai/wan-2-5/text-to-image", prefix + s, i, "png", prompt=prompt, seed=seed)
             for s in suffixes for i in range(outputs)]
    assert len(set(names)) == len(names)
    # also case-insensitively (Windows and macOS file systems)
    assert len({n.lower() for n in names}) == len(names)


def test_names_can_be_created_on_this_file_system(tmp_path: Path) -> None:
    names = {naming.output_file_name(m, r, i, "png", prompt=p, seed=s)
             for m in ("con/nul", "ideogram/ideogram-v3/reframe")
             for r in ("a" * 128, "a" * 127 + "b", "../../etc/passwd", "req id with spaces")
             for i in (0, 1) for p in ("", "a fox " * 50, "..\\..\\evil") for s in (None, 7)}
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)


def test_slug_and_helpers() -> None:
    assert naming.slug("  Hello,   World!  ") == "hello-world"
    assert naming.slug("one two three", limit=8) == "one-two"
    assert naming.slug("x" * 100, limit=10) == "x" * 10
    assert naming.slug("狐狸") == ""
    assert naming.model_short_name("ideogram/ideogram-v3/reframe") == "ideogram-v3-reframe"
    assert naming.model_short_name("") == "output"
    assert naming.prompt_of({"negative_prompt": "blur", "image": "data:image/png;base64,AA", "prompt": "fox"}) == "fox"
    assert naming.seed_of({"seed": True}) is None and naming.seed_of({"noise_seed": 5}) == 5


def test_a_bad_index_is_refused_by_name() -> None:
    import pytest

    for bad in (-1, True, 1.5):
        with pytest.raises(ValueError, match="index must be an integer"):
            naming.output_file_name("a/b", "r", bad, "png")  # type: ignore[arg-type]
