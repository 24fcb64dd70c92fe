"""Text display for terminals and scripts: status lines, a progress line on a real pty, silence without one."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pexpect
import pytest

from runcomfy_nb import textview

ROOT = Path(__file__).resolve().parents[1]
T0 = 1_800_000_000.0


def job(**values: object) -> SimpleNamespace:
    base = {"model_id": "wan-ai/wan-2-5/text-to-image", "request_id": "f76f528849034b32", "status": "in_queue",
            "queue_position": None, "created_at": T0, "submitted_at": T0 + 0.5, "started_at": None,
            "finished_at": None, "outputs": [], "error": "", "simulator": False}
    return SimpleNamespace(**{**base, **values})


def test_status_lines_say_where_a_job_stands() -> None:
    assert textview.status_line(job(queue_position=2), now=T0 + 3) == \
        "wan-ai/wan-2-5/text-to-image · f76f5288… · in queue (position 3) · 2.5 s"
    assert textview.status_line(job(queue_position=0, simulator=True), now=T0 + 1) == \
        "wan-ai/wan-2-5/text-to-image · f76f5288… · in queue (next) · 0.5 s · simulator"
    assert textview.status_line(job(status="in_progress", request_id="abc"), now=T0 + 75.5) == \
        "wan-ai/wan-2-5/text-to-image · abc · running · 1 min 15 s"
    done = job(status="completed", finished_at=T0 + 4.7,
               outputs=[SimpleNamespace(kind="image"), SimpleNamespace(kind="image"), SimpleNamespace(kind="video")])
    assert textview.status_line(done, now=T0 + 999) == \
        "wan-ai/wan-2-5/text-to-image · f76f5288… · completed in 4.2 s · 2 images, 1 video"
    assert textview.status_line(SimpleNamespace(status="submitting")) == "job · submitting"


def test_error_text_cannot_drive_the_terminal() -> None:
    hostile = "boom\x1b[2J\x1b]0;owned\x07\r\nsecond line \u202eevil\x9b31m" + "x" * 300
    line = textview.status_line(job(status="failed", finished_at=T0 + 2, error=hostile), now=T0 + 9)
    assert line.startswith("wan-ai/wan-2-5/text-to-image · f76f5288… · failed after 1.5 s · boom [2J ]0;owned")
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F or c == "\u202e" for c in line)
    assert line.endswith("…") and len(line.split(" · ")[3]) == 100


def test_progress_line_rewrites_in_place_and_clips_to_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "30")
    out = io.StringIO()
    line = textview.ProgressLine(out, mode="always")
    line.update("in queue (position 3)")
    line.update("in queue (position 3)")  # unchanged: not written again
    line.update("running")
    line.update("running · " + "y" * 100)
    line.finish("completed")
    line.finish()  # already ended
    assert out.getvalue() == ("\rin queue (position 3)"
                              "\rrunning" + " " * 14
                              + "\rrunning · " + "y" * 18 + "…"
                              + "\rcompleted" + " " * 20 + "\n")


def test_progress_is_silent_off_a_terminal_or_when_turned_off() -> None:
    for stream, mode in ((io.StringIO(), "auto"), (io.StringIO(), "never")):
        line = textview.ProgressLine(stream, mode=mode)
        line.update("running")
        line.finish("completed")
        assert stream.getvalue() == "" and not line.enabled
    with pytest.raises(ValueError, match="progress mode must be one of auto, always, never; got 'loud'"):
        textview.ProgressLine(io.StringIO(), mode="loud")


def test_wait_with_progress_shows_each_change_once_and_ends_the_line_on_interrupt() -> None:
    states = iter(["in queue", "running", "running", "completed"])
    current = {"text": "submitting"}
    timeouts = []

    def wait(timeout: float) -> bool:  # each wait sees the job move on one step
        timeouts.append(timeout)
        current["text"] = next(states)
        return current["text"] == "completed"

    out = io.StringIO()
    textview.wait_with_progress(wait, lambda: current["text"], line=textview.ProgressLine(out, "always"),
                                interval=0.05)
    assert out.getvalue() == "\rsubmitting\rin queue  \rrunning \rcompleted\n"
    assert timeouts == [0.05] * 4

    def interrupted(_timeout: float) -> bool:
        raise KeyboardInterrupt

    out = io.StringIO()
    with pytest.raises(KeyboardInterrupt):
        textview.wait_with_progress(interrupted, lambda: "in queue", line=textview.ProgressLine(out, "always"))
    assert out.getvalue() == "\rin queue\rin queue\n"  # the traceback starts on a line of its own


CHILD = textwrap.dedent("""
    import sys, threading
    from runcomfy_nb import textview
    state = {"text": "submitting"}
    done = threading.Event()
    def read():
        for line in sys.stdin:
            state["text"] = line.strip()
            if line.strip() == "completed":
                done.set()
                return
    threading.Thread(target=read, daemon=True).start()
    textview.wait_with_progress(done.wait, lambda: state["text"], interval=0.05)
    print("END", textview.text_only())
""")


def test_a_real_terminal_gets_a_progress_line_and_a_pipe_gets_nothing(tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {"PYTHONPATH": str(ROOT), "COLUMNS": "60", "PATH": "/usr/bin:/bin"}
    child = pexpect.spawn(sys.executable, [str(script)], env=env, encoding="utf-8", timeout=30, dimensions=(24, 60))
    try:
        child.setecho(False)
        child.expect_exact("\rsubmitting")
        child.sendline("in queue (position 2)")
        child.expect_exact("\rin queue (position 2)")
        child.sendline("running")
        child.expect_exact("\rrunning")
        child.sendline("completed")
        child.expect(r"\rcompleted *\r\n")
        child.expect_exact("END True")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0

    piped = subprocess.run([sys.executable, str(script)], input="running\ncompleted\n", capture_output=True,
                           text=True, env=env, timeout=60)
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr == "" and piped.stdout == "END True\n"


def test_terminal_ipython_is_a_text_only_front_end(tmp_path: Path) -> None:
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "IPYTHONDIR": str(tmp_path), "TERM": "dumb"}
    child = pexpect.spawn(sys.executable, ["-m", "IPython", "--simple-prompt", "--no-banner", "--colors=NoColor"],
                          env=env, encoding="utf-8", timeout=60, dimensions=(24, 120))
    try:
        child.expect_exact("In [1]: ")
        child.sendline("from runcomfy_nb import textview; print('TEXT', textview.text_only())")
        child.expect_exact("TEXT True")
        child.expect_exact("In [2]: ")
        child.sendline("from types import SimpleNamespace as NS; "
                       "print(textview.status_line(NS(model_id='a/b', request_id='r1', status='in_queue', "
                       "queue_position=1)))")
        child.expect_exact("a/b · r1 · in queue (position 2)")
        child.sendline("exit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)


def test_a_kernel_style_shell_shows_html() -> None:
    # In a child process: an InteractiveShell singleton would outlive this test in the session.
    code = ("from IPython.core.interactiveshell import InteractiveShell; from runcomfy_nb import textview; "
            "print(textview.text_only(InteractiveShell.instance()), textview.text_only())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert result.stdout.split() == ["False", "False"], result.stderr
    assert textview.text_only(SimpleNamespace()) is True
