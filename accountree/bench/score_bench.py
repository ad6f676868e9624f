"""`accountree bench score`: scoring throughput, training time, and AUC of the model vs the grid.

Generates `accounts` accounts with a planted best-customer pattern (accountree.scoring.synthetic) in a
temporary DuckDB workspace, then measures: scoring with the default grid alone (features, grid,
grades, tiers — the 1M-accounts-under-10-s target), training (hold-out evaluation + final fit on at
most `model.max_training_rows` accounts), and scoring again with the trained model; then the
same with the gradient-boosted trees forced (`learners=("trees",)`): the linear model scores in
SQL (set-based), the trees in Arrow batches of `TREE_BATCH_ROWS` accounts (numpy), which is
slower — the bench prints both, with the process's peak memory after each step.
"""

from __future__ import annotations

import os
import platform
import resource
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

TARGET_SECONDS_1M = 10.0


def run_score_bench(accounts: int = 1_000_000, seed: int = 7) -> dict[str, Any]:
    from accountree.scoring import synthetic
    from accountree.scoring.service import score_workspace
    from accountree.scoring.training import train_model
    from accountree.scoring.versions import use_model
    from accountree.store import open_workspace

    as_of = date(2026, 11, 1)
    with tempfile.TemporaryDirectory(prefix="accountree-score-bench-") as tmp:
        ws = open_workspace(str(Path(tmp) / "bench.duckdb"))
        ws.engine.execute("SET enable_progress_bar = false")
        try:
            started = time.perf_counter()
            synthetic.load(ws, accounts, seed=seed, as_of=as_of)
            generate_s = time.perf_counter() - started

            started, cpu = time.perf_counter(), _cpu()
            grid_run = score_workspace(ws, as_of)
            grid_s, grid_cpu = time.perf_counter() - started, _cpu() - cpu

            started, cpu = time.perf_counter(), _cpu()
            trained = train_model(ws, as_of)
            train_total_s, train_cpu = time.perf_counter() - started, _cpu() - cpu

            started, cpu = time.perf_counter(), _cpu()
            model_run = score_workspace(ws, as_of)
            model_s, model_cpu = time.perf_counter() - started, _cpu() - cpu
            details = int(ws.engine.scalar("SELECT count(*) FROM score_details"))
            peak_after_first = _peak_mb()

            chosen = trained["metrics"]["learner"]
            other = "trees" if chosen == "linear" else "linear"
            started = time.perf_counter()
            second = train_model(ws, as_of, learners=(other,))
            other_train_s = time.perf_counter() - started
            use_model(ws, second["model_version"])  # measured even if it did not beat the baselines
            started, cpu = time.perf_counter(), _cpu()
            other_run = score_workspace(ws, as_of)
            other_s, other_cpu = time.perf_counter() - started, _cpu() - cpu
            peak_after_second = _peak_mb()
        finally:
            ws.close()
    m = trained["metrics"]
    return {
        "accounts": accounts,
        "machine": f"{platform.machine()}, {_cpus()} CPU(s), load average {os.getloadavg()[0]:.1f}",
        "generate_and_load_s": round(generate_s, 2),
        "score_grid_s": round(grid_s, 2),
        "score_grid_cpu_s": round(grid_cpu, 2),
        "score_grid_accounts_per_s": round(accounts / grid_s),
        "criterion_rows_stored": details,
        "target_1m_s": TARGET_SECONDS_1M,
        "grid_meets_target": grid_s * 1_000_000 / max(accounts, 1) < TARGET_SECONDS_1M,
        "train_rows": min(trained["labelled"], 200_000),
        "labelled": trained["labelled"],
        "best_customers": trained["positives"],
        "train_fit_and_evaluate_s": m["train_seconds"],
        "train_total_s_incl_rescoring": round(train_total_s, 2),
        "train_total_cpu_s": round(train_cpu, 2),
        f"score_with_{chosen}_s (chosen)": round(model_s, 2),
        f"score_with_{chosen}_cpu_s": round(model_cpu, 2),
        f"score_with_{chosen}_accounts_per_s": round(accounts / model_s),
        "auc_model": m["auc_model"],
        "auc_grid": m["auc_grid"],
        "precision_top_grade_model": m["precision_top_grade_model"],
        "precision_top_grade_grid": m["precision_top_grade_grid"],
        "learner_chosen": m["learner"],
        "auc_by_learner": m["auc_by_learner"],
        "auc_baseline": m["auc_baseline"],
        f"peak_rss_mb_after_scoring_with_{chosen}": peak_after_first,
        f"{other}_only_train_total_s": round(other_train_s, 2),
        f"{other}_only_kept": second["kept"],
        f"score_with_{other}_s": round(other_s, 2),
        f"score_with_{other}_cpu_s": round(other_cpu, 2),
        f"score_with_{other}_accounts_per_s": round(accounts / other_s),
        "trees_vs_linear_scoring_time": round((other_s / model_s) if other == "trees" else (model_s / other_s), 2),
        f"{other}_graded": other_run["graded"],
        f"peak_rss_mb_after_scoring_with_{other}": peak_after_second,
        "graded": model_run["graded"],
        "grid_only_graded": grid_run["graded"],
    }


def _peak_mb() -> float:
    """Peak resident memory of this process so far (MB; DuckDB's buffers included)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _cpus() -> int:
    return os.cpu_count() or 1


def _cpu() -> float:
    """CPU seconds of this process, all threads (DuckDB's included): honest on a busy machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
