"""%runcomfy and %%runcomfy through a real IPython shell whose errors raise, against the simulator."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.testing.globalipapp import start_ipython
from IPython.utils.capture import capture_output

import runcomfy_nb as rc
from runcomfy_nb import config

WAN = "wan-ai/wan-2-5/text-to-image"


@pytest.fixture(scope="module")
def shell() -> Any:
    ip = start_ipython()
    ip.display_formatter.active_types = list(ip.display_formatter.format_types)  # rich output, as in Jupyter
    ip.run_line_magic("load_ext", "runcomfy_nb")
    return ip


@pytest.fixture
def ip(shell: Any, sim: Any) -> Iterator[Any]:
    config.set_simulator(sim.base_url)
    yield shell
    config.clear_simulator()


def run(ip: Any, code: str) -> tuple[Any, Any]:
    """Run a cell; its exception (if any) is raised here; returns (result, captured displays)."""
    with capture_output() as captured:
        result = ip.run_cell(code, store_history=True)  # as a kernel does: each cell has its own count
    result.raise_error()
    return result.result, captured


def views(captured: Any) -> list[dict[str, Any]]:
    return [o.data for o in captured.outputs if "application/vnd.jupyter.widget-view+json" in o.data]


def test_line_magic_returns_the_job_and_shows_it_once(ip: Any) -> None:
    job, captured = run(ip, f'%runcomfy {WAN} prompt="a red fox, at dawn" aspect_ratio="1024:1024 (1:1)"')
    assert isinstance(job, rc.Job) and job.request_id
    assert job.inputs["prompt"] == "a red fox, at dawn" and job.inputs["aspect_ratio"] == "1024:1024 (1:1)"
    assert len(views(captured)) == 1  # the magic displayed it; the displayhook did not show it again
    assert any("rcnb-static" in o.data.get("text/html", "") for o in captured.outputs)
    assert job.wait(timeout=60)


def test_assignment_shows_and_semicolon_hides(ip: Any) -> None:
    _, captured = run(ip, f'job = %runcomfy {WAN} prompt="assigned"')
    assert len(views(captured)) == 1 and isinstance(ip.user_ns["job"], rc.Job)
    _, captured = run(ip, f'%runcomfy {WAN} prompt="quiet";')
    assert views(captured) == []
    _, captured = run(ip, "job")  # a later cell shows it again
    assert len(views(captured)) == 1


def test_values_from_the_notebook(ip: Any) -> None:
    from PIL import Image

    ip.user_ns["subject"] = "a heron"
    ip.user_ns["still"] = Image.new("RGB", (32, 32), "red")
    job, _ = run(ip, "%runcomfy community/wan-2-1/fusionx/image-to-video 600_prompt=\"$subject in rain\" "
                     "608_image=@still 598_steps={4+4} 602_num_frames=81 --no-validate;")
    assert job.inputs["600_prompt"] == "a heron in rain" and job.inputs["598_steps"] == 8
    assert job.inputs["608_image"].startswith("data:image/png;base64,")


def test_cell_magic_with_options(ip: Any) -> None:
    body = ("prompt: a tea house in the mountains,\n  drawn in ink\nwidth×height: 1024x1024(1:1)\n"
            "scale: 0.7\nforce_single: true\n")
    job, _ = run(ip, f"%%runcomfy bytedance/dreamina-4-0/text-to-image -o tea --wait\n{body}")
    assert ip.user_ns["tea"] is job and job.status == "completed"
    assert job.inputs == {"prompt": "a tea house in the mountains,\n  drawn in ink", "width×height": "1024x1024(1:1)",
                          "scale": 0.7, "force_single": True}


def test_invalid_input_raises_before_sending(ip: Any, sim: Any) -> None:
    before = sim.counters()["submits_received"]
    with pytest.raises(rc.InputValidationError, match=r"scale: maximum — must be ≤ 1; got 1\.5"):
        run(ip, '%runcomfy bytedance/dreamina-4-0/text-to-image prompt="x" scale=1.5')
    assert sim.counters()["submits_received"] == before


def test_no_validate_sends_as_is(ip: Any) -> None:
    with pytest.raises(rc.ServerValidationError, match="scale"):
        run(ip, '%runcomfy bytedance/dreamina-4-0/text-to-image prompt="x" scale=1.5 --no-validate')


@pytest.mark.parametrize("line, message", [
    ("", "Name a model or a subcommand"),
    ("frobnicate", "neither a model id"),
    (f"{WAN} prompt", "Expected key=value"),
    (f'{WAN} prompt="open', "Unclosed quote"),
    ("attach", "needs an argument"),
    ("sim maybe", "sim on"),
    (f"{WAN} -o", "needs a value"),
])
def test_bad_usage_says_how_to_fix_it(ip: Any, line: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        run(ip, f"%runcomfy {line}")


def test_subcommands(ip: Any, sim: Any) -> None:
    _, captured = run(ip, "%runcomfy models")
    assert "ideogram/ideogram-v3/reframe" in captured.outputs[0].data["text/html"]
    sim.configure(paused=True)
    job, _ = run(ip, f'%runcomfy {WAN} prompt="to cancel";')
    _, captured = run(ip, "%runcomfy jobs")
    assert job.request_id in captured.outputs[0].data["text/html"]
    _, captured = run(ip, f"%runcomfy cancel {job.request_id}")
    assert f"{job.request_id}: cancelled" in captured.stdout
    sim.configure(paused=False)
    done, _ = run(ip, f'%runcomfy {WAN} prompt="attach me" --wait;')
    again, captured = run(ip, f"%runcomfy attach {done.request_id}")
    assert again.request_id == done.request_id and len(views(captured)) == 1
    assert [o.url for o in again.wait(timeout=30)] == [o.url for o in done.outputs]
    form, _ = run(ip, "%runcomfy form ideogram/ideogram-v3/reframe")
    assert isinstance(form, rc.ModelForm) and len(form.fields) == 6


def test_help_lists_usage() -> None:
    from runcomfy_nb.magics import RunComfyMagics

    doc = RunComfyMagics.runcomfy.__doc__
    for word in ("--wait", "--no-validate", "-o NAME", "sim on|off", "key=@name", "%%runcomfy"):
        assert word in doc


def test_config_settings_reach_the_library(ip: Any, tmp_path: Any) -> None:
    run(ip, f"%config RunComfyMagics.autosave_dir = {str(tmp_path)!r}")
    try:
        assert rc.settings.autosave_dir == str(tmp_path)
    finally:
        run(ip, "%config RunComfyMagics.autosave_dir = None")
    assert rc.settings.autosave_dir is None


@pytest.mark.slow
def test_sim_on_and_off_in_a_fresh_shell() -> None:
    script = textwrap.dedent('''
        import httpx
        from IPython.testing.globalipapp import start_ipython
        from runcomfy_nb import config
        ip = start_ipython()
        ip.run_line_magic("load_ext", "runcomfy_nb")
        ip.run_line_magic("runcomfy", "sim on")
        url = config.simulator_endpoint().base_url
        job = ip.run_line_magic("runcomfy", 'wan-ai/wan-2-5/text-to-image prompt="fox" --wait;')
        assert job.status == "completed" and job.simulator
        ip.run_line_magic("runcomfy", "sim off")
        assert config.simulator_endpoint() is None
        try:
            httpx.get(url + "/_sim/counters", timeout=2)
            raise SystemExit("still listening")
        except httpx.ConnectError:
            print("ok")
    ''')
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stdout + done.stderr
    assert "RunComfy simulator running at http://127.0.0.1:" in done.stdout
