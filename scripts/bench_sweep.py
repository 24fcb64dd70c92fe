"""Benchmark of a sweep against the simulator: wall time by max_in_flight, the most jobs the server held at once,
and what the SweepView sends to the front end (state messages and bytes per job).

    python scripts/bench_sweep.py [--cells 48] [--workers 4] [--time-scale 0.05]

Prints one line per max_in_flight; then a second run of the same sweep (everything reused: 0 submits).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from typing import Any

from PIL import Image

import runcomfy_nb as rc
from runcomfy_nb import sim
from runcomfy_nb.sweepview import SweepView

MODEL = "blackforestlabs/flux-1-kontext/pro/edit"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cells", type=int, default=48)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--time-scale", type=float, default=0.05)
    args = parser.parse_args()
    os.environ["RUNCOMFY_NB_HOME"] = tempfile.mkdtemp()
    server = sim.start(port=0, time_scale=args.time_scale, workers=args.workers, make_default=False)
    client = rc.Client(token="bench", base_url=server.base_url)
    image = Image.new("RGB", (64, 64), (30, 90, 200))
    prompts = [f"variant {i}" for i in range(args.cells // 4)]
    try:
        for limit in (1, 2, 4, 8):
            server.reset()
            sent: list[int] = []
            started = time.perf_counter()
            sw = client.sweep(MODEL, {"prompt": prompts, "seed": [1, 2, 3, 4], "image_url": image},
                              max_in_flight=limit, fresh=True)
            view = SweepView(sw)
            original = view.send_state

            def counting(key: Any = None, _original: Any = original, _view: Any = view, _sent: Any = sent) -> None:
                _sent.append(len(json.dumps(_view.get_state(key), default=str)))
                _original(key)

            view.send_state = counting  # type: ignore[method-assign]
            sw.wait(timeout=600)
            elapsed = time.perf_counter() - started
            counters = server.counters()
            print(f"max_in_flight={limit}: {len(sw)} jobs in {elapsed:.2f} s, server held at most "
                  f"{counters['max_unfinished']} at once; view sent {len(sent)} state messages "
                  f"({len(sent) / len(sw):.1f}/job), {sum(sent) / 1024:.0f} KiB ({sum(sent) / len(sw) / 1024:.1f} KiB/job)")
        before = server.counters()["submits_received"]  # no reset: that would delete the outputs to reuse
        started = time.perf_counter()
        again = client.sweep(MODEL, {"prompt": prompts, "seed": [1, 2, 3, 4], "image_url": image})
        again.wait(timeout=60)
        print(f"same sweep again: {again.reused}/{len(again)} reused in {time.perf_counter() - started:.2f} s, "
              f"{server.counters()['submits_received'] - before} submits")
    finally:
        client.close()
        server.stop()


if __name__ == "__main__":
    main()
