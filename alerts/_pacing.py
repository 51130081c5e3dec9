"""Posting limits: at most one message per interval to each channel."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable


class ChannelPacer:
    """Hands out turns to post, one per ``interval`` per channel, waiting when a channel's turn is not due.

    The monotonic clock and the sleep are parameters so a test can check the schedule it keeps without
    waiting through it, and without depending on how fast the machine is.
    """

    def __init__(self, interval: float, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = interval
        self._monotonic, self._sleep = monotonic, sleep
        self._last_turn: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait_turn(self, channel: str) -> float:
        """Blocks until ``channel`` may be posted to; returns the instant of the turn."""
        with self._lock:
            last = self._last_turn.get(channel)
            if last is not None:
                wait = last + self.interval - self._monotonic()
                if wait > 0:
                    self._sleep(wait)
            self._last_turn[channel] = turn = self._monotonic()
            return turn
