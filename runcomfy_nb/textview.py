"""Jobs as text, for terminal IPython and plain scripts: a one-line status, and a progress line while waiting.

    wan-ai/wan-2-5/text-to-image · f76f5288… · completed in 4.2 s · 1 image · simulator

`status_line(job)` reads a job (or anything with the same attributes); `ProgressLine` rewrites one terminal
line in place (carriage return, no escape sequences) and stays silent when the stream is not a terminal, so
logs and CI output get no progress noise; `wait_with_progress` drives it while a blocking wait goes on.
`text_only()` tells whether the front end shows only text (terminal IPython, a script), where a job must print
its status line once instead of publishing HTML, and must not publish display updates later (terminal IPython
would print them into whatever prompt is current).
Every string that came from a person or the API is stripped of control characters before it reaches the
terminal: an error message must not be able to move the cursor, set the title or clear the screen.
"""

from __future__ import annotations

import re
import shutil
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from .config import settings

PROGRESS_MODES = ("auto", "always", "never")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_STATUS_WORDS = {"in_queue": "in queue", "in_progress": "running", "submitting": "submitting"}
_ERROR_CHARS = 100


def clean(text: Any, limit: int | None = None) -> str:
    """`text` on one line, with control and bidi-override characters replaced by spaces, cut to `limit`."""
    out = " ".join(_CONTROL.sub(" ", str(text)).split())
    return out if limit is None or len(out) <= limit else out[: limit - 1] + "…"


def _seconds(value: float) -> str:
    if value < 60:
        return f"{value:.1f} s"
    minutes, seconds = divmod(int(value), 60)
    return f"{minutes} min {seconds:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def _count(outputs: list[Any]) -> str:
    kinds: dict[str, int] = {}
    for output in outputs:
        kind = str(getattr(output, "kind", "file"))
        kinds[kind] = kinds.get(kind, 0) + 1
    return ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in kinds.items())


def status_line(job: Any, now: float | None = None) -> str:
    """One line saying what a job is and where it stands (model, short request id, status, time, results).

    Reads `model_id`, `request_id`, `status`, `queue_position`, `created_at`/`submitted_at`/`started_at`/
    `finished_at` (epoch seconds), `outputs`, `error`, `simulator`; a missing attribute is left out.
    """
    now = time.time() if now is None else now
    status = str(getattr(job, "status", "") or "")
    parts = [clean(getattr(job, "model_id", "") or "job", 80)]
    request_id = clean(getattr(job, "request_id", "") or "")
    if request_id:
        parts.append(request_id if len(request_id) <= 12 else request_id[:8] + "…")
    start = getattr(job, "submitted_at", None) or getattr(job, "created_at", None)
    end = getattr(job, "finished_at", None)
    elapsed = (end or now) - start if start else None
    if status == "completed":
        word = "completed" + (f" in {_seconds(elapsed)}" if elapsed is not None else "")
    elif status in ("failed", "cancelled"):
        word = status + (f" after {_seconds(elapsed)}" if elapsed is not None else "")
    else:
        word = _STATUS_WORDS.get(status, clean(status) or "unknown")
        ahead = getattr(job, "queue_position", None)
        if status == "in_queue" and isinstance(ahead, int):
            word += " (next)" if ahead == 0 else f" (position {ahead + 1})"
        if elapsed is not None:
            word += f" · {_seconds(elapsed)}"
    parts.append(word)
    outputs = list(getattr(job, "outputs", None) or [])
    if outputs:
        parts.append(_count(outputs))
    save_state = str(getattr(job, "save_state", "") or "")
    if save_state and save_state != "saved":  # "saving", "save failed: …" (the auto-save after completion)
        parts.append(clean(save_state, _ERROR_CHARS))
    error = getattr(job, "error", "") or ""
    if error and status in ("failed", "cancelled"):
        parts.append(clean(error, _ERROR_CHARS))
    if getattr(job, "simulator", False):
        parts.append("simulator")
    return " · ".join(parts)


def text_only(shell: Any = None) -> bool:
    """True where only text is shown: no IPython (a script), or an IPython whose display shows no HTML
    (the terminal: its display formatter's active types are text/plain, plus image/png in kitty)."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return True
        shell = get_ipython()
    if shell is None:
        return True
    formatter = getattr(shell, "display_formatter", None)
    return "text/html" not in getattr(formatter, "active_types", ())


class ProgressLine:
    """One terminal line rewritten in place: `update(text)` while waiting, `finish(text)` at the end.

    `mode` "auto" writes only when `stream` is a terminal, "always" writes anyway (`\\r`-separated updates),
    "never" writes nothing. The line is cut to the terminal's width, so it never wraps into a second line that
    `\\r` cannot reach.
    """

    def __init__(self, stream: TextIO | None = None, mode: str = "auto") -> None:
        if mode not in PROGRESS_MODES:
            raise ValueError(f"progress mode must be one of {', '.join(PROGRESS_MODES)}; got {mode!r}")
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = mode == "always" or (mode == "auto" and bool(isatty and isatty()))
        self._last = ""
        self._open = False

    def _width(self) -> int:
        return max(20, shutil.get_terminal_size((80, 24)).columns - 1)

    def _write(self, text: str, end: str = "") -> None:
        line = clean(text, self._width())
        pad = " " * max(0, len(self._last) - len(line))  # blank out what a longer previous line left behind
        self.stream.write(f"\r{line}{pad}{end}")
        self.stream.flush()
        self._last = "" if end else line

    def update(self, text: str) -> None:
        """Show `text` in place of the previous update (nothing when disabled or unchanged)."""
        if not self.enabled or clean(text, self._width()) == self._last:
            return
        self._write(text)
        self._open = True

    def finish(self, text: str | None = None) -> None:
        """End the line: with `text` as its final content, or as it stands; then a newline. Idempotent."""
        if not self.enabled or not (self._open or text):
            return
        self._write(text if text is not None else self._last, end="\n")
        self._open = False

    def __enter__(self) -> ProgressLine:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.finish()


def progress_line(stream: TextIO | None = None) -> ProgressLine:
    """A ProgressLine in the mode `rc.settings.progress` says (env RUNCOMFY_NB_PROGRESS): auto/always/never."""
    return ProgressLine(stream, mode=settings.progress)


def wait_with_progress(wait: Callable[[float], bool], describe: Callable[[], str], *,
                       line: ProgressLine | None = None, interval: float = 0.25) -> None:
    """Call `wait(interval)` until it returns True, showing `describe()` on a progress line in between.

    `wait` is the blocking part (`event.wait`, or `lambda t: not concurrent.futures.wait([f], t).not_done`).
    The line is ended with the final description, and also when the wait raises (an interrupt), so the
    traceback or the next prompt starts on a line of its own.
    """
    line = line or ProgressLine()
    finished = False
    try:
        line.update(describe())
        while not wait(interval):
            line.update(describe())
        finished = True
    finally:
        line.finish(describe() if finished else None)
