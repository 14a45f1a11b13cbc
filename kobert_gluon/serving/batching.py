"""Dynamic batching: requests wait in one bounded queue; one thread forms batches and runs the model.

A request is a :class:`Job`: its kind (which runner computes it: ``predict``, ``ner``...), its rows (the inputs)
and each row's length in tokens. The batcher thread takes the first job waiting, then gathers more for at most
``max_delay_s`` or until ``max_batch_size`` rows are waiting (Triton's ``max_queue_delay_microseconds``), sorts the
rows of each kind by length and cuts them into batches of at most ``max_batch_size`` rows (rows of similar length
pad little), and hands every job its own rows back through its future. One thread computes, so the event loop
never waits on the model and the model is never called from two threads at once.

The delay is waited only while requests overlap: when the last batch held one request and none arrived while it was
computed (one client, or a quiet server), the next request is computed at once instead of waiting ``max_delay_s``
for company that is not coming (measured in benchmarks/bench_serve.py: one client's latency is then batch-1 mode's).

A batch that fails is run again one job at a time, so a request's bad row fails that request alone. Plain Python,
no web framework: the server (:mod:`.app`) submits jobs and awaits their futures.
"""
import concurrent.futures
import logging
import queue
import threading
import time
from typing import Callable, Dict, List, Optional, Sequence

__all__ = ['Job', 'Batcher', 'QueueFull']

log = logging.getLogger(__name__)
_STOP = object()


class QueueFull(Exception):
    """The queue holds ``max_queue`` requests already; the caller should come back later."""


class Job:
    __slots__ = ('kind', 'rows', 'lengths', 'future', 'results', 'done_rows')

    def __init__(self, kind: str, rows: Sequence, lengths: Sequence[int]):
        self.kind = kind
        self.rows = list(rows)
        self.lengths = list(lengths)
        self.future = concurrent.futures.Future()
        self.results = [None] * len(self.rows)
        self.done_rows = 0


class Batcher:
    """``runners[kind](rows) -> results`` (one result per row, in order) computed on one thread.

    ``on_batch(kind, rows, tokens)`` is told of every batch run (the metrics)."""

    def __init__(self, runners: Dict[str, Callable[[List], List]], max_batch_size: int = 32,
                 max_delay_s: float = 0.005, max_queue: int = 1024,
                 on_batch: Optional[Callable[[str, int, int], None]] = None):
        self.runners = runners
        self.max_batch_size = max_batch_size
        self.max_delay_s = max_delay_s
        self.on_batch = on_batch
        self._queue = queue.Queue(maxsize=max_queue)
        self._thread = None
        self._submitted = 0  # jobs ever submitted: did any arrive while a batch was computed?

    @property
    def depth(self) -> int:
        """Requests waiting (not the batch being computed)."""
        return self._queue.qsize()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name='kobert-gluon-batcher', daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Finish every job already queued, then end the thread (the server stops accepting first)."""
        if self._thread is None:
            return
        self._queue.put(_STOP)  # blocking: a full queue drains, since the thread keeps taking jobs
        self._thread.join()
        self._thread = None

    def submit(self, kind: str, rows: Sequence, lengths: Sequence[int]) -> concurrent.futures.Future:
        if kind not in self.runners:
            raise KeyError(kind)
        job = Job(kind, rows, lengths)
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            raise QueueFull() from None
        self._submitted += 1
        return job.future

    def run_now(self, kind: str, rows: Sequence, lengths: Sequence[int]) -> List:
        """Compute ``rows`` at once on the caller's thread (the warm-up, before the batcher starts)."""
        job = Job(kind, rows, lengths)
        self._run([job])
        return job.future.result()

    # ----- the thread ---------------------------------------------------------------------------------------
    def _loop(self) -> None:
        stopping = False
        overlapping = False  # did requests overlap around the last batch? Only then is the delay worth waiting
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            jobs = [first]
            rows = len(first.rows)
            deadline = time.monotonic() + (self.max_delay_s if overlapping else 0.0)
            while rows < self.max_batch_size:
                remaining = deadline - time.monotonic()
                try:
                    # what is already waiting joins even after the delay: it has waited longer than the delay
                    job = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is _STOP:
                    stopping = True  # after this batch: every job queued before the stop is in it or before it
                    break
                jobs.append(job)
                rows += len(job.rows)
            submitted = self._submitted
            self._run(jobs)
            overlapping = len(jobs) > 1 or self._submitted != submitted or not self._queue.empty()

    def _run(self, jobs: List[Job]) -> None:
        by_kind: Dict[str, List[Job]] = {}
        for job in jobs:
            by_kind.setdefault(job.kind, []).append(job)
        for kind, kind_jobs in by_kind.items():
            # (length, job, row index): rows of similar length share a batch, and each goes back to its job
            rows = sorted(((job.lengths[i], n, i) for n, job in enumerate(kind_jobs) for i in range(len(job.rows))),
                          key=lambda item: item[0])
            for start in range(0, len(rows), self.max_batch_size):
                self._run_batch(kind, kind_jobs, rows[start:start + self.max_batch_size])

    def _run_batch(self, kind: str, jobs: List[Job], batch) -> None:
        members = {n for _, n, _ in batch}
        try:
            results = self.runners[kind]([jobs[n].rows[i] for _, n, i in batch])
            if len(results) != len(batch):
                raise RuntimeError('the {} runner gave {} results for {} rows'.format(kind, len(results), len(batch)))
        except Exception:  # noqa: BLE001 -- one request's failure must not fail the others: run each alone
            log.debug('a batch of %d %s rows failed; running its %d requests one at a time', len(batch), kind,
                      len(members), exc_info=True)
            for n in sorted(members):
                self._run_alone(kind, jobs[n])
            return
        self._report(kind, len(batch), sum(length for length, _, _ in batch))
        for (_, n, i), result in zip(batch, results):
            job = jobs[n]
            if job.future.done():
                continue
            job.results[i] = result
            job.done_rows += 1
            if job.done_rows == len(job.rows):
                job.future.set_result(job.results)

    def _run_alone(self, kind: str, job: Job) -> None:
        if job.future.done():
            return
        try:
            results = self.runners[kind](job.rows)
        except Exception as err:  # noqa: BLE001 -- handed to this request's caller, who answers with it
            job.future.set_exception(err)
            return
        self._report(kind, len(job.rows), sum(job.lengths))
        job.future.set_result(list(results))

    def _report(self, kind: str, rows: int, tokens: int) -> None:
        if self.on_batch is not None:
            self.on_batch(kind, rows, tokens)
