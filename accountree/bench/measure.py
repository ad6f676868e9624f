"""Running a piece of work in a fresh process to measure its wall time and peak memory honestly."""

from __future__ import annotations

import multiprocessing as mp
import queue as queue_module
import resource
import time
from collections.abc import Callable
from typing import Any


def peak_mb() -> float:
    """This process's peak resident memory. On Linux `VmHWM` (of this process image alone):
    `ru_maxrss` survives `exec`, so a spawned child would report at least the RSS its parent had
    when it started it — a bench that generated its data in the parent measured every child at
    the parent's ~2.2 GB."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _child(fn: Callable[..., Any], args: tuple, queue: mp.Queue) -> None:
    start = time.perf_counter()
    try:
        result = fn(*args)
        error = None
    except Exception as err:  # reported to the parent, which raises
        result, error = None, f"{type(err).__name__}: {err}"
    elapsed = time.perf_counter() - start
    queue.put({"seconds": elapsed, "peak_mb": peak_mb(), "result": result, "error": error})


def result_of(queue: mp.Queue, proc: mp.process.BaseProcess) -> dict[str, Any]:
    """The child's report, or a RuntimeError when the child ended without one (killed by the
    kernel for memory, or a spawned child that failed to start: a script calling the bench
    without `if __name__ == "__main__":`) instead of waiting for it forever."""
    while True:
        try:
            return queue.get(timeout=1.0)
        except queue_module.Empty:
            if not proc.is_alive():
                try:  # reported just before it ended
                    return queue.get(timeout=1.0)
                except queue_module.Empty:
                    code = proc.exitcode
                    hint = " (killed: out of memory?)" if code is not None and code < 0 else ""
                    raise RuntimeError(f"the measured process ended with exit code {code} before "
                                       f"reporting{hint}") from None


def measured(fn: Callable[..., Any], *args: Any) -> dict[str, Any]:
    """Run `fn(*args)` in a spawned process: {'seconds', 'peak_mb', 'result'}."""
    ctx = mp.get_context("spawn")
    queue: mp.Queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, args, queue))
    proc.start()
    out = result_of(queue, proc)
    proc.join()
    if out["error"]:
        raise RuntimeError(out["error"])
    return out
