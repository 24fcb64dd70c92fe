"""A real ipykernel driven through jupyter_client, shared by the kernel, restart and interrupt tests."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jupyter_client.manager import start_new_kernel

_MARK = "@@rc-json@@ "


class Kernel:
    """A kernel plus every iopub message it has sent so far."""

    def __init__(self, env: dict[str, str] | None = None, cwd: str | Path | None = None) -> None:
        kwargs: dict[str, Any] = {"env": {**os.environ, **env}} if env else {}
        if cwd is not None:  # the notebook's folder: where its outputs are saved
            kwargs["cwd"] = str(cwd)
        self.manager, self.client = start_new_kernel(kernel_name="python3", **kwargs)
        self.messages: list[dict[str, Any]] = []

    def pump(self, timeout: float = 0.1) -> None:
        try:
            while True:
                self.messages.append(self.client.get_iopub_msg(timeout=timeout))
                timeout = 0.01
        except Exception:  # queue.Empty
            return

    def run(self, code: str, timeout: float = 60) -> dict[str, Any]:
        """Execute and wait for the reply; raises with the traceback if the cell failed."""
        msg_id = self.client.execute(code)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump()
            try:
                reply = self.client.get_shell_msg(timeout=0.05)
            except Exception:
                continue
            if reply["parent_header"].get("msg_id") == msg_id:
                self.pump()
                if reply["content"]["status"] != "ok":
                    raise AssertionError("\n".join(reply["content"].get("traceback", [])))
                return reply
        raise TimeoutError(code)

    def start(self, code: str) -> str:
        return self.client.execute(code)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump()
            if predicate():
                return
        raise TimeoutError("condition not met")

    def job_views(self) -> dict[str, list[dict[str, Any]]]:
        """comm_id -> the JobView states in the order the kernel sent them (open, then each update)."""
        views: dict[str, list[dict[str, Any]]] = {}
        for msg in self.messages:
            content = msg["content"]
            if msg["msg_type"] == "comm_open" and "request_id" in content["data"].get("state", {}) \
                    and "cancellable" in content["data"]["state"]:
                views[content["comm_id"]] = [content["data"]["state"]]
            elif msg["msg_type"] == "comm_msg" and content["comm_id"] in views \
                    and content["data"].get("method") == "update":
                views[content["comm_id"]].append(content["data"]["state"])
        return views

    def latest(self, comm_id: str) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for state in self.job_views()[comm_id]:
            merged.update(state)
        return merged

    def send_custom(self, comm_id: str, content: dict[str, Any]) -> None:
        msg = self.client.session.msg("comm_msg", {"comm_id": comm_id, "data": {"method": "custom", "content": content}})
        self.client.shell_channel.send(msg)

    def stop(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)

    # --- used by the restart and interrupt tests ---------------------------------------------------------------

    @property
    def pid(self) -> int:
        return self.manager.provisioner.process.pid  # type: ignore[union-attr]

    def kill(self) -> None:
        """SIGKILL the kernel process (no atexit, no finally: like an OOM kill or a crashed machine)."""
        os.kill(self.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while self.manager.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not self.manager.is_alive()

    def reply(self, msg_id: str, timeout: float = 60) -> dict[str, Any]:
        """The execute_reply of a cell started with `start` (whatever its status)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                reply = self.client.get_shell_msg(timeout=0.01)
            except Exception:
                self.pump(0.01)
                continue
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply
        raise TimeoutError(f"no reply to {msg_id} in {timeout} s")

    def idle(self, msg_id: str, timeout: float = 30) -> None:
        """Wait until the kernel went idle after that cell (all of its output has arrived)."""
        self.wait_for(lambda: any(m["msg_type"] == "status" and m["content"]["execution_state"] == "idle"
                                  and m["parent_header"].get("msg_id") == msg_id for m in self.messages), timeout)

    def busy(self, msg_id: str, timeout: float = 30) -> None:
        """Wait until the kernel started executing that cell."""
        self.wait_for(lambda: any(m["msg_type"] == "status" and m["content"]["execution_state"] == "busy"
                                  and m["parent_header"].get("msg_id") == msg_id for m in self.messages), timeout)

    def stream(self, msg_id: str) -> str:
        """Everything the cell printed (stdout and stderr)."""
        return "".join(m["content"]["text"] for m in self.messages
                       if m["msg_type"] == "stream" and m["parent_header"].get("msg_id") == msg_id)

    def json(self, expr: str, timeout: float = 60) -> Any:
        """The value of a JSON-able expression evaluated in the kernel."""
        reply = self.run(f"import json as _rc_json\nprint({_MARK!r} + _rc_json.dumps({expr}))", timeout)
        msg_id = reply["parent_header"]["msg_id"]
        self.idle(msg_id)
        line = next(line for line in self.stream(msg_id).split("\n") if line.startswith(_MARK))
        return json.loads(line[len(_MARK):])


def runcomfy_kernel(sim_url: str, home: str | Path, env: dict[str, str] | None = None) -> Kernel:
    """A kernel with the extension loaded, its journal in `home`, talking to the simulator the test runs."""
    kernel = Kernel(env={"RUNCOMFY_NB_HOME": str(home), **(env or {})}, cwd=Path(home).parent)
    kernel.run(f"""
%load_ext runcomfy_nb
import runcomfy_nb as rc, os
os.environ["RUNCOMFY_NB_HOME"] = {str(home)!r}
rc.config.set_simulator({sim_url!r})  # as `%runcomfy sim on` does, for a simulator this test runs
""")
    return kernel
