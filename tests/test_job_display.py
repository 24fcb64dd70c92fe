"""A job shown everywhere: terminal IPython prints one status line (and nothing later into another prompt),
wait() draws a progress line on a terminal and stays quiet otherwise, repr is the status line, marimo gets the
live view through `_display_`."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pexpect
import pytest

import runcomfy_nb as rc
from runcomfy_nb import textview

ROOT = Path(__file__).resolve().parents[1]
WAN = "wan-ai/wan-2-5/text-to-image"


def test_repr_is_the_status_line_and_marimo_gets_the_live_view(client: Any) -> None:
    job = client.submit(WAN, prompt="shown", aspect_ratio="1024:1024 (1:1)")
    job.wait(timeout=60)
    assert repr(job) == f"<Job {textview.status_line(job)}>"
    assert repr(job).startswith(f"<Job {WAN} · {job.request_id[:8]}") and "completed in" in repr(job)
    assert "1 image" in repr(job)
    view = job._display_()
    from runcomfy_nb.widgets import JobView, view_of

    try:
        assert isinstance(view, JobView) and view_of(job) is view and view.status == "completed"
    finally:
        view.close()


def test_wait_draws_a_progress_line_only_when_asked(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    job = client.submit(WAN, prompt="quiet", aspect_ratio="1024:1024 (1:1)")
    job.wait(timeout=60)  # "auto" and not a terminal: nothing
    assert err.getvalue() == ""
    monkeypatch.setattr(rc.settings, "progress", "always")
    job = client.submit(WAN, prompt="loud", aspect_ratio="1024:1024 (1:1)")
    job.wait(timeout=60)
    text = err.getvalue()
    assert text.startswith("\r" + WAN) and text.endswith("\n")
    assert text.rstrip().rsplit("\r", 1)[-1].startswith(textview.status_line(job)[:40])  # ends with the final status
    err.truncate(0)
    err.seek(0)
    job.wait(timeout=60)  # already ended: no line at all
    assert err.getvalue() == ""
    monkeypatch.setattr(rc.settings, "progress", "never")
    client.submit(WAN, prompt="never", aspect_ratio="1024:1024 (1:1)").wait(timeout=60)
    assert err.getvalue() == ""


def test_terminal_ipython_prints_the_status_once_and_nothing_later(tmp_path: Path) -> None:
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "IPYTHONDIR": str(tmp_path), "TERM": "dumb",
           "HOME": str(tmp_path), "COLUMNS": "150"}
    child = pexpect.spawn(sys.executable, ["-m", "IPython", "--simple-prompt", "--no-banner", "--colors=NoColor"],
                          env=env, encoding="utf-8", timeout=90, dimensions=(24, 150), cwd=str(tmp_path))
    try:
        child.expect_exact("In [1]: ")
        child.sendline("import runcomfy_nb as rc; sim = rc.sim.start(time_scale=0.05); c = rc.Client()")
        child.expect_exact("In [2]: ")
        child.sendline(f"job = c.submit('{WAN}', prompt='terminal', aspect_ratio='1024:1024 (1:1)'); job")
        child.expect(r"Out\[2\]: |\r\n" + WAN.replace("/", "/") + r" · ")
        child.expect_exact("In [3]: ")
        before = child.before
        assert "<IPython.core.display" not in before and "JobView" not in before and "<Job" not in before
        child.sendline("outputs = job.wait(timeout=60); print('DONE', job.status)")  # a pty: the progress line
        child.expect(r"\r" + WAN + r" · \S+ · completed in [0-9.]+ s · 1 image · simulator *\r\n")
        child.expect_exact("DONE completed")
        child.expect_exact("In [4]: ")
        child.sendline("import time; time.sleep(1); print('IDLE')")
        child.expect_exact("IDLE")
        child.expect_exact("In [5]: ")
        assert "rcnb" not in child.before and "<IPython.core.display" not in child.before  # nothing printed later
        child.sendline("job")
        child.expect(WAN + r" · \S+ · completed in")
        child.sendline("exit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
