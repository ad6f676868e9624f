"""`accountree build --engine spark`: the build's SQL stages computed on Apache Spark.

The stages whose work is SQL through the engine seam (hierarchy, scores, KPIs) run unchanged on a
`SparkEngine` (accountree.store.spark_engine): the same statements, rendered for Spark SQL. The
workspace's tables are read into Spark as the statements name them; the tables the stages derive
are written back into the workspace, inside the build's one transaction, before the stages that
still work on rows in Python (registry re-attachment before, KAM, ABM, leads, API read model
after) run on the workspace's own engine.
"""

from __future__ import annotations

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
from accountree.store import Workspace

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from accountree.store.spark_engine import SparkEngine

# The stages that run on Spark; the others run on the workspace's engine.
SPARK_STAGES = ("hierarchy", "scores", "kpis")


class SparkWorkspace(Workspace):
    """The workspace as the stages see it during a Spark build: SQL goes to Spark, workspace
    metadata (`meta`, `set_meta`) to the workspace itself."""

    def __init__(self, base: Workspace, engine: SparkEngine) -> None:
        super().__init__(engine, base.location)
        self.base = base

    def close(self) -> None:  # the caller owns both
        pass

    def meta(self, key: str) -> str | None:
        return self.base.meta(key)

    def metas(self, *keys: str) -> dict[str, str]:
        return self.base.metas(*keys)

    def set_meta(self, key: str, value: str) -> None:
        self.base.set_meta(key, value)
        self.engine.forget("workspace_meta")  # type: ignore[attr-defined]


def build_on_spark(ws: Workspace, options: BuildOptions | None = None, master: str | None = None,
                   session: SparkSession | None = None,
                   progress: Callable[[str, int, int], None] | None = None) -> dict[str, dict[str, Any]]:
    """`accountree.build.build`, with the SQL stages on Spark (`master`: a Spark master URL,
    default `local[*]`); same results, same single transaction on the workspace."""
    from accountree.store.spark_engine import SparkEngine, spark_session

    selected, options = plan_build(ws, options)
    as_of = options.as_of
    engine = SparkEngine(session or spark_session(master), source=ws.engine)
    on_spark = SparkWorkspace(ws, engine)
    results: dict[str, dict[str, Any]] = {}
    spark_seconds = 0.0
    try:
        with ws.engine.transaction():
            if options.stages is None:
                ws.set_meta(BUILT_IMPORT_KEY, str(last_import_id(ws)))
            ws.set_meta(AS_OF_KEY, as_of.isoformat())
            for i, stage in enumerate(selected):
                if progress:
                    progress(stage.name, i, len(selected))
                results[stage.name] = _run(stage, ws, on_spark, engine, options)
                if stage.name in SPARK_STAGES:
                    spark_seconds += results[stage.name].get("spark_seconds", 0.0)
            _land(engine, ws, results)
    finally:
        engine.close()
    for stage in selected:
        if stage.after is not None:
            results[stage.name].update(stage.after(ws))
    return results


def _run(stage: BuildStage, ws: Workspace, on_spark: SparkWorkspace, engine: SparkEngine,
         options: BuildOptions) -> dict[str, Any]:
    if stage.name in SPARK_STAGES:
        start = time.perf_counter()
        summary = dict(stage.run(on_spark, options))
        summary["spark_seconds"] = round(time.perf_counter() - start, 2)
        return summary
    _land(engine, ws, None)  # a workspace stage reads what Spark derived so far
    return stage.run(ws, options)


def _land(engine: SparkEngine, ws: Workspace, results: dict[str, dict[str, Any]] | None) -> None:
    plan = engine.changed()
    if not any(plan.values()):
        engine.reset()  # read the workspace afresh after the next workspace stage
        return
    start = time.perf_counter()
    written = engine.write_back(ws.engine)
    if results is not None:
        results.setdefault("spark", {})
    landed = {"tables_written": len(written), "rows_written": sum(written.values()),
              "write_back_seconds": round(time.perf_counter() - start, 2)}
    if results is not None:
        results["spark"].update(landed)
