"""The maps' per-server cache: finished results by their inputs, bounded by bytes.

Every session of a server shares it (``map_jobs.SERVER.cache``), so a result's arrays are
made read-only when they go in: no session may write into another's picture. Only plain
results are kept (numpy arrays in dicts, tuples, lists, dataclasses), never Bokeh objects.
"""
from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict

import numpy as np

CACHE_BYTES = 256 * 2**20     # the per-server cache holds at most this many bytes of arrays


def _arrays(result) -> list[np.ndarray]:
    """Every numpy array inside ``result`` (dicts, tuples, lists, dataclasses)."""
    if isinstance(result, np.ndarray):
        return [result]
    if isinstance(result, dict):
        return [a for v in result.values() for a in _arrays(v)]
    if isinstance(result, (tuple, list)):
        return [a for v in result for a in _arrays(v)]
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return [a for f in dataclasses.fields(result) for a in _arrays(getattr(result, f.name))]
    return []


class ResultCache:
    """LRU of finished results by inputs, bounded by the bytes of their arrays."""

    def __init__(self, max_bytes: int = CACHE_BYTES):
        self.max_bytes = max_bytes
        self._items: OrderedDict = OrderedDict()   # inputs -> (result, nbytes)
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, inputs):
        with self._lock:
            item = self._items.get(inputs)
            if item is None:
                return None
            self._items.move_to_end(inputs)
            return item[0]

    def put(self, inputs, result) -> None:
        arrays = _arrays(result)
        for a in arrays:   # shared between sessions from now on: nobody may write into it
            a.setflags(write=False)
        size = sum(a.nbytes for a in arrays)
        if size > self.max_bytes:
            return
        with self._lock:
            if inputs in self._items:
                self._bytes -= self._items.pop(inputs)[1]
            self._items[inputs] = (result, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                self._bytes -= self._items.popitem(last=False)[1][1]

    def __contains__(self, inputs) -> bool:
        with self._lock:
            return inputs in self._items

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0
