"""Each seed page's own curl sequence, run with real curl against the simulator with only the host replaced."""

from __future__ import annotations

import io
import json
import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import av
import pytest
from PIL import Image

# shared/ sits beside the checkout (a worktree may be one level deeper): the nearest one up the tree.
SEEDS = next((d / "shared" / "seeds" for d in Path(__file__).resolve().parents if (d / "shared" / "seeds").is_dir()),
             Path(__file__).resolve().parents[2] / "shared" / "seeds")
REAL_HOST = "https://model-api.runcomfy.net"
pytestmark = [
    pytest.mark.skipif(not SEEDS.exists(), reason="the seed pages live in shared/ beside the checkout"),
    pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed"),
]


def curl_commands(text: str) -> list[str]:
    """The distinct curl commands of a seed page, in order (each ends where the page's prose starts)."""
    commands = []
    for match in re.finditer(r"curl --request .*?--header \"Authorization: Bearer <token>\"(?:\s*\\\s*--data '\{.*?\}')?",
                             text, flags=re.S):
        command = match.group(0)
        if command not in commands:
            commands.append(command)
    return commands


def run(command: str, base_url: str, request_id: str | None) -> tuple[int, Any, bytes]:
    command = command.replace(REAL_HOST, base_url)
    if request_id:
        command = command.replace("{request_id}", request_id)
    argv = shlex.split(command.replace("\\\n", " "))
    argv[1:1] = ["--silent", "--show-error", "--write-out", "\n%{http_code}"]
    done = subprocess.run(argv, capture_output=True, timeout=30, check=True)
    body, _, code = done.stdout.rpartition(b"\n")
    return int(code), json.loads(body), body


SEED_FILES = sorted(SEEDS.glob("*.txt")) if SEEDS.exists() else []


@pytest.mark.parametrize("seed", SEED_FILES, ids=[p.stem for p in SEED_FILES])
def test_seed_curl_sequence(seed: Path, sim: Any) -> None:
    text = seed.read_text(encoding="utf-8")
    submit, status, result, cancel = curl_commands(text)
    assert "POST" in submit and "/status" in status and "/result" in result and "/cancel" in cancel

    code, body, _ = run(submit, sim.base_url, None)
    assert code == 200 and set(body) >= {"request_id", "status_url", "result_url", "cancel_url"}
    request_id = body["request_id"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,128}", request_id)
    assert body["status_url"] == f"{sim.base_url}/v1/requests/{request_id}/status"

    seen = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        code, body, _ = run(status, sim.base_url, request_id)
        assert code == 200 and body["request_id"] == request_id
        assert body["status"] in ("in_queue", "in_progress", "completed", "cancelled")
        assert ("queue_position" in body) == (body["status"] == "in_queue")
        seen.add(body["status"])
        if body["status"] == "completed":
            break
        time.sleep(0.05)
    assert "completed" in seen

    code, body, _ = run(result, sim.base_url, request_id)
    assert code == 200 and body["status"] == "succeeded", body
    assert {"created_at", "finished_at"} <= set(body)
    (key, url), = body["output"].items()
    media = subprocess.run(["curl", "--silent", "--fail", url], capture_output=True, timeout=60, check=True).stdout
    if "image-to-video" in seed.read_text(encoding="utf-8")[:200]:
        assert key == "video"
        with av.open(io.BytesIO(media)) as container:
            stream = container.streams.video[0]
            assert sum(1 for _ in container.decode(stream)) == 81 and stream.average_rate == 16
            assert (stream.codec_context.width, stream.codec_context.height) == (720, 480)
    else:
        assert key == "image"
        schema = json.JSONDecoder().raw_decode(text, text.index('{\n"type": "object",\n"title"'))[0]
        with Image.open(io.BytesIO(media)) as image:
            assert image.format == "PNG"
            expected = _requested_size(schema)
            assert expected is None or image.size == expected

    code, body, _ = run(cancel, sim.base_url, request_id)
    assert code == 202 and body == {"request_id": request_id, "status": "completed", "outcome": "not_cancellable"}


def _requested_size(schema: dict[str, Any]) -> tuple[int, int] | None:
    for key in ("aspect_ratio", "width×height", "resolution"):
        default = schema["properties"].get(key, {}).get("default", "")
        found = re.match(r"(\d+)[x:](\d+)", default)
        if found:
            width, height = int(found.group(1)), int(found.group(2))
            if max(width, height) <= 64:  # a bare ratio ("16:9"): the long side is 1024 (docs/simulator.md)
                scale = 1024 / max(width, height)
                return round(width * scale), round(height * scale)
            return width, height
    return None


def test_cancel_of_a_queued_job_over_curl(sim: Any) -> None:
    text = SEED_FILES[0].read_text(encoding="utf-8")
    submit, status, _result, cancel = curl_commands(text)
    sim.configure(paused=True)
    _, body, _ = run(submit, sim.base_url, None)
    request_id = body["request_id"]
    _, body, _ = run(status, sim.base_url, request_id)
    assert body["status"] == "in_queue" and body["queue_position"] == 0
    code, body, _ = run(cancel, sim.base_url, request_id)
    assert code == 202 and body["outcome"] == "cancelled"
    _, body, _ = run(status, sim.base_url, request_id)
    assert body["status"] == "cancelled"
