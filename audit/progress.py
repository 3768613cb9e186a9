"""Progress on stderr for long work (loading, batches, per-layer metrics); silent when quiet."""

from __future__ import annotations

import sys
import time

from tqdm import tqdm

__all__ = ["Progress"]


class Progress:
    def __init__(self, quiet: bool = False, stream=None):
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self._start = time.perf_counter()

    def stage(self, message: str) -> None:
        if not self.quiet:
            print(f"[{time.perf_counter() - self._start:6.1f}s] {message}", file=self.stream, flush=True)

    def bar(self, total: int, description: str):
        return tqdm(total=total, desc=description, file=self.stream, disable=self.quiet, leave=False, unit="batch")
