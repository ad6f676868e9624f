"""Running a piece of work in a fresh process to measure its wall time and peak memory honestly."""

from __future__ import annotations

import multiprocessing as mp
import resource
import time
from collections.abc import Callable
from typing import Any


def _child(fn: Callable[..., Any], args: tuple, queue: mp.Queue) -> None:
    start = time.perf_counter()
    try:
        result = fn(*args)
        error = None
    except Exception as err:  # reported to the parent, which raises
        result, error = None, f"{type(err).__name__}: {err}"
    elapsed = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put({"seconds": elapsed, "peak_mb": peak_kib / 1024, "result": result, "error": error})


def measured(fn: Callable[..., Any], *args: Any) -> dict[str, Any]:
    """Run `fn(*args)` in a spawned process: {'seconds', 'peak_mb', 'result'}."""
    ctx = mp.get_context("spawn")
    queue: mp.Queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, args, queue))
    proc.start()
    out = queue.get()
    proc.join()
    if out["error"]:
        raise RuntimeError(out["error"])
    return out
