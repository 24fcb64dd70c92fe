"""The offline simulator (runcomfy_nb.sim), over real HTTP on loopback with httpx — no mocks.

Every test gets a fresh simulator state (jobs, counters, knobs) on one module-wide server running at
time_scale=0.05, so the whole file stays fast.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runcomfy_nb import sim as simmod
from runcomfy_nb.sim import body_sha256
from runcomfy_nb.sim.server import Simulator

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "sim-test-token-c0ffee"
WAN = "wan-ai/wan-2-5/text-to-image"
DREAMINA = "bytedance/dreamina-4-0/text-to-image"
FLUX = "blackforestlabs/flux-1-kontext/pro/edit"
REFRAME = "ideogram/ideogram-v3/reframe"
I2V = "community/wan-2-1/fusionx/image-to-video"
I2V_PROMPT = ("A close-up shot of a young woman standing against a graffiti-covered corridor wall. She wears a grey "
              "hoodie with a faded bear graphic, her hair tied in a messy bun. The camera slowly dolly zooms out as "
              "she raises her chin slightly and smiles with subtle confidence, eyes fixed on the lens. Warm bokeh "
              "lights blur behind her down the hallway, adding depth and intimacy. Her expression shifts from "
              "surprise to playful defiance, as if teasing the viewer with a secret. The mood is cinematic, cozy, "
              "and spontaneous — a slice of street-life charm.")
# The bodies of the seeds' submit curl examples, byte-for-byte.
SEED_BODIES: dict[str, dict[str, Any]] = {
    WAN: {"prompt": ""},
    DREAMINA: {"prompt": "A beautiful girl is walking on the street"},
    I2V: {"600_prompt": I2V_PROMPT, "608_image": "RunComfy_examples_1235_1.png"},
    FLUX: {"prompt": "", "image_url": ""},
    REFRAME: {"image": "", "resolution": "1152:864 (4:3)"},
}
DEFAULT_KNOBS: dict[str, Any] = {
    "time_scale": 0.05, "workers": 2, "token": None, "paused": False, "run_times": {}, "result_unfinished": "state",
    "output_ttl": None, "max_queue": None, "faults": None, "fail_next": {}, "fail_next_kind": "503"}


# --- fixtures and helpers -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[Simulator]:
    simulator = Simulator(**DEFAULT_KNOBS).start()
    yield simulator
    simulator.stop()


@pytest.fixture
def sim(server: Simulator) -> Simulator:
    server.reset()
    server.configure(**DEFAULT_KNOBS)
    return server


@pytest.fixture
def api(sim: Simulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=20) as client:
        yield client


def submit(api: httpx.Client, model_id: str, inputs: dict[str, Any]) -> str:
    response = api.post(f"/v1/models/{model_id}", json=inputs)
    assert response.status_code == 200, response.text
    return response.json()["request_id"]


def wait_done(api: httpx.Client, request_id: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = api.get(f"/v1/requests/{request_id}/status").json()
        if body["status"] in ("completed", "cancelled"):
            return body
        time.sleep(0.02)
    raise AssertionError(f"{request_id} did not finish in {timeout}s")


def run(api: httpx.Client, model_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
    request_id = submit(api, model_id, inputs)
    wait_done(api, request_id)
    return api.get(f"/v1/requests/{request_id}/result").json()


def png_data_uri(size: tuple[int, int] = (400, 300), color: tuple[int, int, int] = (200, 30, 30)) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def download_image(api: httpx.Client, url: str) -> Any:
    from PIL import Image

    response = api.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert int(response.headers["content-length"]) == len(response.content)
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG"
    return image


# --- import, start, stop ------------------------------------------------------------------------------------


def test_import_is_cheap() -> None:
    code = ("import sys, runcomfy_nb.sim; "
            "print([m for m in ('starlette', 'uvicorn', 'PIL', 'av') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "[]"


def test_missing_packages_say_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "av", None)  # `import av` now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'runcomfy_nb\[sim\]'"):
        Simulator().start()


def test_module_start_current_stop_and_default_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    from runcomfy_nb import config

    monkeypatch.setattr(simmod, "_current", None)  # leave any session-wide simulator alone
    before = config.simulator_endpoint()
    try:
        first = simmod.start(time_scale=0.05)
        assert simmod.current() is first
        endpoint = config.simulator_endpoint()
        assert endpoint is not None and endpoint.simulator and endpoint.base_url == first.base_url
        assert endpoint.token.reveal() == config.SIM_TOKEN
        assert httpx.get(f"{first.base_url}/v1/models",
                         headers={"Authorization": f"Bearer {config.SIM_TOKEN}"}).status_code == 200
        again = simmod.start(time_scale=0.05)
        assert again is first
        reconfigured = simmod.start(time_scale=0.5, workers=3)
        assert reconfigured is first and first.knobs.time_scale == 0.5 and first.knobs.workers == 3
        simmod.stop()
        assert simmod.current() is None and not first.running
        assert config.simulator_endpoint() is None
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{first.base_url}/_sim/counters", timeout=2)
    finally:
        if simmod.current() is not None:
            simmod.stop()
        if before is not None:
            config.set_simulator(before.base_url, before.token.reveal())


@pytest.mark.slow
def test_cli_prints_url_serves_and_stops_on_sigterm() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "runcomfy_nb.sim", "--port", "0", "--time-scale", "0.05"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":0")
        answer = httpx.get(f"{url}/v1/models", headers={"Authorization": "Bearer anything"}, timeout=5)
        assert answer.status_code == 200 and answer.json()["total"] == 5
        assert httpx.get(f"{url}/_sim/counters", timeout=5).json()["requests"]["GET catalog"] == 1
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.stderr is not None
    assert "Traceback" not in proc.stderr.read()


@pytest.mark.slow
def test_cli_stops_on_sigint() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "runcomfy_nb.sim", "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert httpx.get(f"{url}/_sim/counters", timeout=5).status_code == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# --- the seeds' curl sequences ------------------------------------------------------------------------------


@pytest.mark.parametrize("model_id", list(SEED_BODIES))
def test_seed_curl_sequence(api: httpx.Client, sim: Simulator, model_id: str) -> None:
    submitted = api.post(f"/v1/models/{model_id}", json=SEED_BODIES[model_id],
                         headers={"Content-Type": "application/json"})
    assert submitted.status_code == 200
    body = submitted.json()
    request_id = body["request_id"]
    assert set(body) == {"request_id", "status_url", "result_url", "cancel_url"}
    assert request_id and all(c.isalnum() or c in "-_" for c in request_id)
    root = f"{sim.base_url}/v1/requests/{request_id}"
    assert body["status_url"] == f"{root}/status"
    assert body["result_url"] == f"{root}/result"
    assert body["cancel_url"] == f"{root}/cancel"

    status = api.get(body["status_url"])
    assert status.status_code == 200
    first = status.json()
    assert first["request_id"] == request_id and first["status"] in ("in_queue", "in_progress", "completed")
    assert first["status_url"] == body["status_url"] and first["result_url"] == body["result_url"]
    assert ("queue_position" in first) == (first["status"] == "in_queue")

    final = wait_done(api, request_id)
    assert final["status"] == "completed" and "queue_position" not in final
    result = api.get(body["result_url"], params={"include_cost": "true"}).json()
    assert result["request_id"] == request_id
    for stamp in ("created_at", "finished_at"):
        parsed = __import__("datetime").datetime.fromisoformat(result[stamp])
        assert parsed.utcoffset() is not None and "." in result[stamp]
    assert isinstance(result["cost"], float) and result["cost"] > 0
    # (FLUX and REFRAME seeds send an empty image: the simulator stands in a placeholder picture.)
    assert result["status"] == "succeeded"
    key = "video" if model_id == I2V else "image"
    assert set(result["output"]) == {key}
    assert result["output"][key].startswith(f"{sim.base_url}/_sim/media/{request_id}/")
    expected = {WAN: (1440, 810), DREAMINA: (2048, 2048), FLUX: (1024, 576), REFRAME: (1152, 864)}
    if model_id in expected:
        assert download_image(api, result["output"][key]).size == expected[model_id]

    cancelled = api.post(body["cancel_url"])
    assert cancelled.status_code == 202
    assert cancelled.json() == {"request_id": request_id, "status": "completed", "outcome": "not_cancellable"}


# --- real media -------------------------------------------------------------------------------------------


def test_text_to_image_sizes_and_prompt_dependence(api: httpx.Client) -> None:
    wan = run(api, WAN, {"prompt": "a red fox at dawn", "aspect_ratio": "1440:810 (16:9)"})
    assert download_image(api, wan["output"]["image"]).size == (1440, 810)
    tall = run(api, WAN, {"prompt": "a red fox at dawn", "aspect_ratio": "810:1440 (9:16)"})
    assert download_image(api, tall["output"]["image"]).size == (810, 1440)
    dreamina = run(api, DREAMINA, {"prompt": "a lighthouse", "width×height": "2048x2048(1:1)"})
    assert download_image(api, dreamina["output"]["image"]).size == (2048, 2048)
    other = run(api, WAN, {"prompt": "a blue whale at night", "aspect_ratio": "1440:810 (16:9)"})
    assert api.get(other["output"]["image"]).content != api.get(wan["output"]["image"]).content


def test_largest_dreamina_resolution_renders(api: httpx.Client) -> None:
    # How long it takes is a figure (scripts/bench_sim.py), not an assertion: `run` catches a hang.
    result = run(api, DREAMINA, {"prompt": "wide", "width×height": "6198x2656(21:9)"})
    assert download_image(api, result["output"]["image"]).size == (6198, 2656)


def test_several_images_on_demand(api: httpx.Client) -> None:
    result = run(api, DREAMINA, {"prompt": "a set of stickers sim:images=3", "width×height": "1024x1024(1:1)"})
    assert set(result["output"]) == {"images"} and len(result["output"]["images"]) == 3
    sizes = {download_image(api, url).size for url in result["output"]["images"]}
    assert sizes == {(1024, 1024)}


def test_edit_from_data_uri_is_deterministic_per_seed(api: httpx.Client) -> None:
    inputs = {"prompt": "make it blue", "image_url": png_data_uri(), "aspect_ratio": "16:9", "seed": 7}
    one = run(api, FLUX, inputs)
    image = download_image(api, one["output"]["image"])
    assert image.size == (1024, 576)
    assert image.convert("RGB").getpixel((512, 300))[0] > 100  # still the red input, tinted
    same = run(api, FLUX, inputs)
    assert api.get(same["output"]["image"]).content == api.get(one["output"]["image"]).content
    other = run(api, FLUX, {**inputs, "seed": 8})
    assert api.get(other["output"]["image"]).content != api.get(one["output"]["image"]).content
    square = run(api, FLUX, {**inputs, "aspect_ratio": "9:21"})
    assert download_image(api, square["output"]["image"]).size == (439, 1024)


def test_reframe_fetches_an_http_url(api: httpx.Client, sim: Simulator) -> None:
    source = run(api, WAN, {"prompt": "source picture", "aspect_ratio": "1024:1024 (1:1)"})
    media_before = sim.counters()["requests"]["GET media"]
    result = run(api, REFRAME, {"image": source["output"]["image"], "resolution": "1152:864 (4:3)", "seed": 3})
    assert result["status"] == "succeeded"
    assert download_image(api, result["output"]["image"]).size == (1152, 864)
    assert sim.counters()["requests"]["GET media"] >= media_before + 1  # the simulator fetched it over HTTP


def test_image_to_video_decodes_with_requested_frames_and_fps(api: httpx.Client) -> None:
    import av

    inputs = {"600_prompt": "slow zoom", "608_image": png_data_uri((640, 480), (20, 120, 220)),
              "602_widthx602_height": "480x480 (1:1)", "602_num_frames": 81, "609_frame_rate": 12}
    result = run(api, I2V, inputs)
    assert result["status"] == "succeeded", result
    url = result["output"]["video"]
    response = api.get(url)
    assert response.status_code == 200 and response.headers["content-type"] == "video/mp4"
    data = response.content
    assert int(response.headers["content-length"]) == len(data)
    assert data.find(b"moov") < data.find(b"mdat")  # faststart: playable before the whole file arrives
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert frames == 81
        assert stream.average_rate == 12
        assert (stream.codec_context.width, stream.codec_context.height) == (480, 480)
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
    ranged = api.get(url, headers={"Range": "bytes=100-199"})
    assert ranged.status_code == 206 and ranged.content == data[100:200]
    assert ranged.headers["content-range"] == f"bytes 100-199/{len(data)}"


def test_server_stays_responsive_while_encoding(api: httpx.Client) -> None:
    request_id = submit(api, I2V, {**SEED_BODIES[I2V], "602_widthx602_height": "1024x576 (16:9)"})
    # The run time is near zero (time_scale 0.05), so the job is in progress mostly while it renders. A render that
    # blocked the event loop would hold every status request until it ended: one or two answers, not many. A busy
    # machine slows the render and the answers alike, so the count does not depend on the machine's speed.
    # The latency figures: scripts/bench_sim.py.
    answers: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answers.append(api.get(f"/v1/requests/{request_id}/status").json()["status"])
        if answers[-1] == "completed":
            break
        time.sleep(0.01)
    assert answers[-1] == "completed" and answers.count("in_progress") >= 5, answers


# --- queue, cancel --------------------------------------------------------------------------------------------


def test_queue_positions_and_cancel(api: httpx.Client, sim: Simulator) -> None:
    sim.configure(workers=1, paused=True)
    ids = [submit(api, WAN, {"prompt": f"job {i}"}) for i in range(3)]
    positions = [api.get(f"/v1/requests/{i}/status").json()["queue_position"] for i in ids]
    assert positions == [0, 1, 2]
    cancelled = api.post(f"/v1/requests/{ids[1]}/cancel")
    assert cancelled.status_code == 202 and cancelled.json()["outcome"] == "cancelled"
    assert cancelled.json()["status"] == "completed"
    status = api.get(f"/v1/requests/{ids[1]}/status").json()
    assert status["status"] == "cancelled" and "queue_position" not in status
    assert api.get(f"/v1/requests/{ids[2]}/status").json()["queue_position"] == 1
    assert api.get(f"/v1/requests/{ids[1]}/result").json()["status"] == "cancelled"

    sim.configure(run_times={WAN: 100.0}, paused=False)  # the first one now runs (for a long time)
    deadline = time.monotonic() + 30
    while api.get(f"/v1/requests/{ids[0]}/status").json()["status"] != "in_progress":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert api.get(f"/v1/requests/{ids[2]}/status").json()["queue_position"] == 0
    running = api.post(f"/v1/requests/{ids[0]}/cancel").json()
    assert running["outcome"] == "not_cancellable"
    assert api.get(f"/v1/requests/{ids[0]}/status").json()["status"] == "in_progress"
    again = api.post(f"/v1/requests/{ids[1]}/cancel").json()  # already cancelled: finished, so not cancellable
    assert again["outcome"] == "not_cancellable"
    counters = sim.counters()
    assert counters["cancels"] == {"cancelled": 1, "not_cancellable": 2}
    assert counters["jobs"] == {"in_progress": 1, "cancelled": 1, "in_queue": 1}
    sim.reset()  # stops the long job
    assert sim.jobs() == []


def test_workers_run_in_parallel(api: httpx.Client, sim: Simulator) -> None:
    sim.configure(workers=2, run_times={WAN: 1.0}, time_scale=1.0)
    ids = [submit(api, WAN, {"prompt": f"p{i}"}) for i in range(3)]
    time.sleep(0.3)
    states = [api.get(f"/v1/requests/{i}/status").json() for i in ids]
    assert [s["status"] for s in states] == ["in_progress", "in_progress", "in_queue"]
    assert states[2]["queue_position"] == 0
    assert {s.get("instance_id") for s in states[:2]} == {"sim-worker-0", "sim-worker-1"}


def test_max_queue_answers_429(api: httpx.Client, sim: Simulator) -> None:
    sim.configure(paused=True, max_queue=1)
    submit(api, WAN, {"prompt": "one"})
    full = api.post(f"/v1/models/{WAN}", json={"prompt": "two"})
    assert full.status_code == 429 and full.headers["retry-after"] == "1"
    assert sim.counters()["submits_accepted"] == 1


# --- errors -------------------------------------------------------------------------------------------------


def test_auth_errors_and_token_never_echoed(sim: Simulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"{sim.base_url}/v1/models/{WAN}"
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}, {"Authorization": TOKEN}):
        answer = httpx.post(url, json={"prompt": "x"}, headers=headers)
        assert answer.status_code == 401 and answer.json()["error_code"] == 400004
        assert answer.json()["error_message"]
    assert httpx.get(f"{sim.base_url}/v1/models").status_code == 401
    assert httpx.post(url, json={"prompt": "x"}, headers={"Authorization": "Bearer whatever"}).status_code == 200

    sim.configure(token=TOKEN)
    wrong = httpx.post(url, json={"prompt": "x"}, headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401 and "not-the-token" not in wrong.text
    right = httpx.post(url, json={"prompt": "x"}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert right.status_code == 200 and TOKEN not in right.text
    request_id = right.json()["request_id"]
    for path in ("status", "result"):
        answer = httpx.get(f"{sim.base_url}/v1/requests/{request_id}/{path}",
                           headers={"Authorization": f"bearer {TOKEN}"})
        assert answer.status_code == 200 and TOKEN not in answer.text
    assert httpx.get(f"{sim.base_url}/_sim/counters").status_code == 200  # the /_sim/ namespace needs no token
    config = httpx.get(f"{sim.base_url}/_sim/config").json()
    assert config["token"] == "(set)" and TOKEN not in json.dumps(config) and TOKEN not in repr(sim)
    assert TOKEN not in repr(sim.knobs) and TOKEN not in str(sim.configure())
    assert TOKEN not in caplog.text and "not-the-token" not in caplog.text


def test_unknown_model_and_request(api: httpx.Client, sim: Simulator) -> None:
    post = api.post("/v1/models/nobody/no-model", json={"prompt": "x"})
    assert post.status_code == 400 and post.json()["error_code"] == 400001
    get = api.get("/v1/models/nobody/no-model")
    assert get.status_code == 404 and get.json()["error_code"] == 400001
    for method, path in (("GET", "status"), ("GET", "result"), ("POST", "cancel")):
        answer = api.request(method, f"/v1/requests/does-not-exist/{path}")
        assert answer.status_code == 404 and answer.json()["error_code"] == 404001
    assert api.get("/v1/nothing/here").json()["error_code"] == 404000
    assert sim.counters()["submits_accepted"] == 0


def test_validation_422_names_the_field_and_creates_nothing(api: httpx.Client, sim: Simulator) -> None:
    missing = api.post(f"/v1/models/{WAN}", json={"negative_prompt": "blur"})
    assert missing.status_code == 422
    body = missing.json()
    assert body["error_code"] == 422001 and body["error_message"]
    assert {"loc": ["body", "prompt"], "type": "required"}.items() <= body["detail"][0].items()
    assert body["detail"][0]["msg"]

    enum = api.post(f"/v1/models/{WAN}", json={"prompt": "x", "aspect_ratio": "16:9"}).json()
    assert enum["detail"][0]["loc"] == ["body", "aspect_ratio"] and enum["detail"][0]["type"] == "enum"
    bounds = api.post(f"/v1/models/{I2V}", json={**SEED_BODIES[I2V], "598_steps": 50}).json()
    assert bounds["detail"][0]["loc"] == ["body", "598_steps"] and bounds["detail"][0]["type"] == "maximum"
    mangled = api.post(f"/v1/models/{DREAMINA}", json={"prompt": "x", "widthxheight": "2048x2048(1:1)"}).json()
    assert mangled["detail"][0]["loc"] == ["body", "widthxheight"]  # keys must be sent byte-for-byte
    too_long = api.post(f"/v1/models/{DREAMINA}", json={"prompt": "x" * 801}).json()
    assert too_long["detail"][0]["loc"] == ["body", "prompt"] and too_long["detail"][0]["type"] == "maxLength"
    several = api.post(f"/v1/models/{FLUX}", json={"seed": "one"}).json()
    assert {tuple(d["loc"]) for d in several["detail"]} >= {("body", "prompt"), ("body", "image_url"), ("body", "seed")}

    not_object = api.post(f"/v1/models/{WAN}", json=["prompt"])
    assert not_object.status_code == 422 and not_object.json()["error_code"] == 422001
    not_json = api.post(f"/v1/models/{WAN}", content=b"{prompt: x", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 422 and not_json.json()["error_code"] == 422001

    counters = sim.counters()
    assert counters["submits_received"] == 8 and counters["submits_accepted"] == 0 and counters["jobs"] == {}


def test_result_unfinished_modes(api: httpx.Client, sim: Simulator) -> None:
    sim.configure(paused=True)
    request_id = submit(api, WAN, {"prompt": "waiting"})
    default = api.get(f"/v1/requests/{request_id}/result")
    assert default.status_code == 200 and default.json() == {"request_id": request_id, "status": "in_queue"}
    sim.configure(result_unfinished="400005")
    mock = api.get(f"/v1/requests/{request_id}/result")
    assert mock.status_code == 400 and mock.json()["error_code"] == 400005
    sim.configure(paused=False, result_unfinished="state")
    wait_done(api, request_id)
    assert api.get(f"/v1/requests/{request_id}/result").json()["status"] == "succeeded"


def test_fail_on_demand(api: httpx.Client) -> None:
    request_id = submit(api, WAN, {"prompt": "please sim:fail now"})
    assert wait_done(api, request_id)["status"] == "completed"  # failed shows as completed on /status
    result = api.get(f"/v1/requests/{request_id}/result").json()
    assert result["status"] == "failed" and "output" not in result
    (error,) = result["error"]
    assert "sim:fail" in error["error"] and error["errorCode"]


@pytest.mark.parametrize(("value", "reason"), [
    ("{base}/_sim/media/nope/output_0.png", "HTTP 404"),
    ("data:image/png;base64,aGVsbG8gd29ybGQ=", "could not decode"),
    ("data:image/png;base64,!!!", "base64"),
    ("ftp://example.invalid/a.png", "not a URL the server can fetch"),
    ("http://127.0.0.1:9/unreachable.png", "could not fetch"),
])
def test_unusable_media_input_fails_the_job(api: httpx.Client, sim: Simulator, value: str, reason: str) -> None:
    result = run(api, FLUX, {"prompt": "edit", "image_url": value.format(base=sim.base_url)})
    assert result["status"] == "failed"
    (error,) = result["error"]
    assert reason in error["error"] and "image_url" in error["error"]


def test_catalog(api: httpx.Client) -> None:
    listing = api.get("/v1/models").json()
    assert listing["total"] == 5 and listing["offset"] == 0 and len(listing["models"]) == 5
    keys = {"model_id", "display_name", "description", "categories", "base_price_usd", "price_unit", "inputs",
            "required_inputs", "kind"}
    for entry in listing["models"]:
        assert set(entry) == keys
    with_schema = api.get("/v1/models", params={"include_schema": "true", "kind": "video"}).json()
    assert with_schema["total"] == 1
    (video,) = with_schema["models"]
    assert video["model_id"] == I2V and video["required_inputs"] == ["600_prompt", "608_image"]
    assert "602_widthx602_height" in video["input_schema"]["properties"]
    assert api.get("/v1/models", params={"category": "image-edit"}).json()["total"] == 2
    assert [m["model_id"] for m in api.get("/v1/models", params={"search": "DREAMINA"}).json()["models"]] == [DREAMINA]
    page = api.get("/v1/models", params={"limit": 2, "offset": 4}).json()
    assert page["total"] == 5 and page["limit"] == 2 and page["offset"] == 4 and len(page["models"]) == 1
    one = api.get(f"/v1/models/{DREAMINA}").json()
    assert one["model_id"] == DREAMINA and "width×height" in one["input_schema"]["properties"]
    assert "width×height" in one["inputs"] and one["input_schema"]["properties"]["scale"]["type"] == "float"


# --- faults -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["429", "500", "502", "503", "504", "drop", "slow", "malformed", "error200"])
def test_each_fault_kind_is_observable(api: httpx.Client, sim: Simulator, kind: str) -> None:
    request_id = submit(api, WAN, {"prompt": "x"})
    sim.configure(fail_next={"status": 1}, fail_next_kind=kind, faults={"slow_seconds": 0.3, "retry_after": [2]})
    started = time.monotonic()
    if kind == "drop":
        with pytest.raises(httpx.RemoteProtocolError):
            api.get(f"/v1/requests/{request_id}/status")
    else:
        answer = api.get(f"/v1/requests/{request_id}/status")
        if kind in ("429", "500", "502", "503", "504"):
            assert answer.status_code == int(kind)
        if kind == "429":
            assert answer.headers["retry-after"] == "2" and answer.json()["error_code"] == 429001
        elif kind == "502":
            assert answer.headers["content-type"].startswith("text/html")
        elif kind in ("500", "503", "504"):
            assert answer.json()["error_code"] == int(kind) * 1000 + 1
        elif kind == "slow":
            assert answer.status_code == 200 and time.monotonic() - started >= 0.3
            assert answer.json()["request_id"] == request_id
        elif kind == "malformed":
            assert answer.status_code == 200
            with pytest.raises(json.JSONDecodeError):
                answer.json()
        elif kind == "error200":
            assert answer.status_code == 200 and answer.json()["error_code"] == 500001
    assert api.get(f"/v1/requests/{request_id}/status").status_code == 200  # only the next one failed
    counters = sim.counters()
    assert counters["faults"] == {kind: 1} and counters["requests"]["GET status"] == 2


def test_fail_next_counts_down(api: httpx.Client, sim: Simulator) -> None:
    request_id = submit(api, WAN, {"prompt": "x"})
    sim.configure(fail_next={"status": 2, "result": 1})
    codes = [api.get(f"/v1/requests/{request_id}/status").status_code for _ in range(3)]
    assert codes == [503, 503, 200]
    assert api.get(f"/v1/requests/{request_id}/result").status_code == 503
    assert sim.configure()["fail_next"] == {}


def test_faulted_submit_creates_no_job_but_slow_does(api: httpx.Client, sim: Simulator) -> None:
    kinds = ["429", "500", "502", "503", "504", "drop", "malformed", "error200"]
    sim.configure(faults={"rate": 1.0, "kinds": kinds, "paths": ["submit"], "seed": 1, "retry_after": [None]})
    for i in range(12):
        try:
            answer = api.post(f"/v1/models/{WAN}", json={"prompt": f"p{i}"})
            assert "retry-after" not in answer.headers
        except httpx.TransportError:
            pass
    counters = sim.counters()
    assert counters["submits_received"] == 12 and counters["submits_accepted"] == 0 and sim.jobs() == []
    assert sum(counters["faults"].values()) == 12 and set(counters["faults"]) <= set(kinds)
    assert api.get("/v1/models").status_code == 200  # other paths are untouched

    sim.configure(faults={"rate": 1.0, "kinds": ["slow"], "paths": ["submit"], "slow_seconds": 0.2})
    request_id = submit(api, WAN, {"prompt": "slow but accepted"})
    assert [job["request_id"] for job in sim.jobs()] == [request_id]


def test_drop_accepted_creates_the_job_but_loses_the_answer(api: httpx.Client, sim: Simulator) -> None:
    sim.configure(fail_next={"submit": 1}, fail_next_kind="drop_accepted")
    with pytest.raises(httpx.RemoteProtocolError):
        api.post(f"/v1/models/{WAN}", json={"prompt": "uncertain"})
    assert len(sim.jobs()) == 1 and sim.counters()["submits_accepted"] == 1


def test_random_faults_are_seeded(sim: Simulator) -> None:
    def pattern() -> list[int]:
        sim.reset()
        sim.configure(faults={"rate": 0.5, "kinds": ["503"], "paths": ["catalog"], "seed": 42})
        with httpx.Client(base_url=sim.base_url, headers={"Authorization": "Bearer t"}) as client:
            return [client.get("/v1/models").status_code for _ in range(20)]

    first = pattern()
    assert first == pattern() and 503 in first and 200 in first


# --- counters, jobs, expiry, /_sim/ --------------------------------------------------------------------------


def test_counters_and_jobs(api: httpx.Client, sim: Simulator) -> None:
    inputs = {"prompt": "counted", "aspect_ratio": "1024:1024 (1:1)"}
    request_id = submit(api, WAN, inputs)
    wait_done(api, request_id)
    result = api.get(f"/v1/requests/{request_id}/result").json()
    api.get(result["output"]["image"])
    api.post(f"/v1/requests/{request_id}/cancel")
    api.get("/v1/models")
    counters = sim.counters()
    assert counters["submits_received"] == 1 and counters["submits_accepted"] == 1
    assert counters["bodies"] == {body_sha256(inputs): 1}
    requests = counters["requests"]
    assert requests["POST submit"] == 1 and requests["GET status"] >= 1 and requests["GET result"] == 1
    assert requests["POST cancel"] == 1 and requests["GET catalog"] == 1 and requests["GET media"] == 1
    assert counters["jobs"] == {"succeeded": 1}
    (job,) = sim.jobs()
    assert job["request_id"] == request_id and job["model_id"] == WAN and job["status"] == "succeeded"
    assert job["inputs_sha256"] == body_sha256(inputs)
    assert job["created_at"] <= job["started_at"] <= job["finished_at"]
    over_http = httpx.get(f"{sim.base_url}/_sim/counters").json()
    assert over_http["bodies"] == counters["bodies"]
    assert httpx.get(f"{sim.base_url}/_sim/jobs").json() == sim.jobs()
    sim.reset()
    assert sim.jobs() == [] and sim.counters()["submits_received"] == 0
    assert api.get(f"/v1/requests/{request_id}/status").status_code == 404


def test_sim_http_endpoints(api: httpx.Client, sim: Simulator) -> None:
    base = sim.base_url
    assert httpx.post(f"{base}/_sim/config", json={"paused": True, "workers": 1}).json()["paused"] is True
    request_id = submit(api, WAN, {"prompt": "queued"})
    assert api.get(f"/v1/requests/{request_id}/status").json()["queue_position"] == 0
    bad = httpx.post(f"{base}/_sim/config", json={"no_such_knob": 1})
    assert bad.status_code == 400 and "no_such_knob" in bad.json()["error"]
    assert httpx.post(f"{base}/_sim/config", json={"workers": 0}).status_code == 400
    assert httpx.post(f"{base}/_sim/config", json={"paused": False}).json()["paused"] is False
    wait_done(api, request_id)
    assert httpx.get(f"{base}/_sim/jobs").json()[0]["status"] == "succeeded"
    assert httpx.post(f"{base}/_sim/reset").status_code == 200
    assert httpx.get(f"{base}/_sim/counters").json()["submits_received"] == 0
    assert httpx.get(f"{base}/_sim").json()["simulator"] == "runcomfy_nb"
    with pytest.raises(ValueError, match="unknown knob"):
        sim.configure(bogus=True)


def test_expiry(api: httpx.Client, sim: Simulator) -> None:
    first = run(api, WAN, {"prompt": "short-lived"})["output"]["image"]
    assert api.get(first).status_code == 200
    assert sim.expire_outputs() == 1
    gone = api.get(first)
    assert gone.status_code == 404 and "expired" in gone.json()["error_message"]
    second = run(api, WAN, {"prompt": "another"})["output"]["image"]
    assert api.get(second).status_code == 200  # outputs made after expiry are fresh
    assert httpx.post(f"{sim.base_url}/_sim/expire").json() == {"expired": 1}
    assert api.get(second).status_code == 404
    sim.configure(output_ttl=0.3)
    third = run(api, WAN, {"prompt": "ttl"})["output"]["image"]
    assert api.get(third).status_code == 200
    time.sleep(0.4)
    assert "expired" in api.get(third).json()["error_message"]
