"""What the inbox remembers in memory between requests (one-time messages, labelling batches, rendered
reports, failed sign-ins per address): always bounded, the least recently used keys forgotten first, and safe
across the server's threads."""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any


class Recent:
    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, default=None):
        with self._lock:
            return self._items.get(key, default)

    def put(self, key, value) -> None:
        with self._lock:
            self._keep(key, value)

    def setdefault(self, key, make: Callable[[], Any]):
        """The value kept for ``key``, or a new one from ``make()``; either way the key is the most recent."""
        with self._lock:
            value = self._items[key] if key in self._items else make()
            self._keep(key, value)
            return value

    def pop(self, key, default=None):
        with self._lock:
            return self._items.pop(key, default)

    def _keep(self, key, value) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)
