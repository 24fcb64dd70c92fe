"""A real ipykernel driven through jupyter_client: %runcomfy → JobView comm updates in order while another
cell blocks; a cancel comm message on a queued job cancels it; on a running job it reports not cancellable."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from jupyter_client.manager import start_new_kernel

pytestmark = pytest.mark.kernel


class Kernel:
    """A kernel plus every iopub message it has sent so far."""

    def __init__(self) -> None:
        self.manager, self.client = start_new_kernel(kernel_name="python3")
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


@pytest.fixture
def kernel(sim: Any, isolated_home: Any) -> Iterator[Kernel]:
    k = Kernel()
    k.run(f"""
%load_ext runcomfy_nb
import runcomfy_nb as rc, os
os.environ["RUNCOMFY_NB_HOME"] = {str(isolated_home)!r}
rc.config.set_simulator({sim.base_url!r})  # as `%runcomfy sim on` does, for a simulator this test runs
""")
    yield k
    k.stop()


def statuses(states: list[dict[str, Any]]) -> list[str]:
    seen: list[str] = []
    for state in states:
        if "status" in state and (not seen or seen[-1] != state["status"]):
            seen.append(state["status"])
    return seen


def test_magic_streams_states_while_another_cell_blocks(kernel: Kernel, sim: Any) -> None:
    sim.configure(time_scale=0.6, paused=True)  # held in the queue until the blocking cell runs
    kernel.run('job = %runcomfy wan-ai/wan-2-5/text-to-image prompt="a fox" aspect_ratio="1024:1024 (1:1)"')
    (comm_id,) = kernel.job_views()
    assert kernel.job_views()[comm_id][0]["status"] == "in_queue"  # the comm opens with the real state
    kernel.wait_for(lambda: kernel.latest(comm_id).get("queue_position") == 0, timeout=5)
    started = time.monotonic()
    msg_id = kernel.start("import time; time.sleep(5)")
    sim.configure(paused=False)  # a 1.8 s job runs entirely while the kernel sleeps
    kernel.wait_for(lambda: any(m["msg_type"] == "status" and m["content"]["execution_state"] == "idle"
                                and m["parent_header"].get("msg_id") == msg_id for m in kernel.messages), timeout=30)
    assert time.monotonic() - started >= 5
    states = kernel.job_views()[comm_id]
    assert statuses(states) == ["in_queue", "in_progress", "completed"]
    final = kernel.latest(comm_id)
    assert final["status"] == "completed" and len(final["outputs"]) == 1
    assert final["outputs"][0]["url"].startswith(sim.base_url) and final["simulator"] is True
    assert final["finished_at"] >= final["started_at"] >= final["submitted_at"]
    # Every state update arrived before the sleeping cell went idle, i.e. while it blocked.
    idle_at = next(i for i, m in enumerate(kernel.messages) if m["msg_type"] == "status"
                   and m["content"]["execution_state"] == "idle" and m["parent_header"].get("msg_id") == msg_id)
    completed_at = next(i for i, m in enumerate(kernel.messages) if m["msg_type"] == "comm_msg"
                        and m["content"]["data"].get("state", {}).get("status") == "completed")
    assert completed_at < idle_at
    assert len(states) <= 10  # only real state changes travel, not a message per poll
    # The cell showed the live view of that very comm, then a static copy that was updated when the job ended.
    shown = [m["content"] for m in kernel.messages if m["msg_type"] in ("display_data", "update_display_data")]
    assert shown[0]["data"]["application/vnd.jupyter.widget-view+json"]["model_id"] == comm_id
    assert "rcnb-static" in shown[1]["data"]["text/html"] and shown[1]["transient"]["display_id"]
    final_copy = [c for c in shown if c.get("transient", {}).get("display_id") == shown[1]["transient"]["display_id"]][-1]
    assert "completed" in final_copy["data"]["text/html"] and final["outputs"][0]["url"] in final_copy["data"]["text/html"]


def test_cancel_message_on_a_queued_job(kernel: Kernel, sim: Any) -> None:
    sim.configure(paused=True)
    kernel.run('job = %runcomfy wan-ai/wan-2-5/text-to-image prompt="queued" aspect_ratio="1024:1024 (1:1)"')
    (comm_id,) = kernel.job_views()
    kernel.wait_for(lambda: kernel.latest(comm_id).get("status") == "in_queue")
    assert kernel.latest(comm_id)["cancellable"] is True
    kernel.send_custom(comm_id, {"type": "cancel"})
    kernel.wait_for(lambda: kernel.latest(comm_id).get("status") == "cancelled")
    assert kernel.latest(comm_id)["cancellable"] is False
    assert sim.counters()["cancels"]["cancelled"] == 1
    (job,) = sim.jobs()
    assert job["status"] == "cancelled"
    kernel.run("assert job.status == 'cancelled', job")


def test_cancel_message_on_a_running_job_says_not_cancellable(kernel: Kernel, sim: Any) -> None:
    sim.configure(time_scale=2.0)  # 6 s: long enough to click
    kernel.run('job = %runcomfy wan-ai/wan-2-5/text-to-image prompt="running" aspect_ratio="1024:1024 (1:1)"')
    (comm_id,) = kernel.job_views()
    kernel.wait_for(lambda: kernel.latest(comm_id).get("status") == "in_progress")
    kernel.send_custom(comm_id, {"type": "cancel"})
    kernel.wait_for(lambda: kernel.latest(comm_id).get("cancel_note", "") != "")
    assert kernel.latest(comm_id)["cancel_note"] == "not cancellable — already running"
    assert sim.counters()["cancels"] == {"cancelled": 0, "not_cancellable": 1}
    kernel.wait_for(lambda: kernel.latest(comm_id).get("status") == "completed", timeout=30)
