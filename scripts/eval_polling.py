"""The polling policy against fixed-interval loops in virtual time (no clock, no network, seeded workloads):
fixed 3 / 10 / 30 s, uniform 2-40 s, a busy queue of 15 in front of one worker, run time by input class.

    python scripts/eval_polling.py [--seed 1] [--scale 1]

Prints median and p90 lag of in_queue → in_progress and in_progress → completed, and status requests per job,
for runcomfy_nb's PollingPolicy and loops asking every 0.1, 0.5, 1 and 2 s (runcomfy_nb/polling_eval.py).
tests/test_polling.py asserts the issue's targets on the same workloads; scripts/bench_polling.py measures the
real thing against the simulator.
"""

from __future__ import annotations

import argparse

from runcomfy_nb import polling_eval


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=int, default=1, help="multiply the job counts")
    args = parser.parse_args(argv)
    results = {s.name: polling_eval.compare(s) for s in polling_eval.scenarios(args.seed, args.scale)}
    print(polling_eval.table(results))


if __name__ == "__main__":
    main()
