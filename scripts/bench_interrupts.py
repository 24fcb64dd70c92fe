"""Benchmark of interrupt promptness in a real kernel: seconds from `interrupt_kernel()` (the ■ button, SIGINT) to
the cell's execute_reply, for `job.wait()` and `await job`, on a queued job (cancelled), a running job (detached)
and a queued job whose cancel the API holds for 3 s (the cancel finishes in the background).
DESIGN.md's target: under a second each. tests/test_interrupts.py checks the behaviour; this prints the figures.

    python scripts/bench_interrupts.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from typing import Any

from jupyter_client.manager import start_new_kernel

from runcomfy_nb import sim

SUBMIT = ('job = rc.Client().submit("wan-ai/wan-2-5/text-to-image", prompt="bench", '
          'aspect_ratio="1024:1024 (1:1)")')
WAITS = {"wait": "job.wait(timeout=120)", "await": "await job"}


def execute(client: Any, code: str, timeout: float = 60) -> dict[str, Any]:
    """Run a cell and return its execute_reply (raising if the cell failed)."""
    reply = client.execute_interactive(code, timeout=timeout, output_hook=lambda msg: None)
    if reply["content"]["status"] != "ok":
        raise RuntimeError("\n".join(reply["content"].get("traceback", [])))
    return reply


def interrupt_seconds(manager: Any, client: Any, code: str) -> float:
    """Start `code`, interrupt it once it is blocked, and time the reply."""
    msg_id = client.execute(code)
    time.sleep(0.5)  # well inside the wait
    started = time.monotonic()
    manager.interrupt_kernel()
    while True:
        reply = client.get_shell_msg(timeout=30)
        if reply["parent_header"].get("msg_id") == msg_id:
            return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    home = tempfile.mkdtemp()
    server = sim.start(port=0, time_scale=0.1, workers=2, make_default=False)
    manager, client = start_new_kernel(kernel_name="python3", env={**os.environ, "RUNCOMFY_NB_HOME": home})
    try:
        execute(client, f"%load_ext runcomfy_nb\nimport runcomfy_nb as rc\nrc.config.set_simulator({server.base_url!r})")
        figures: dict[str, list[float]] = {}
        for _ in range(args.rounds):
            for how, wait in WAITS.items():
                server.configure(paused=True, time_scale=0.1, fail_next={})
                execute(client, SUBMIT)
                figures.setdefault(f"queued job, {how} (cancels)", []).append(interrupt_seconds(manager, client, wait))

                server.configure(paused=False, time_scale=1.5)  # a 4.5 s run
                execute(client, SUBMIT)
                execute(client, 'import time\nwhile job.status != "in_progress": time.sleep(0.02)')
                figures.setdefault(f"running job, {how} (detaches)", []).append(
                    interrupt_seconds(manager, client, wait))

            server.configure(paused=True, fail_next={"cancel": 1}, fail_next_kind="slow",
                             faults={"slow_seconds": 3.0})
            execute(client, SUBMIT)
            figures.setdefault("queued job, await, cancel held 3 s", []).append(
                interrupt_seconds(manager, client, WAITS["await"]))
            execute(client, "import time\nwhile job.status != 'cancelled': time.sleep(0.05)")  # the held cancel lands
            server.configure(paused=False, faults=None, fail_next={})
        print(f"interrupt → execute_reply, {args.rounds} rounds (seconds; target < 1.0):")
        for name, values in figures.items():
            print(f"  {name:38s} median {statistics.median(values):.3f}  max {max(values):.3f}")
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
        server.stop()


if __name__ == "__main__":
    main()
