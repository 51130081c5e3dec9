"""Scoring at volume: small batches in this process, large ones across a pool of worker processes, so the
pipeline can read and store other batches while the workers score."""
from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from monitor.config import ScoringConfig
from monitor.model import Score

# Below this many posts a batch is scored in-process: the pool's round trip costs more.
POOL_MIN_BATCH = 256

_worker_scorer = None


def _init_worker(scoring: dict, topics: dict, model_data: bytes | None) -> None:
    global _worker_scorer
    # Ctrl-C and systemd signal the whole process group; the parent finishes the batch and shuts us down.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    from monitor.scoring.learned import make_scorer

    _worker_scorer = make_scorer(ScoringConfig.model_validate(scoring), topics, model_data)


def _score_chunk(items: list[tuple[str, int]]) -> list[Score]:
    return _worker_scorer.score_many(items)


class ScoringEngine:
    """Scores batches in this process, or across a process pool for large batches."""

    def __init__(self, scoring: ScoringConfig, topics: dict[str, list[str]],
                 model_data: bytes | None = None) -> None:
        from monitor.scoring.learned import make_scorer

        self.scorer = make_scorer(scoring, topics, model_data)
        self._scoring, self._topics, self._model = scoring, topics, model_data
        self.workers = scoring.workers or (os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def score(self, items: list[tuple[str, int]]) -> list[Score]:
        return self.submit(items).result()

    def submit(self, items: list[tuple[str, int]]) -> ScoringJob:
        """Starts scoring; the caller can prepare or store other batches while the workers run."""
        if self.workers <= 1 or len(items) < POOL_MIN_BATCH:
            return ScoringJob(self, done=self.scorer.score_many(items))
        pool = self._get_pool()
        size = -(-len(items) // (self.workers * 2))
        return ScoringJob(self, futures=[pool.submit(_score_chunk, items[i:i + size])
                                         for i in range(0, len(items), size)])

    def _discard_pool(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def _get_pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # forkserver: forking a process that runs scheduler threads is unsafe.
                method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers, mp_context=multiprocessing.get_context(method),
                    initializer=_init_worker, initargs=(self._scoring.model_dump(), self._topics, self._model))
            return self._pool

    def use_model(self, model_data: bytes | None) -> None:
        """Score with another learned model (or the rules alone); workers start afresh with it."""
        from monitor.scoring.learned import make_scorer

        scorer = make_scorer(self._scoring, self._topics, model_data)
        self.scorer, self._model = scorer, model_data
        self._discard_pool()

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None


class ScoringJob:
    def __init__(self, engine: ScoringEngine, done: list[Score] | None = None, futures: list | None = None):
        self._engine, self._done, self._futures = engine, done, futures or []

    def result(self) -> list[Score]:
        if self._done is None:
            try:
                self._done = [score for f in self._futures for score in f.result()]
            except BrokenProcessPool:
                self._engine._discard_pool()  # a worker died (OOM killer?): start fresh next time
                raise
        return self._done
