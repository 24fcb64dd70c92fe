"""Benchmark: the first `%runcomfy` in a fresh Jupyter kernel (DESIGN.md target: ≤ 300 ms of local work).

    python scripts/bench_first_call.py [--repo PATH] [--runs 3]

Starts the simulator in its own process (its imports must not warm the kernel), then, for each run, a fresh
ipykernel that loads the extension and times its first `%runcomfy` (validation, submit, the returned Job) and a
second one. The same two requests the first call makes (catalog entry and submit) are then timed with a plain
httpx client in that kernel: their time is the HTTP round trip; the rest is local work (imports, schema checks,
widget). `--repo /work/main` measures another checkout (e.g. the code before a change). Prints figures only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from jupyter_client.manager import start_new_kernel

MODEL = "wan-ai/wan-2-5/text-to-image"
CELL = f'''
import time as _t
_t0 = _t.perf_counter()
_job = get_ipython().run_line_magic("runcomfy", '{MODEL} prompt="a red fox at dawn";')
_first = _t.perf_counter() - _t0
_t0 = _t.perf_counter()
get_ipython().run_line_magic("runcomfy", '{MODEL} prompt="a grey fox at dusk";')
_second = _t.perf_counter() - _t0
import httpx, os
_base, _headers = os.environ["RUNCOMFY_API_BASE"], {{"Authorization": "Bearer " + os.environ["RUNCOMFY_API_TOKEN"]}}
_t0 = _t.perf_counter()
with httpx.Client(headers=_headers) as _c:
    _c.get(_base + "/v1/models/{MODEL}")
    _c.post(_base + "/v1/models/{MODEL}", json=dict(prompt="round trip"))
_http = _t.perf_counter() - _t0
print("FIGURES", _first, _second, _http, _job.request_id)
'''


def run_kernel(repo: Path, env: dict[str, str]) -> tuple[float, float, float, float]:
    """(load_ext, first call, second call, http round trips) in seconds, from one fresh kernel."""
    old = dict(os.environ)
    os.environ.update(env)
    try:
        manager, client = start_new_kernel(kernel_name="python3", cwd=str(repo))
    finally:
        os.environ.clear()
        os.environ.update(old)
    try:
        out: list[str] = []

        def keep(msg: dict) -> None:
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                out.append("\n".join(msg["content"]["traceback"]))

        code = "import time as _t\n_t0 = _t.perf_counter()\nget_ipython().run_line_magic('load_ext', 'runcomfy_nb')\n" \
               "print('LOADEXT', _t.perf_counter() - _t0)"
        client.execute_interactive(code, output_hook=keep, timeout=120)
        client.execute_interactive(CELL, output_hook=keep, timeout=120)
        text = "".join(out)
        load = float(text.split("LOADEXT", 1)[1].split()[0])
        first, second, http = (float(x) for x in text.split("FIGURES", 1)[1].split()[:3])
        return load, first, second, http
    except (IndexError, ValueError):
        raise SystemExit("the kernel did not print its figures:\n" + "".join(out)) from None
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="the checkout whose runcomfy_nb is measured (default: this one)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    repo = args.repo.resolve()
    sim = subprocess.Popen([sys.executable, "-m", "runcomfy_nb.sim", "--port", "0", "--time-scale", "0.2"],
                           stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(repo),
                                                                    "RUNCOMFY_SIM_TOKEN": "bench-token"})
    try:
        base = sim.stdout.readline().strip()
        env = {"PYTHONPATH": str(repo), "RUNCOMFY_API_BASE": base, "RUNCOMFY_API_TOKEN": "bench-token",
               "RUNCOMFY_NB_HOME": tempfile.mkdtemp(prefix="rcnb-bench-")}
        rows = [run_kernel(repo, env) for _ in range(args.runs)]
    finally:
        sim.terminate()
        sim.wait(timeout=20)
    print(f"code: {repo}  ({args.runs} fresh kernels, simulator on loopback)")
    names = ("%load_ext", "first %runcomfy", "second %runcomfy", "its 2 HTTP requests", "first: local work")
    for i, name in enumerate(names):
        values = [r[i] if i < 4 else r[1] - r[3] for r in rows]
        print(f"  {name:<22} median {statistics.median(values) * 1000:7.0f} ms   "
              f"runs: {', '.join(f'{v * 1000:.0f}' for v in values)}")


if __name__ == "__main__":
    main()
