"""Real media for the simulator: PNG images (Pillow) and H.264 MP4 video (PyAV).

Everything here is synchronous and CPU-bound: the engine runs it in a worker thread, never on the event
loop. Outputs depend visibly and deterministically on the model, the prompt and the seed; images derived from
an input image (edit, reframe, image-to-video) are made from that image.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import math
import os
import random
import re
import textwrap
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

MAX_SIDE = 8192
_PAIR = re.compile(r"(\d+)\s*[:x×X*]\s*(\d+)")
_SIZE_KEY_HINTS = ("width", "height", "resolution", "aspect", "size")
_IMAGES_DIRECTIVE = re.compile(r"sim:images\s*=\s*(\d+)")
FAIL_DIRECTIVE = "sim:fail"
# A bare example file name, as the seeds use for hosted examples (RunComfy_examples_1235_1.png).
EXAMPLE_NAME = re.compile(r"^[\w.\- ()]+\.(png|jpe?g|webp|gif|bmp)$", re.IGNORECASE)


class MediaError(Exception):
    """A media input could not be used; the message is shown to the person as the job's error."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


@dataclass
class MediaInput:
    """A media input as the job received it: fetched bytes, or the name of a hosted example."""

    field: str
    kind: str  # "image" | "video" | "audio"
    origin: str  # readable origin for messages: a clipped URL, "a data: URI", "example 'name'"
    data: bytes | None = None
    example: str | None = None


@dataclass
class RenderSpec:
    """What to make for one job."""

    model_id: str
    mode: str  # "text-to-image" | "edit" | "reframe" | "video"
    prompt: str
    seed: int
    size: tuple[int, int]
    count: int = 1
    frames: int = 81
    fps: int = 16
    source: MediaInput | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# --- reading the inputs -----------------------------------------------------------------------------------


def prompt_of(inputs: dict[str, Any]) -> str:
    """The first prompt-like string input (not a negative prompt)."""
    for key, value in inputs.items():
        low = key.lower()
        if isinstance(value, str) and "prompt" in low and "negative" not in low:
            return value
    return ""


def wants_failure(inputs: dict[str, Any]) -> bool:
    """True when a text input contains `sim:fail` (the fail-on-demand switch)."""
    return any(isinstance(v, str) and FAIL_DIRECTIVE in v.lower() and not v.startswith("data:")
               for v in inputs.values())


def image_count(prompt: str) -> int:
    match = _IMAGES_DIRECTIVE.search(prompt.lower())
    return max(1, min(8, int(match.group(1)))) if match else 1


def seed_of(inputs: dict[str, Any]) -> int | None:
    for key, value in inputs.items():
        low = key.lower()
        if (low == "seed" or low.endswith("_seed")) and isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def target_size(inputs: dict[str, Any], *, default: tuple[int, int] = (1024, 1024),
                long_side: int = 1024) -> tuple[int, int]:
    """The output resolution the inputs ask for.

    "1440:810 (16:9)", "2048x2048(1:1)", "720x480 (3:2)" are pixel sizes; a bare ratio like "16:9" means
    that ratio with a long side of `long_side` (1024×576). Integer `width` / `height` inputs work too.
    """
    width = height = None
    for key, value in inputs.items():
        low = key.lower()
        if isinstance(value, int) and not isinstance(value, bool):
            if low == "width" or low.endswith("_width"):
                width = value
            elif low == "height" or low.endswith("_height"):
                height = value
    for key, value in inputs.items():
        low = key.lower()
        if isinstance(value, str) and any(h in low for h in _SIZE_KEY_HINTS):
            match = _PAIR.search(value)
            if match:
                a, b = int(match.group(1)), int(match.group(2))
                if a > 0 and b > 0:
                    if a <= 64 and b <= 64:  # a ratio, not pixels
                        return ratio_size(a, b, long_side)
                    return _clamp(a, b)
    if width and height:
        return _clamp(width, height)
    return default


def ratio_size(a: int, b: int, long_side: int) -> tuple[int, int]:
    if a >= b:
        return long_side, max(1, round(long_side * b / a))
    return max(1, round(long_side * a / b)), long_side


def _clamp(w: int, h: int) -> tuple[int, int]:
    scale = min(1.0, MAX_SIDE / max(w, h))
    return max(1, int(w * scale)), max(1, int(h * scale))


# --- deterministic randomness ----------------------------------------------------------------------------


def _rng(*parts: Any) -> random.Random:
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _color(rng: random.Random, *, sat: tuple[float, float] = (0.45, 0.9),
           val: tuple[float, float] = (0.35, 0.95)) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(rng.random(), rng.uniform(*sat), rng.uniform(*val))
    return int(r * 255), int(g * 255), int(b * 255)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=max(8, size))
    except (TypeError, OSError, ImportError):  # Pillow without FreeType: the small bitmap font
        return ImageFont.load_default()


# --- pictures ---------------------------------------------------------------------------------------------


