"""Run the fault suite outside pytest and print its figures (the same code as tests/test_faults.py).

    python scripts/fault_figures.py [--waves 3] [--per-wave 100] [--seed 5] [--out test-artifacts/fault_figures.json]

Starts its own simulator and a throw-away journal; exits non-zero if any of the suite's assertions fails.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waves", type=int, default=3)
    parser.add_argument("--per-wave", type=int, default=100)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "test-artifacts" / "fault_figures.json")
    args = parser.parse_args()

    os.environ["RUNCOMFY_NB_HOME"] = tempfile.mkdtemp(prefix="rcnb-faults-")  # before runcomfy_nb reads it
    sys.path.insert(0, str(ROOT / "tests"))
    import test_faults as suite  # noqa: E402  (the test module is the single source of the suite)

    from runcomfy_nb.sim import Simulator

    with Simulator() as sim:
        client = suite.make_client(sim.base_url)
        try:
            figures = suite.run_fault_suite(sim, client, waves=args.waves, per_wave=args.per_wave, seed=args.seed)
        finally:
            client.close()
    suite.report(figures, args.out.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
