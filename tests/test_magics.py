"""%runcomfy and %%runcomfy through a real IPython shell whose errors raise, against the simulator."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output
from shell_helpers import run_cell

import runcomfy_nb as rc
from runcomfy_nb import config

WAN = "wan-ai/wan-2-5/text-to-image"


run = run_cell


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
    assert job.inputs == {"prompt": "a tea house in the mountains,\ndrawn in ink", "width×height": "1024x1024(1:1)",
                          "scale": 0.7, "force_single": True}


def test_invalid_input_raises_before_sending(ip: Any, sim: Any) -> None:
    before = sim.counters()["submits_received"]
    with pytest.raises(rc.InputValidationError, match=r"scale: maximum — must be ≤ 1; got 1\.5"):
        run(ip, '%runcomfy bytedance/dreamina-4-0/text-to-image prompt="x" scale=1.5')
    assert sim.counters()["submits_received"] == before


def shown(ip: Any, code: str) -> tuple[Any, str]:
    """Run a cell as a notebook does (errors shown, not raised): (the exception or None, what was printed)."""
    with capture_output() as captured:
        result = ip.run_cell(code, store_history=True)
    return result.error_in_exec, captured.stdout + captured.stderr


def submits(sim: Any) -> int:
    return sim.counters()["requests"]["POST submit"]


def test_mistyped_body_fails_by_name_and_sends_nothing(ip: Any, sim: Any) -> None:
    body = "prompt: a paper crane\nwidthxheight: 2304x1728(4:3)\nsead: 5\n"
    error, text = shown(ip, f"%%runcomfy bytedance/dreamina-4-0/text-to-image\n{body}")
    assert isinstance(error, rc.InputValidationError) and [e.field for e in error.errors] == ["sead"]
    assert "read 'widthxheight' as 'width×height'" in text and "sead: unknown_field" in text
    assert "Traceback" not in text and len(text.strip().splitlines()) <= 10
    error, text = shown(ip, "%%runcomfy blackforestlabs/flux-1-kontext/pro/edit\nprompt: winter\n"
                            "image_url: https://example.com/a.png\nsead: 5\n")
    assert "did you mean 'seed'?" in text
    error, _ = shown(ip, "%%runcomfy bytedance/dreamina-4-0/text-to-image\nprompt: a paper crane\nnot a key line\n")
    assert isinstance(error, UsageError) and "Line 2" in str(error)
    assert submits(sim) == 0  # counted at the server


def test_x_for_times_is_accepted_in_keys(ip: Any, sim: Any) -> None:
    job, _ = run(ip, "%runcomfy bytedance/dreamina-4-0/text-to-image prompt=crane widthxheight='2304x1728(4:3)';")
    assert job.inputs["width×height"] == "2304x1728(4:3)" and "widthxheight" not in job.inputs


def test_values_arrive_exactly_at_the_server(ip: Any, sim: Any) -> None:
    from runcomfy_nb.sim.util import body_sha256

    quoted = 'it\'s a "quoted" fox\n  on two lines'
    ip.user_ns.update(p="a red fox in the snow", q=quoted)
    sent = [run(ip, f"%runcomfy {WAN} {arg};")[0] for arg in ("prompt=$p", "prompt={q}", 'prompt="{q}"')]
    assert [job.inputs["prompt"] for job in sent] == ["a red fox in the snow", quoted, quoted]
    received = {j["request_id"]: j["inputs_sha256"] for j in sim.jobs()}
    assert [received[job.request_id] for job in sent] == [body_sha256(job.inputs) for job in sent]


def test_unknown_model_sends_nothing_and_suggests(ip: Any, sim: Any) -> None:
    error, text = shown(ip, '%runcomfy wan-ai/wan-2-6/text-to-image prompt="x"')
    assert isinstance(error, rc.NotFoundError) and "did you mean 'wan-ai/wan-2-5/text-to-image'" in text
    assert "Traceback" not in text
    assert submits(sim) == 0
    error, _ = shown(ip, "%runcomfy wan-ai/wan-2-6/text-to-image prompt=x --no-validate;")  # the way out
    assert isinstance(error, rc.NotFoundError) and submits(sim) == 1  # sent; the server said 404


def test_bad_enum_is_one_short_block_with_every_choice(ip: Any, sim: Any) -> None:
    choices = rc.schema(WAN)["properties"]["aspect_ratio"]["enum"]
    assert len(choices) == 13
    error, text = shown(ip, f'%runcomfy {WAN} prompt="x" aspect_ratio=1024x1024')
    assert isinstance(error, rc.InputValidationError)  # the typed error is still what the cell raised
    lines = text.strip().splitlines()
    assert len(lines) <= 10 and "Traceback" not in text, text
    assert all(repr(c) in text for c in choices) and "aspect_ratio (Resolution (W:H))" in text
    assert "'1024x1024'" in text and f"%runcomfy info {WAN}" in text
    assert submits(sim) == 0


def test_verbose_and_debug_show_the_full_traceback(ip: Any, sim: Any) -> None:
    line = f'%runcomfy {WAN} prompt="x" aspect_ratio=1024x1024'
    run(ip, "%xmode Verbose")
    try:
        _, text = shown(ip, line)
    finally:
        run(ip, "%xmode Context")
    assert "Traceback" in text and "validate_inputs" in text
    rc.settings.debug = True
    try:
        _, text = shown(ip, line)
    finally:
        rc.settings.debug = False
    assert "Traceback" in text and "validate_inputs" in text
    _, text = shown(ip, line)
    assert "Traceback" not in text


def test_refused_token_is_one_short_block(ip: Any, sim: Any) -> None:
    sim.configure(token="only-this-token")
    try:
        error, text = shown(ip, f'%runcomfy {WAN} prompt="x"')
    finally:
        sim.configure(token=None)
    assert isinstance(error, rc.AuthError) and text.startswith("AuthError: ") and "Traceback" not in text
    assert len(text.strip().splitlines()) <= 5


def test_missing_token_is_one_short_block(shell: Any) -> None:
    config.clear_simulator()
    error, text = shown(shell, f'%runcomfy {WAN} prompt="x"')
    assert isinstance(error, rc.ConfigError) and "RUNCOMFY_API_TOKEN" in text and "sim on" in text
    assert "Traceback" not in text and len(text.strip().splitlines()) <= 5
    error, text = shown(shell, f'%runcomfy {WAN} prompt="x" aspect_ratio=square')  # input problems come first
    assert isinstance(error, rc.InputValidationError) and "aspect_ratio (Resolution (W:H))" in text


def test_no_validate_sends_as_is(ip: Any) -> None:
    with pytest.raises(rc.ServerValidationError, match="scale"):
        run(ip, '%runcomfy bytedance/dreamina-4-0/text-to-image prompt="x" scale=1.5 --no-validate')


@pytest.mark.parametrize("line, message", [
    ("", "Name a model or a subcommand"),
    ("frobnicate", "neither a model id"),
    ("inf", "did you mean `%runcomfy info`"),
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


def test_config_progress_sets_the_wait_progress_line(ip: Any, monkeypatch: pytest.MonkeyPatch,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    """`%config RunComfyMagics.progress` is rc.settings.progress: "always" draws wait()'s line even off a terminal
    (the captured stderr here), "never" draws nothing; a mode that does not exist is refused at once."""
    monkeypatch.setattr(rc.settings, "progress", "auto")  # restored after the test, whatever %config did
    try:
        _, captured = run(ip, "%config RunComfyMagics")  # listed with its help, choices and current value
        assert "RunComfyMagics.progress=<Enum>" in captured.stdout and "Current: 'auto'" in captured.stdout
        run(ip, '%config RunComfyMagics.progress = "always"')
        assert rc.settings.progress == "always"
        job, captured = run(ip, f'%runcomfy {WAN} prompt="a loud fox" --wait;')
        assert job.status == "completed"
        assert captured.stderr.startswith("\r" + WAN) and captured.stderr.endswith("\n"), captured.stderr
        run(ip, '%config RunComfyMagics.progress = "never"')
        assert rc.settings.progress == "never"
        job, captured = run(ip, f'%runcomfy {WAN} prompt="a quiet fox" --wait;')
        assert job.status == "completed" and captured.stderr == ""
        run(ip, '%config RunComfyMagics.progress = "loud"')  # %config logs the refusal (it does not raise)
        assert "The 'progress' trait of a RunComfyMagics instance expected any of ['auto', 'always', 'never'], " \
               "not the str 'loud'" in caplog.text
        assert rc.settings.progress == "never"
    finally:
        run(ip, '%config RunComfyMagics.progress = "auto"')


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


def test_info_lists_fields_with_types_ranges_choices_defaults(ip: Any, sim: Any) -> None:
    shown_info, captured = run(ip, "%runcomfy info community/wan-2-1/fusionx/image-to-video")
    text = repr(shown_info)
    assert "598_steps  (Steps) integer, default 10" in text and "6 – 20" in text
    assert "600_prompt  (Prompt) string, required, example 'A close-up shot" in text
    assert "602_num_frames  (Number of Frames) integer, default 81" in text and "2 choices: 81, 141" in text
    html_table = captured.outputs[0].data["text/html"] if captured.outputs else shown_info._repr_html_()
    assert "<code>598_cfg</code>" in html_table and "Guidance Scale" in html_table
    python = rc.info(WAN)
    assert [f["key"] for f in python.fields] == ["prompt", "negative_prompt", "aspect_ratio"]
    assert len(python.fields[2]["choices"]) == 13 and python.fields[2]["default"] == "1440:810 (16:9)"
    error, text = shown(ip, "%runcomfy info wan-ai/wan-2-6/text-to-image")
    assert isinstance(error, rc.NotFoundError) and f"did you mean '{WAN}'" in text and "Traceback" not in text


def test_history_subcommand_shows_the_gallery_filtered(ip: Any) -> None:
    run(ip, f'%runcomfy {WAN} prompt="an old owl" aspect_ratio="1024:1024 (1:1)" --wait')
    run(ip, f'%runcomfy {WAN} prompt="a young fox" aspect_ratio="1024:1024 (1:1)" --wait')
    view, captured = run(ip, "%runcomfy history wan owl")
    assert isinstance(view, rc.HistoryView) and view.total == 1
    assert [i["summary"]["prompt"] for i in view.items] == ["an old owl"]
    everything, _ = run(ip, "%runcomfy history")
    assert everything.total == 2
