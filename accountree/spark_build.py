"""`accountree build --engine spark`: the build's SQL stages computed on Apache Spark.

The stages whose work is SQL through the engine seam (hierarchy, scores, KPIs) run unchanged on a
`SparkEngine` (accountree.store.spark_engine): the same statements, rendered for Spark SQL. The
workspace's tables are read into Spark as the statements name them; the tables the stages derive
are written back into the workspace, inside the build's one transaction, before the stages that
still work on rows in Python (registry re-attachment before, KAM, ABM, leads, API read model
after) run on the workspace's own engine.

With a lake (`lake=DIR`, `accountree build --engine spark --lake DIR`), the tables computed on
Spark are written to DIR as Parquet datasets, one directory per table, with a manifest
(`_accountree_build.json`: the as-of date, each table's rows, columns and files). Without
`land=True` (`--land`) nothing derived lands in the workspace, so a workspace too large for one
machine's database never has to hold it: the build's metadata goes to the manifest, not the
workspace, and the stages that would read the derived tables in the workspace after Spark (KAM,
ABM, leads, the API's read model) are skipped and reported so.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from accountree.build import (
    AS_OF_KEY,
    BUILT_IMPORT_KEY,
    BuildOptions,
    BuildStage,
    last_import_id,
    plan_build,
)
from accountree.errors import ConfigError
from accountree.store import Workspace

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from accountree.store.spark_engine import SparkEngine

# The stages that run on Spark; the others run on the workspace's engine.
SPARK_STAGES = ("hierarchy", "scores", "kpis")
MANIFEST = "_accountree_build.json"  # in a lake: what the build wrote, written last
SKIPPED = "needs the derived tables in the workspace: add --land to land them too"


class SparkWorkspace(Workspace):
    """The workspace as the stages see it during a Spark build: SQL goes to Spark, workspace
    metadata (`meta`, `set_meta`) to the workspace itself."""

    def __init__(self, base: Workspace, engine: SparkEngine, written: dict[str, str] | None = None) -> None:
        super().__init__(engine, base.location)
        self.base = base
        # a lake-only build: metadata the stages write is kept here (and goes to the manifest)
        self.written = written

    def close(self) -> None:  # the caller owns both
        pass

    def meta(self, key: str) -> str | None:
        if self.written is not None and key in self.written:
            return self.written[key]
        return self.base.meta(key)

    def metas(self, *keys: str) -> dict[str, str]:
        found = self.base.metas(*keys)
        if self.written is not None:
            found.update({k: v for k, v in self.written.items() if k in keys})
        return found

    def set_meta(self, key: str, value: str) -> None:
        if self.written is not None:
            self.written[key] = value
            return
        self.base.set_meta(key, value)
        self.engine.forget("workspace_meta")  # type: ignore[attr-defined]


def build_on_spark(ws: Workspace, options: BuildOptions | None = None, master: str | None = None,
                   session: SparkSession | None = None,
                   progress: Callable[[str, int, int], None] | None = None,
                   lake: str | None = None, land: bool = True) -> dict[str, dict[str, Any]]:
    """`accountree.build.build`, with the SQL stages on Spark (`master`: a Spark master URL,
    default `local[*]`); same results, same single transaction on the workspace. `lake`: also
    write the tables computed on Spark to this directory (or URL) as Parquet; `land=False` (only
    with a lake): write them there only (see the module's docstring)."""
    from accountree.store.spark_engine import SparkEngine, spark_session

    if not land and not lake:
        raise ConfigError("a Spark build that does not land its tables needs a lake to write them to",
                          hint="Give --lake DIR.")
    selected, options = plan_build(ws, options)
    as_of = options.as_of
    lake = _lake_root(lake) if lake else None
    if lake:
        _clear_manifest(lake)
    engine = SparkEngine(session or spark_session(master), source=ws.engine)
    meta: dict[str, str] | None = None if land else {}
    on_spark = SparkWorkspace(ws, engine, meta)
    target = ws if land else on_spark  # where the build's metadata goes
    results: dict[str, dict[str, Any]] = {}
    lake_tables: dict[str, dict[str, Any]] = {}
    spark_started = False
    try:
        with ws.engine.transaction():
            if options.stages is None:
                target.set_meta(BUILT_IMPORT_KEY, str(last_import_id(ws)))
            target.set_meta(AS_OF_KEY, as_of.isoformat())
            for i, stage in enumerate(selected):
                if progress:
                    progress(stage.name, i, len(selected))
                if stage.name in SPARK_STAGES:
                    spark_started = True
                elif spark_started and not land:
                    results[stage.name] = {"skipped": SKIPPED}
                    continue
                results[stage.name] = _run(stage, ws, on_spark, engine, options, lake, lake_tables)
            _land(engine, ws, results, lake, lake_tables, land)
    finally:
        engine.close()
    if lake:
        _write_manifest(lake, {"as_of": as_of.isoformat(), "landed": land,
                               "tables": lake_tables, "meta": meta or {}})
        results.setdefault("spark", {}).update(
            {"lake": lake, "lake_tables": len(lake_tables), "lake_rows": sum(t["rows"] for t in lake_tables.values())})
    for stage in selected:
        if stage.after is not None and (land or stage.name not in SPARK_STAGES) and "skipped" not in results[stage.name]:
            results[stage.name].update(stage.after(ws))
    return results


def _run(stage: BuildStage, ws: Workspace, on_spark: SparkWorkspace, engine: SparkEngine,
         options: BuildOptions, lake: str | None, lake_tables: dict[str, dict[str, Any]]) -> dict[str, Any]:
    if stage.name in SPARK_STAGES:
        start = time.perf_counter()
        summary = dict(stage.run(on_spark, options))
        summary["spark_seconds"] = round(time.perf_counter() - start, 2)
        return summary
    _land(engine, ws, None, lake, lake_tables, True)  # a workspace stage reads what Spark derived so far
    return stage.run(ws, options)


def _land(engine: SparkEngine, ws: Workspace, results: dict[str, dict[str, Any]] | None, lake: str | None,
          lake_tables: dict[str, dict[str, Any]], land: bool) -> None:
    plan = engine.changed()
    if not any(plan.values()):
        engine.reset()  # read the workspace afresh after the next workspace stage
        return
    landed: dict[str, Any] = {}
    if lake:
        start = time.perf_counter()
        lake_tables.update(engine.write_lake(lake))
        landed["lake_seconds"] = round(time.perf_counter() - start, 2)
    if land:
        start = time.perf_counter()
        written = engine.write_back(ws.engine)
        landed.update({"tables_written": len(written), "rows_written": sum(written.values()),
                       "write_back_seconds": round(time.perf_counter() - start, 2)})
    else:
        engine.reset()
    if results is not None:
        results.setdefault("spark", {}).update(landed)


def _lake_root(lake: str) -> str:
    """A local directory as an absolute path (Spark and the manifest agree on it); URLs as given."""
    return lake if "://" in lake else os.path.abspath(os.path.expanduser(lake))


def _filesystem(lake: str) -> tuple[Any, str]:
    from pyarrow import fs

    if "://" in lake and not lake.startswith("file://"):
        return fs.FileSystem.from_uri(lake)
    return fs.LocalFileSystem(), lake.removeprefix("file://")


def _clear_manifest(lake: str) -> None:
    """A lake being rewritten has no manifest until every table is written."""
    from pyarrow import fs

    filesystem, root = _filesystem(lake)
    info = filesystem.get_file_info(root)
    if info.type == fs.FileType.File:
        raise ConfigError(f"--lake {lake} is a file, not a directory", hint="Give a directory (created if missing).")
    filesystem.create_dir(root, recursive=True)
    if filesystem.get_file_info(f"{root}/{MANIFEST}").type == fs.FileType.File:
        filesystem.delete_file(f"{root}/{MANIFEST}")


def _write_manifest(lake: str, manifest: dict[str, Any]) -> None:
    filesystem, root = _filesystem(lake)
    with filesystem.open_output_stream(f"{root}/{MANIFEST}") as out:
        out.write(json.dumps(manifest, indent=2, sort_keys=True).encode())


def read_manifest(lake: str) -> dict[str, Any] | None:
    """The manifest of a lake written by a Spark build; None while none is complete."""
    from pyarrow import fs

    filesystem, root = _filesystem(_lake_root(lake))
    if filesystem.get_file_info(f"{root}/{MANIFEST}").type != fs.FileType.File:
        return None
    with filesystem.open_input_stream(f"{root}/{MANIFEST}") as src:
        return json.loads(src.read())
