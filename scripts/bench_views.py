"""Views benchmark (issue #12): what one run's change costs a form with many runs, and one cell's change a sweep
grid with many cells: bytes over the widget's comm, and the kernel-side time on the loop thread.

    PYTHONPATH=$PWD python scripts/bench_views.py [--quick] [--runs 100 1000] [--changes 20]

A simulator subprocess (instant runs) completes every run first; then `--changes` runs (or cells) change one at a
time (a note appears on the run; an error text on the cell) and the script prints, per change: the bytes the comm
carried (the ipywidgets comm is real, its wire is recorded), the kernel-side ms, and for comparison the bytes of
the whole list (what every change sent before item messages). The form's saved copy is rebuilt only when a tile
in it changes, at most every modelform.COPY_EVERY_S while runs are going; its size and build time are printed too.
`--quick`: 20 runs, 5 changes: checks the script works, not the figures. Prints the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import comm
from comm.base_comm import BaseComm

import runcomfy_nb as rc
from runcomfy_nb._loop import run_sync

FORM_MODEL = "bytedance/dreamina-4-0/text-to-image"
SWEEP_MODEL = "blackforestlabs/flux-1-kontext/pro/edit"


class RecordingComm(BaseComm):
    """The widgets' comm with its wire recorded: bytes of each message's data as JSON."""

    def __init__(self, **kwargs: Any) -> None:
        self.sizes: list[int] = []
        super().__init__(**kwargs)

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None,
                    **keys: Any) -> None:
        self.sizes.append(len(json.dumps(data, default=str)))


def start_sim() -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen([sys.executable, "-m", "runcomfy_nb.sim", "--port", "0", "--knobs",
                               json.dumps({"time_scale": 0, "workers": 64, "max_queue": 5000})],
                              stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    return server, server.stdout.readline().strip()


async def timed(change: Any) -> float:
    """Run one change on the loop thread (its listeners run inside), then let coalesced updates go out."""
    start = time.perf_counter()
    change()
    await asyncio.sleep(0)  # a sweep's coalesced update runs in the next loop iteration
    await asyncio.sleep(0)
    return (time.perf_counter() - start) * 1000


def per_change(widget: Any, changes: list[Any]) -> tuple[float, float]:
    """Median bytes and ms over the changes."""
    sizes, times = [], []
    for change in changes:
        before = len(widget.comm.sizes)
        times.append(run_sync(timed(change), timeout=60))
        sizes.append(sum(widget.comm.sizes[before:]))
    return statistics.median(sizes), statistics.median(times)


def bench_form(client: rc.Client, runs: int, count: int) -> str:
    form = rc.form(FORM_MODEL, client=client)
    jobs = []
    for n in range(runs):
        form.values = {**form.values, "prompt": f"a paper crane number {n}"}
        jobs.append(form.submit())
    for job in jobs:
        job.wait(timeout=600)
    picked = [jobs[(i * 7919) % runs] for i in range(count)]
    changes = [lambda job=job, i=i: job._set(cancel_note=f"note {i}") for i, job in enumerate(picked)]
    size, ms = per_change(form, changes)
    whole = len(json.dumps(form.history, default=str))
    start = time.perf_counter()
    copy = len(json.dumps(form._fallback_bundle()))
    copy_ms = (time.perf_counter() - start) * 1000
    return (f"form, {runs} runs: one run changes → {size / 1024:.1f} KB over the comm, {ms:.2f} ms on the loop "
            f"(the whole list: {whole / 1024:.0f} KB); saved copy when a tile changes: {copy / 1024:.0f} KB, "
            f"{copy_ms:.1f} ms, at most every 2 s while runs go")


def bench_sweep(client: rc.Client, cells: int, count: int) -> str:
    from PIL import Image

    from runcomfy_nb.sweepview import SweepView

    sweep = client.sweep(SWEEP_MODEL, {"prompt": "p", "seed": list(range(cells)),
                                       "image_url": Image.new("RGB", (16, 16), (200, 30, 30))})
    sweep.wait(timeout=600)
    view = SweepView(sweep)
    picked = [sweep.cells[(i * 7919) % cells] for i in range(count)]
    changes = [lambda cell=cell, i=i: cell.job._set(error=f"error {i}") for i, cell in enumerate(picked)]
    size, ms = per_change(view, changes)
    whole = len(json.dumps(view.cells, default=str))
    return (f"sweep, {cells} cells: one cell changes → {size / 1024:.1f} KB over the comm, {ms:.2f} ms on the loop "
            f"(the whole list: {whole / 1024:.0f} KB)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--changes", type=int, default=20)
    args = parser.parse_args(argv)
    sizes, count = ([20], 5) if args.quick else (args.runs, args.changes)
    os.environ["RUNCOMFY_NB_HOME"] = tempfile.mkdtemp()
    comm.create_comm = RecordingComm  # type: ignore[assignment]
    print(f"load average before: {os.getloadavg()}, {os.cpu_count()} CPUs", flush=True)
    server, url = start_sim()
    try:
        for n in sizes:
            client = rc.Client(token="bench", base_url=url)
            try:
                print(bench_form(client, n, count), flush=True)
                print(bench_sweep(client, n, count), flush=True)
            finally:
                client.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"load average after: {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
