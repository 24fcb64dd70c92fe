"""The public API from plain Python processes: one job per seed model from a script, and a process killed with
SIGKILL whose jobs a new process finds in the journal and re-attaches to."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent('''
    import json, sys
    import av
    from PIL import Image
    import runcomfy_nb as rc

    server = rc.sim.start(time_scale=0.2)
    client = rc.Client()
    red = Image.new("RGB", (320, 240), (220, 40, 40))
    requests = {
        "wan-ai/wan-2-5/text-to-image": ({"prompt": "a fox", "aspect_ratio": "1440:810 (16:9)"}, [1440, 810]),
        "bytedance/dreamina-4-0/text-to-image": ({"prompt": "a crane", "width×height": "1024x1024(1:1)"}, [1024, 1024]),
        "blackforestlabs/flux-1-kontext/pro/edit": ({"prompt": "bluer", "image_url": red, "aspect_ratio": "9:16"}, [576, 1024]),
        "ideogram/ideogram-v3/reframe": ({"image": red, "resolution": "896:1152 (7:9)"}, [896, 1152]),
        "community/wan-2-1/fusionx/image-to-video": ({"600_prompt": "drift", "608_image": red,
            "602_widthx602_height": "480x720 (2:3)", "602_num_frames": 81, "609_frame_rate": 20}, [480, 720]),
    }
    jobs = {model: client.submit(model, inputs) for model, (inputs, _) in requests.items()}
    report = {}
    for model, job in jobs.items():
        output = job.wait(timeout=120)[0]
        path = output.save(sys.argv[1])
        if output.kind == "video":
            with av.open(str(path)) as c:
                s = c.streams.video[0]
                report[model] = {"size": [s.codec_context.width, s.codec_context.height],
                                 "frames": sum(1 for _ in c.decode(s)), "fps": float(s.average_rate)}
        else:
            report[model] = {"size": list(Image.open(path).size)}
        report[model]["expected"] = requests[model][1]
        report[model]["status"] = job.status
    print(json.dumps(report))
''')


@pytest.mark.slow
def test_a_plain_script_runs_every_seed_model(tmp_path: Path) -> None:
    script = tmp_path / "run_all.py"
    script.write_text(SCRIPT, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script), str(tmp_path / "out")], capture_output=True, text=True,
                          timeout=300, env={**os.environ})
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(report) == 5
    for model, item in report.items():
        assert item["status"] == "completed", model
        assert item["size"] == item["expected"], model
    video = report["community/wan-2-1/fusionx/image-to-video"]
    assert video["frames"] == 81 and video["fps"] == 20
    assert len(list((tmp_path / "out").iterdir())) == 5


@pytest.fixture
def sim_process() -> Iterator[str]:
    """A simulator in its own process (it outlives the process we kill), slow enough for jobs to be mid-way."""
    process = subprocess.Popen([sys.executable, "-m", "runcomfy_nb.sim", "--port", "0", "--time-scale", "1",
                                "--workers", "1"], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:")
    yield url
    process.terminate()
    process.wait(10)


SUBMITTER = textwrap.dedent('''
    import sys, time
    import runcomfy_nb as rc
    client = rc.Client()
    for prompt in ("one", "two", "three"):
        job = client.submit("wan-ai/wan-2-5/text-to-image", prompt=prompt, aspect_ratio="1024:1024 (1:1)")
        print(job.request_id, flush=True)
    time.sleep(600)  # killed long before this ends
''')

ATTACHER = textwrap.dedent('''
    import json
    import runcomfy_nb as rc
    rows = rc.jobs()
    results = {}
    for row in rows:
        job = rc.attach(row["request_id"])
        outputs = job.wait(timeout=60)
        results[row["request_id"]] = [job.status, outputs[0].to_pil().size]
    print(json.dumps({"listed": [r["request_id"] for r in rows], "results": results}))
''')


@pytest.mark.slow
def test_jobs_survive_sigkill_and_reattach(tmp_path: Path, sim_process: str, isolated_home: Path) -> None:
    env = {**os.environ, "RUNCOMFY_API_TOKEN": "rc-kill-test-token", "RUNCOMFY_API_BASE": sim_process}
    submitter = subprocess.Popen([sys.executable, "-c", SUBMITTER], stdout=subprocess.PIPE, text=True, env=env)
    assert submitter.stdout is not None
    ids = [submitter.stdout.readline().strip() for _ in range(3)]
    submitter.send_signal(signal.SIGKILL)  # mid-job: one running, two queued on a single worker
    submitter.wait(10)
    assert all(ids)
    done = subprocess.run([sys.executable, "-c", ATTACHER], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert sorted(report["listed"]) == sorted(ids)
    for request_id in ids:
        assert report["results"][request_id] == ["completed", [1024, 1024]]
    journal = (isolated_home / "journal.sqlite3").read_bytes()
    assert b"rc-kill-test-token" not in journal
