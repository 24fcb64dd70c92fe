"""A real ipykernel driven through jupyter_client: %runcomfy → JobView comm updates in order while another
cell blocks; a cancel comm message on a queued job cancels it; on a running job it reports not cancellable."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from kernel_helpers import Kernel, runcomfy_kernel

pytestmark = pytest.mark.kernel


@pytest.fixture
def kernel(sim: Any, isolated_home: Any) -> Iterator[Kernel]:
    k = runcomfy_kernel(sim.base_url, isolated_home)
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
    kernel.wait_for(lambda: kernel.latest(comm_id).get("queue_position") == 0, timeout=30)
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
    # saved beside the notebook by default: the copy embeds the thumbnail and links the local copy, not the URL
    assert "completed" in final_copy["data"]["text/html"] and final["outputs"][0]["local"] in final_copy["data"]["text/html"]
    assert final["outputs"][0]["thumb"]["src"] in final_copy["data"]["text/html"]


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
