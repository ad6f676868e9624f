"""The name normaliser over many names, on every available core (forked worker processes).

Shared by duplicate resolution (`features.build_features`) and lead matching
(`leads.match.refresh_name_keys`): the normaliser reads ~30k names a second on one core, so a
million accounts cost ~30 s in one process. From `PARALLEL_FROM` distinct names the distinct names
are split between one forked process per available core; the keys come back in order, the same as
`normalize.normalize_names_and_forms` gives (tests compare both).

Forked, not spawned: a spawned worker re-imports the caller's script and the normaliser's tables
(about a second each); a forked one starts with them. The workers run the normaliser only — never
the workspace's connection, which they inherit but do not touch (a worker leaves with `os._exit`,
without closing anything). `gc.freeze()` around the fork keeps the parent's objects out of the
workers' garbage collections, so their pages stay shared instead of being copied into each worker.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor

import pyarrow as pa

from accountree.resolve.normalize import normalize_names_and_forms as _normalize_names_and_forms

# Distinct values from which the cores share the work: below it, starting the workers and moving
# the values between processes costs about what it saves (a fork takes milliseconds; the values
# and results cross as pickles / Arrow buffers, ~1 µs a value, against ~30 µs to normalise one).
PARALLEL_FROM = 100_000
# Parts per worker: a worker slowed down by other work on the machine holds up less of the whole.
PARTS_PER_WORKER = 4


def workers() -> int:
    """Cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def map_distinct(fn: Callable[[list], pa.Table], values: Iterable) -> pa.Table:
    """`fn` over the distinct `values` (hashable), one row per value of `values`, in order.

    `fn(list of distinct values)` returns an Arrow table with one row per value given, in order.
    From `PARALLEL_FROM` distinct values it runs in one forked process per core (`fn` must be a
    module-level function); the parts come back as Arrow tables (buffers, no per-value pickling)."""
    values = list(values)
    position: dict = {}
    for v in values:
        position.setdefault(v, len(position))
    distinct = list(position)
    count = workers()
    if len(distinct) < PARALLEL_FROM or count < 2 or "fork" not in mp.get_all_start_methods():
        table = fn(distinct)
    else:
        size = -(-len(distinct) // (count * PARTS_PER_WORKER))
        parts = [distinct[i:i + size] for i in range(0, len(distinct), size)]
        gc.freeze()  # the parent's objects stay out of the workers' collections: their pages stay shared
        try:
            with ProcessPoolExecutor(count, mp_context=mp.get_context("fork")) as pool:
                table = pa.concat_tables(list(pool.map(fn, parts)))
        finally:
            gc.unfreeze()
    if len(distinct) == len(values):
        return table
    return table.take(pa.array([position[v] for v in values], pa.int64()))


def _keys_and_forms(names: list) -> pa.Table:
    keys, forms = _normalize_names_and_forms(names)
    return pa.table({"key": pa.array(keys, pa.string()), "form": pa.array(forms, pa.string())})


def normalize_names_and_forms(names: Iterable[str | None]) -> tuple[list[str], list[str | None]]:
    """`normalize.normalize_names_and_forms` (matching key and legal form of each name, in order),
    each distinct name cleaned once, by one forked process per core from `PARALLEL_FROM` distinct names."""
    table = map_distinct(_keys_and_forms, names)
    return table.column("key").to_pylist(), table.column("form").to_pylist()


def normalize_names(names: Iterable[str | None]) -> list[str]:
    """`normalize.normalize_names` (matching keys, in order), parallel as `normalize_names_and_forms`."""
    return normalize_names_and_forms(names)[0]