def _scene(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """A smooth abstract picture: an angled two-colour gradient and soft shapes, drawn small then enlarged."""
    w, h = size
    long_small = 320
    sw, sh = (long_small, max(1, round(long_small * h / w))) if w >= h else (max(1, round(long_small * w / h)), long_small)
    c1, c2 = _color(rng), _color(rng, val=(0.15, 0.6))
    diag = int(math.hypot(sw, sh)) + 2
    ramp = Image.linear_gradient("L").resize((diag, diag)).rotate(rng.uniform(0, 360), resample=Image.Resampling.BILINEAR)
    left, top = (diag - sw) // 2, (diag - sh) // 2
    ramp = ramp.crop((left, top, left + sw, top + sh))
    img = Image.composite(Image.new("RGB", (sw, sh), c1), Image.new("RGB", (sw, sh), c2), ramp)
    overlay = Image.new("RGBA", (sw, sh), (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for _ in range(rng.randint(5, 11)):
        x, y = rng.uniform(0, sw), rng.uniform(0, sh)
        r = rng.uniform(0.05, 0.3) * max(sw, sh)
        fill = (*_color(rng), rng.randint(110, 220))
        shape = rng.choice(("circle", "circle", "rect", "triangle"))
        if shape == "circle":
            draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)
        elif shape == "rect":
            draw.rounded_rectangle((x - r, y - r * 0.6, x + r, y + r * 0.6), radius=r * 0.2, fill=fill)
        else:
            a = rng.uniform(0, math.tau)
            pts = [(x + r * math.cos(a + k * math.tau / 3), y + r * math.sin(a + k * math.tau / 3)) for k in range(3)]
            draw.polygon(pts, fill=fill)
    img = Image.alpha_composite(img.convert("RGBA"), overlay).convert("RGB")
    img = img.filter(ImageFilter.GaussianBlur(0.8))
    return img.resize((w, h), Image.Resampling.BILINEAR)


def _caption(img: Image.Image, prompt: str, label: str) -> None:
    """Draw the prompt (two lines at most) at the bottom and a small label at the top, in place."""
    w, h = img.size
    draw = ImageDraw.Draw(img)
    short = min(w, h)
    big = _font(max(12, short // 18))
    small = _font(max(10, short // 36))
    pad = max(4, short // 40)
    stroke = max(1, short // 300)
    if label:
        draw.text((pad, pad), label, font=small, fill=(255, 255, 255), stroke_width=stroke, stroke_fill=(0, 0, 0))
    text = " ".join(prompt.split())
    if not text:
        return
    chars = max(12, int(w / (max(12, short // 18) * 0.55)))
    lines = textwrap.wrap(text, width=chars, max_lines=2, placeholder=" ...")
    line_h = max(12, short // 18) * 1.25
    y = h - pad - line_h * len(lines)
    for line in lines:
        draw.text((pad, y), line, font=big, fill=(255, 255, 255), stroke_width=stroke * 2, stroke_fill=(0, 0, 0))
        y += line_h


def example_image(name: str) -> Image.Image:
    """A stand-in for a hosted example file (the seeds' `RunComfy_examples_1235_1.png`): same name, same picture.

    Also the placeholder for an empty image input ("placeholder for image_url").
    """
    rng = _rng("example", name)
    img = _scene((1024, 768), rng)
    draw = ImageDraw.Draw(img)
    # A simple "subject" so that zooms and crops are visible.
    cx, cy = 512 + rng.randint(-120, 120), 400 + rng.randint(-60, 60)
    draw.ellipse((cx - 110, cy - 170, cx + 110, cy + 50), fill=_color(rng, val=(0.7, 1.0)), outline=(0, 0, 0), width=4)
    draw.rounded_rectangle((cx - 190, cy + 70, cx + 190, 768 + 40), radius=60, fill=_color(rng), outline=(0, 0, 0), width=4)
    _caption(img, name if name.startswith("placeholder") else f"example: {name}", "")
    return img


def load_image(source: MediaInput) -> Image.Image:
    """The input image as RGB, or MediaError saying why it cannot be used."""
    if source.example is not None:
        return example_image(source.example)
    if not source.data:
        raise MediaError(f"{source.field}: {source.origin} is empty", field=source.field)
    try:
        with Image.open(io.BytesIO(source.data)) as opened:
            opened.load()
            img = ImageOps.exif_transpose(opened) or opened
            if img.mode in ("RGBA", "LA", "P"):
                rgba = img.convert("RGBA")
                flat = Image.new("RGB", rgba.size, (255, 255, 255))
                flat.paste(rgba, mask=rgba.getchannel("A"))
                return flat
            return img.convert("RGB")
    except Exception as exc:  # PIL raises many types for bad data (incl. decompression bombs)
        raise MediaError(f"{source.field}: could not decode {source.origin} as an image "
                         f"({type(exc).__name__}: {exc})", field=source.field) from exc


def _tint(img: Image.Image, color: tuple[int, int, int], amount: float) -> Image.Image:
    return Image.blend(img, Image.new("RGB", img.size, color), amount)


def text_to_image(spec: RenderSpec, index: int = 0) -> Image.Image:
    rng = _rng(spec.model_id, spec.prompt, spec.seed, index)
    img = _scene(spec.size, rng)
    _caption(img, spec.prompt, f"RunComfy simulator · seed {spec.seed} · {spec.size[0]}x{spec.size[1]}")
    return img


def edit_image(spec: RenderSpec, source: Image.Image, index: int = 0) -> Image.Image:
    """The input fitted (cover + centre crop) to the requested size and tinted by the prompt and seed."""
    rng = _rng(spec.model_id, spec.prompt, spec.seed, index)
    img = ImageOps.fit(source, spec.size, Image.Resampling.BILINEAR)
    img = _tint(img, _color(rng), 0.3)
    _caption(img, spec.prompt, f"edited · seed {spec.seed} · {spec.size[0]}x{spec.size[1]}")
    return img


def reframe_image(spec: RenderSpec, source: Image.Image, index: int = 0) -> Image.Image:
    """The input contained (fit + pad) in the new frame; the padding is a blurred, tinted extension."""
    rng = _rng(spec.model_id, spec.prompt, spec.seed, index)
    w, h = spec.size
    small = ImageOps.fit(source, (max(1, w // 16), max(1, h // 16)), Image.Resampling.BILINEAR)
    background = _tint(small.filter(ImageFilter.GaussianBlur(2)).resize(spec.size, Image.Resampling.BILINEAR), _color(rng), 0.35)
    # The original stays whole, a little smaller than the frame, so the "extension" is always visible.
    inner = ImageOps.contain(source, (max(1, round(w * 0.86)), max(1, round(h * 0.86))), Image.Resampling.BILINEAR)
    left, top = (w - inner.width) // 2, (h - inner.height) // 2
    background.paste(inner, (left, top))
    ImageDraw.Draw(background).rectangle((left - 1, top - 1, left + inner.width, top + inner.height),
                                         outline=(255, 255, 255), width=max(1, min(w, h) // 400))
    _caption(background, "", f"reframed · seed {spec.seed} · {w}x{h}")
    return background


def _save_png(img: Image.Image, path: Path) -> None:
    tmp = path.with_name(path.name + ".part")
    img.save(tmp, "PNG", compress_level=1)
    os.replace(tmp, path)


def write_video(spec: RenderSpec, source: Image.Image, path: Path) -> None:
    """An H.264 (yuv420p) MP4 with exactly spec.frames frames at spec.fps: a slow zoom and pan over the input.

    The moov atom comes first (faststart) so that browsers can start playing and seek at once.
    """
    import av

    w, h = spec.size
    frames, fps = spec.frames, spec.fps
    rng = _rng(spec.model_id, spec.prompt, spec.seed)
    base_w, base_h = math.ceil(w * 1.25), math.ceil(h * 1.25)
    base = ImageOps.fit(source, (base_w, base_h), Image.Resampling.BILINEAR)
    base = _tint(base, _color(rng), 0.15)
    _caption(base, spec.prompt, f"RunComfy simulator · seed {spec.seed} · {w}x{h} · {frames} frames @ {fps} fps")
    # Start on the whole picture, end zoomed in towards a seed-chosen point.
    end_zoom = 0.78
    fx, fy = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8)
    tmp = path.with_name(path.name + ".part.mp4")
    with av.open(str(tmp), "w", format="mp4", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = w, h
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = Fraction(1, fps)
        stream.options = {"preset": "veryfast", "crf": "26"}
        for i in range(frames):
            t = i / (frames - 1) if frames > 1 else 0.0
            ease = t * t * (3 - 2 * t)
            zoom = 1 - (1 - end_zoom) * ease
            cw, ch = max(2, round(base_w * zoom)), max(2, round(base_h * zoom))
            x0 = round((base_w - cw) * (0.5 + (fx - 0.5) * ease))
            y0 = round((base_h - ch) * (0.5 + (fy - 0.5) * ease))
            crop = base.crop((x0, y0, x0 + cw, y0 + ch))
            frame = av.VideoFrame.from_image(crop).reformat(width=w, height=h, format="yuv420p")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    os.replace(tmp, path)


def render(spec: RenderSpec, out_dir: Path) -> list[tuple[str, str]]:
    """Make the job's outputs in `out_dir`; returns [(file name, media type)] in output order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    source = load_image(spec.source) if spec.source is not None and spec.source.kind == "image" else None
    if spec.mode == "video":
        if source is None:
            source = text_to_image(RenderSpec(spec.model_id, "text-to-image", spec.prompt, spec.seed, (1024, 1024)))
        name = "output.mp4"
        write_video(spec, source, out_dir / name)
        return [(name, "video/mp4")]
    made = []
    for index in range(spec.count):
        if spec.mode == "edit" and source is not None:
            img = edit_image(spec, source, index)
        elif spec.mode == "reframe" and source is not None:
            img = reframe_image(spec, source, index)
        else:
            img = text_to_image(spec, index)
        name = f"output_{index}.png"
        _save_png(img, out_dir / name)
        made.append((name, "image/png"))
    return made
