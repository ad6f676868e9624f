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
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor

from accountree.resolve.normalize import normalize_names_and_forms as _normalize_names_and_forms

# Distinct names from which the cores share the work: below it, starting the workers and moving
# the names between processes costs about what it saves.
PARALLEL_FROM = 200_000


def workers() -> int:
    """Cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def normalize_names_and_forms(names: Iterable[str | None]) -> tuple[list[str], list[str | None]]:
    """`normalize.normalize_names_and_forms` (matching key and legal form of each name, in order),
    each distinct name cleaned once, by one forked process per core from `PARALLEL_FROM` distinct names."""
    names = list(names)
    distinct = list(dict.fromkeys(names))
    count = workers()
    if len(distinct) < PARALLEL_FROM or count < 2 or "fork" not in mp.get_all_start_methods():
        return _normalize_names_and_forms(names)
    size = -(-len(distinct) // count)
    gc.freeze()  # the parent's objects stay out of the workers' collections: their pages stay shared
    try:
        with ProcessPoolExecutor(count, mp_context=mp.get_context("fork")) as pool:
            parts = list(pool.map(_normalize_names_and_forms, [distinct[i:i + size] for i in range(0, len(distinct), size)]))
    finally:
        gc.unfreeze()
    found = {}
    for part, (keys, forms) in zip(range(0, len(distinct), size), parts, strict=True):
        found.update(zip(distinct[part:part + size], zip(keys, forms, strict=True), strict=True))
    pairs = [found[name] for name in names]
    return [k for k, _ in pairs], [f for _, f in pairs]


def normalize_names(names: Iterable[str | None]) -> list[str]:
    """`normalize.normalize_names` (matching keys, in order), parallel as `normalize_names_and_forms`."""
    return normalize_names_and_forms(names)[0]
