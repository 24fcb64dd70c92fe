"""Jobs, the FIFO queue in front of the workers, outputs on disk, and the counters.

Everything here runs on the simulator's event loop thread (the HTTP handlers and `Simulator` both go through
it); only media rendering runs in worker threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import shutil
import tempfile
import time
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from . import media
from .catalog import Catalog, video_timing
from .faults import FaultInjector
from .inputs import Fetcher, resolve_media
from .knobs import Knobs
from .util import body_sha256, iso, utcnow

log = logging.getLogger("runcomfy_nb.sim")

REQUEST_KEYS = ("POST submit", "GET status", "GET result", "POST cancel", "GET catalog", "GET media", "HEAD media")
#: Internal job states (the /result vocabulary) and what /status shows for each.
STATUS_VIEW = {"in_queue": "in_queue", "in_progress": "in_progress", "succeeded": "completed",
               "failed": "completed", "cancelled": "cancelled"}


@dataclass
class OutputFile:
    name: str
    media_type: str
    path: Path
    created: float  # time.monotonic()
    expired: bool = False


@dataclass
class Job:
    request_id: str
    model_id: str
    kind: str
    inputs: dict[str, Any]  # as received
    effective: dict[str, Any]  # with the schema's defaults (and a server-picked seed)
    inputs_sha256: str
    seed: int
    created_at: datetime = field(default_factory=utcnow)
    status: str = "in_queue"
    started_at: datetime | None = None
    finished_at: datetime | None = None
    worker: int | None = None
    outputs: list[OutputFile] = field(default_factory=list)
    error: list[dict[str, Any]] | None = None
    cost: float = 0.0

    def public(self) -> dict[str, Any]:
        return {"request_id": self.request_id, "model_id": self.model_id, "status": self.status,
                "inputs_sha256": self.inputs_sha256, "created_at": iso(self.created_at),
                "started_at": iso(self.started_at), "finished_at": iso(self.finished_at)}


class Counters:
    def __init__(self) -> None:
        self.submits_received = 0
        self.submits_accepted = 0
        self.requests: dict[str, int] = dict.fromkeys(REQUEST_KEYS, 0)
        self.cancels: dict[str, int] = {"cancelled": 0, "not_cancellable": 0}
        self.faults: dict[str, int] = {}
        self.bodies: dict[str, int] = {}
        self.max_unfinished = 0  # the most jobs queued or running at once (tests of bounded concurrency)

    def snapshot(self, jobs: dict[str, Job]) -> dict[str, Any]:
        by_status: dict[str, int] = {}
        for job in jobs.values():
            by_status[job.status] = by_status.get(job.status, 0) + 1
        return {"submits_received": self.submits_received, "submits_accepted": self.submits_accepted,
                "requests": dict(self.requests), "cancels": dict(self.cancels), "faults": dict(self.faults),
                "jobs": by_status, "bodies": dict(self.bodies),
                "max_unfinished": self.max_unfinished}


class _RequestedFailure(Exception):
    pass


class Engine:
    def __init__(self, knobs: Knobs, catalog: Catalog | None = None) -> None:
        self.knobs = knobs
        self.catalog = catalog or Catalog()
        self.counters = Counters()
        self.faults = FaultInjector(knobs)
        self.jobs: dict[str, Job] = {}
        self.queue: deque[Job] = deque()
        self.running: dict[str, asyncio.Task[None]] = {}
        self._busy_slots: set[int] = set()
        self._generation = 0
        self._executor: ThreadPoolExecutor | None = None
        self._fetcher = Fetcher()
        self._root: Path | None = None

    # --- lifecycle --------------------------------------------------------------------------------------

    @property
    def media_root(self) -> Path:
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="runcomfy-sim-"))
        return self._root

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="runcomfy-sim-render")
        return self._executor

    async def shutdown(self) -> None:
        self._cancel_all()
        await self._fetcher.aclose()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        self.remove_files()

    def remove_files(self) -> None:
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def _cancel_all(self) -> None:
        self._generation += 1
        for task in self.running.values():
            task.cancel()
        self.running.clear()
        self._busy_slots.clear()

    def reset(self) -> None:
        """Forget every job and output, zero the counters; the knobs stay as they are."""
        self._cancel_all()
        self.queue.clear()
        self.jobs.clear()
        self.counters = Counters()
        self.faults.reseed()
        self.remove_files()

    def configure(self, parsed: dict[str, Any]) -> None:
        self.knobs.apply(parsed)
        if "faults" in parsed:
            self.faults.reseed()
        self.dispatch()

    # --- jobs -------------------------------------------------------------------------------------------

    def queue_full(self) -> bool:
        return self.knobs.max_queue is not None and len(self.queue) >= self.knobs.max_queue

    def submit(self, model_id: str, inputs: dict[str, Any], effective: dict[str, Any]) -> Job:
        entry = self.catalog.get(model_id)
        assert entry is not None
        seed = media.seed_of(effective)
        if seed is None:
            seed = random.randrange(2**31)
        job = Job(request_id=uuid.uuid4().hex, model_id=model_id, kind=entry["kind"], inputs=inputs,
                  effective=effective, inputs_sha256=body_sha256(inputs), seed=seed)
        self.jobs[job.request_id] = job
        self.queue.append(job)
        self.counters.submits_accepted += 1
        self.counters.max_unfinished = max(self.counters.max_unfinished, len(self.queue) + len(self.running))
        self.dispatch()
        return job

    def queue_position(self, job: Job) -> int | None:
        if job.status != "in_queue":
            return None
        for index, queued in enumerate(self.queue):
            if queued is job:
                return index
        return None

    def cancel(self, job: Job) -> str:
        if job.status == "in_queue":
            with contextlib.suppress(ValueError):
                self.queue.remove(job)
            job.status = "cancelled"
            job.finished_at = utcnow()
            outcome = "cancelled"
        else:
            outcome = "not_cancellable"
        self.counters.cancels[outcome] += 1
        return outcome

    def dispatch(self) -> None:
        """Hand queued jobs to free workers, oldest first (nothing while paused)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not serving (stopped): nothing can run
            return
        while not self.knobs.paused and self.queue and len(self.running) < self.knobs.workers:
            job = self.queue.popleft()
            slot = next(i for i in range(len(self._busy_slots) + 1) if i not in self._busy_slots)
            self._busy_slots.add(slot)
            job.status = "in_progress"
            job.started_at = utcnow()
            job.worker = slot
            self.running[job.request_id] = loop.create_task(
                self._run(job, self._generation), name=f"runcomfy-sim-job-{job.request_id}")

    async def _run(self, job: Job, generation: int) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        run_time = self.knobs.run_time(job.model_id, job.kind)
        try:
            spec = await self._prepare(job)
            if media.wants_failure(job.effective):
                await asyncio.sleep(run_time)
                raise _RequestedFailure
            out_dir = self.media_root / job.request_id
            rendering = loop.run_in_executor(self._pool(), media.render, spec, out_dir)
            try:
                await asyncio.sleep(max(0.0, run_time - (loop.time() - started)))
                made = await rendering
            except asyncio.CancelledError:
                rendering.cancel()
                raise
            now = time.monotonic()
            job.outputs = [OutputFile(name, mime, out_dir / name, now) for name, mime in made]
            entry = self.catalog.get(job.model_id) or {"price_unit": "image", "base_price_usd": 0.0}
            job.cost = Catalog.cost(entry, job.effective, len(made))
            self._finish(job, "succeeded")
        except asyncio.CancelledError:
            raise
        except _RequestedFailure:
            self._fail(job, "SIM_REQUESTED_FAILURE",
                       "The job failed on purpose: an input contains 'sim:fail' (simulator fail-on-demand).",
                       {"model_id": job.model_id, "simulator": True})
        except media.MediaError as exc:
            self._fail(job, "INPUT_MEDIA_ERROR", str(exc), {"field": exc.field, "model_id": job.model_id})
        except Exception as exc:  # a bug in the simulator: the job fails, readably, and the server goes on
            log.exception("simulator job %s crashed", job.request_id)
            self._fail(job, "INTERNAL_ERROR", f"{type(exc).__name__}: {exc}", {"model_id": job.model_id})
        finally:
            if generation == self._generation:
                self.running.pop(job.request_id, None)
                if job.worker is not None:
                    self._busy_slots.discard(job.worker)
                self.dispatch()

    async def _prepare(self, job: Job) -> media.RenderSpec:
        entry = self.catalog.get(job.model_id) or {}
        from ..schemas import media_fields

        fields = media_fields(entry.get("input_schema") or {})
        source: media.MediaInput | None = None
        for key, kind in fields.items():
            if key not in job.effective:
                continue
            resolved = await resolve_media(self._fetcher, key, kind, job.effective[key])
            if source is None and kind == "image":
                source = resolved
        prompt = media.prompt_of(job.effective)
        if job.kind == "video":
            mode = "video"
        elif source is None:
            mode = "text-to-image"
        elif "reframe" in job.model_id or not prompt.strip():
            mode = "reframe"
        else:
            mode = "edit"
        frames, fps = video_timing(job.effective)
        size = media.target_size(job.effective, default=(720, 480) if mode == "video" else (1024, 1024))
        return media.RenderSpec(job.model_id, mode, prompt, job.seed, size, count=media.image_count(prompt),
                                frames=frames, fps=fps, source=source)

    def _finish(self, job: Job, status: str) -> None:
        job.status = status
        job.finished_at = utcnow()

    def _fail(self, job: Job, code: str, message: str, debug: dict[str, Any]) -> None:
        job.error = [{"errorCode": code, "error": message, "debugInfo": debug}]
        self._finish(job, "failed")

    # --- outputs ----------------------------------------------------------------------------------------

    def output(self, request_id: str, name: str) -> tuple[OutputFile | None, bool]:
        """(the output, expired?) — (None, False) when there is no such output."""
        job = self.jobs.get(request_id)
        if job is None:
            return None, False
        for out in job.outputs:
            if out.name == name:
                ttl = self.knobs.output_ttl
                if not out.expired and ttl is not None and time.monotonic() - out.created > ttl:
                    self._expire(out)
                return out, out.expired
        return None, False

    def expire_all(self) -> int:
        count = 0
        for job in self.jobs.values():
            for out in job.outputs:
                if not out.expired:
                    self._expire(out)
                    count += 1
        return count

    @staticmethod
    def _expire(out: OutputFile) -> None:
        out.expired = True
        with contextlib.suppress(OSError):
            out.path.unlink()

    # --- views ------------------------------------------------------------------------------------------

    def counters_snapshot(self) -> dict[str, Any]:
        return self.counters.snapshot(self.jobs)

    def jobs_list(self) -> list[dict[str, Any]]:
        return [job.public() for job in self.jobs.values()]
