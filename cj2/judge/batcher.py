"""Jobs from concurrent HTTP requests gathered into backend batches, one batch at a time.

An in-process model judges fastest in batches but can run only one at a time. Requests put
their jobs on a queue; one worker thread takes the first waiting job, waits up to ``max_wait_s``
for more (at most ``max_batch``), judges the batch and hands each result back to the event loop
of the request that asked. A job whose deadline has passed, or whose request gave up, is not
judged; an exception from the backend becomes that batch's jobs' error, and the worker goes on.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable

from cj2.judge.jobs import TIMED_OUT, Job, Judgment

_STOP = object()


class Batcher:
    def __init__(self, judge_batch: Callable[[list[Job]], list[Judgment]], max_batch: int, max_wait_s: float):
        self.judge_batch = judge_batch
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self._queue: queue.Queue = queue.Queue()
        self._worker = threading.Thread(target=self._work, name="cj2-judge-batcher", daemon=True)
        self._worker.start()

    async def run(self, jobs: list[Job]) -> list[Judgment]:
        """One judgment per job, in order."""
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in jobs]
        for job, future in zip(jobs, futures, strict=True):
            self._queue.put((job, loop, future))
        return list(await asyncio.gather(*futures))

    def close(self) -> None:
        self._queue.put(_STOP)
        self._worker.join()

    def _next_batch(self) -> list | None:
        first = self._queue.get()
        if first is _STOP:
            return None
        batch = [first]
        until = time.monotonic() + self.max_wait_s
        while len(batch) < self.max_batch:
            try:
                item = self._queue.get(timeout=max(0.0, until - time.monotonic()))
            except queue.Empty:
                break
            if item is _STOP:
                self._queue.put(_STOP)  # finish this batch, then stop
                break
            batch.append(item)
        return batch

    def _work(self) -> None:
        while (batch := self._next_batch()) is not None:
            live = []
            for job, loop, future in batch:
                if future.cancelled():
                    continue
                if job.expired():
                    _answer(loop, future, Judgment(error=TIMED_OUT))
                else:
                    live.append((job, loop, future))
            if not live:
                continue
            try:
                judgments = self.judge_batch([job for job, _, _ in live])
            except Exception as error:  # noqa: BLE001 -- one batch's failure is its jobs' error, not the service's end
                judgments = [Judgment(error=f"the judge failed on this batch: {error!r}")] * len(live)
            for (_, loop, future), judgment in zip(live, judgments, strict=True):
                _answer(loop, future, judgment)


def _answer(loop: asyncio.AbstractEventLoop, future: asyncio.Future, judgment: Judgment) -> None:
    def settle() -> None:
        if not future.done():
            future.set_result(judgment)

    loop.call_soon_threadsafe(settle)
