"""`python -m runcomfy_nb.sim`: serve the simulator in the foreground; the first stdout line is its base URL."""

from __future__ import annotations

import argparse
import json
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m runcomfy_nb.sim",
        description="Offline simulator of the RunComfy Model API. Prints its base URL, then serves until "
                    "Ctrl-C / SIGTERM. Knobs can also be changed live: POST /_sim/config.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 = any free port)")
    parser.add_argument("--time-scale", type=float, default=1.0, help="multiply every run time (default 1.0)")
    parser.add_argument("--workers", type=int, default=2, help="jobs run at once (default 2)")
    parser.add_argument("--token", default=os.environ.get("RUNCOMFY_SIM_TOKEN") or None,
                        help="the only accepted bearer token (default: $RUNCOMFY_SIM_TOKEN, else any non-empty "
                             "token; the variable keeps it out of the process list)")
    parser.add_argument("--knobs", default=None, metavar="JSON",
                        help='more knobs as JSON, e.g. \'{"faults": {"rate": 0.2}, "paused": true}\'')
    args = parser.parse_args(argv)
    knobs = {"time_scale": args.time_scale, "workers": args.workers, "token": args.token}
    if args.knobs:
        try:
            extra = json.loads(args.knobs)
        except ValueError as exc:
            parser.error(f"--knobs is not JSON: {exc}")
        if not isinstance(extra, dict):
            parser.error("--knobs must be a JSON object")
        knobs.update(extra)

    from .knobs import KnobError, Knobs
    from .server import serve

    try:
        Knobs().parse(knobs)
    except KnobError as exc:
        parser.error(str(exc))
    try:
        return serve(args.host, args.port, knobs)
    except ImportError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
