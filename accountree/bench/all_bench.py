"""`accountree bench all`: every figure at several sizes, each beside its baseline of the same run.

For each size (accounts) it runs the existing benches, each measuring in fresh processes:
- import: `bench import` (CSV bundle → workspace) vs a raw DuckDB load of the same files;
- hierarchy, whole build, refresh: `bench build --whole` (`whole_bench`): the hierarchy stage vs
  the floor's heads + closure, the whole build vs the floor of heads + closure + KPIs + roll-ups,
  the one-deal refresh (median) vs the whole build it spares;
- naive: the `bench build` pandas + networkx code on the same workspace vs our hierarchy + KPI stages;
- scoring: `bench score` (points grid vs the learned model; AUC of each);
- resolve: `bench resolve` on the demo (P/R/F1 of auto-merges and of auto + review queue);
- leads: `bench leads` on the demo (right / wrong matches vs the domain-only rule);
- API: account 360s read by concurrent clients of `accountree serve` on the built workspace vs
  the same rows read straight from DuckDB (no HTTP).
Resolve, leads (Python demo generator) and the naive code stop at a size cap (their own size is
printed). Growth: the exponent `k` of `time ∝ accounts^k` fitted over the sizes (1 = linear).

Writes `bench_all.json`, `bench_all.md` and `bench_all.png` in `--out`; `--readme` rewrites the
README's table between `<!-- bench-all:start -->` and `<!-- bench-all:end -->`.
"""

from __future__ import annotations

import json
import math
import os
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from accountree.bench.measure import measured

START, END = "<!-- bench-all:start -->", "<!-- bench-all:end -->"


def _safe(name: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A bench that fails leaves its error in the figures; the others still run. `bench_seconds`:
    what the bench took, preparation included."""
    start = time.perf_counter()
    try:
        return {**fn(), "bench_seconds": round(time.perf_counter() - start, 1)}
    except Exception as err:  # reported in the output, not hidden
        return {"error": f"{name}: {type(err).__name__}: {err}"[:500],
                "seconds_before_error": round(time.perf_counter() - start, 1)}


def _api_latency(path: str, duration: float, concurrency: int) -> dict[str, Any]:
    """Account 360s over HTTP by `concurrency` clients vs the same accounts' KPI rows read from
    DuckDB in one process (p50 / p95, ms)."""
    from accountree.api.auth import add_user, new_token, user_count
    from accountree.bench.api_bench import _free_port, _pct, _start_server, closed_loop
    from accountree.store import open_workspace

    with open_workspace(path) as ws:
        if not user_count(ws.engine):
            add_user(ws, "bench", "corporate", "bench-password-1")
        user = ws.engine.scalar("SELECT username FROM users WHERE role IN ('corporate', 'admin') ORDER BY username")
        token = new_token(ws, user, "bench all")
        sample = [r[0] for r in ws.engine.fetchall(
            "SELECT account_id FROM accounts ORDER BY md5(account_id) LIMIT 2000")]
    direct = measured(_direct_reads, path, sample)["result"]
    port = _free_port()
    server = _start_server(path, port)
    try:
        import psutil

        rss = psutil.Process(server.pid)
        closed_loop(port, token, [f"/api/v1/accounts/{a}" for a in sample[:50]], 2, 1.0, 1)  # warm-up
        readers = closed_loop(port, token, [f"/api/v1/accounts/{a}" for a in sample], concurrency, duration, 7)
        server_mb = rss.memory_info().rss / 2**20
    finally:
        server.terminate()
        server.wait(timeout=10)
    return {"http_p50_ms": readers["p50_ms"], "http_p95_ms": readers["p95_ms"], "rps": readers["rps"],
            "errors": readers["errors"], "concurrency": concurrency, "server_rss_mb": round(server_mb),
            "direct_p50_ms": round(_pct(direct, 0.5), 3), "direct_p95_ms": round(_pct(direct, 0.95), 3)}


def _direct_reads(path: str, ids: list[str]) -> list[float]:
    import duckdb

    con = duckdb.connect(path, read_only=True)
    out = []
    for account in random.Random(7).sample(ids, min(500, len(ids))):
        start = time.perf_counter()
        con.execute("SELECT * FROM account_kpis WHERE account_id = ?", [account]).fetchall()
        out.append((time.perf_counter() - start) * 1000)
    return out


def run_size(accounts: int, tmp: str, caps: dict[str, int], api_seconds: float, log: Callable[[str], None],
             done: dict[tuple[str, int], dict[str, Any]] | None = None) -> dict[str, Any]:
    """Every bench at `accounts`; `done`: the capped demo benches already measured at their size
    (resolve and leads at the cap run once, not again at each larger size)."""
    done = {} if done is None else done
    from accountree.bench import build_bench, import_bench, score_bench, whole_bench

    out: dict[str, Any] = {"accounts": accounts}
    log(f"{accounts:,} accounts: import")
    out["import"] = _safe("import", lambda: import_bench.run_import_bench(accounts, accounts * 10,
                                                                            Path(tmp) / f"import_{accounts}"))
    kept = str(Path(tmp) / f"whole_{accounts}.duckdb")
    log(f"{accounts:,} accounts: whole build, floor, refresh")
    out["whole"] = _safe("whole", lambda: whole_bench.run_whole_bench(accounts, workdir=tmp, keep=kept))
    if Path(kept).exists():
        if accounts <= caps["naive"]:
            log(f"{accounts:,} accounts: naive pandas + networkx")
            out["naive"] = _safe("naive", lambda: _rounded({**(m := measured(build_bench.naive, kept))["result"],
                                                            "peak_mb": m["peak_mb"]}))
        log(f"{accounts:,} accounts: API latency")
        out["api"] = _safe("api", lambda: _api_latency(kept, api_seconds, 20))
        Path(kept).unlink()
    log(f"{accounts:,} accounts: scoring")
    out["score"] = _safe("score", lambda: score_bench.run_score_bench(accounts))
    for part, fn in (("resolve", _resolve), ("leads", _leads)):
        n = min(accounts, caps[part])
        if (part, n) not in done:
            log(f"{n:,} accounts: {part}")
            done[part, n] = _safe(part, lambda fn=fn, n=n: {**(m := measured(fn, n))["result"],
                                                             "peak_mb": round(m["peak_mb"])})
        out[part] = done[part, n]
    return out


def _rounded(d: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in d.items()}


def _resolve(accounts: int) -> dict[str, Any]:
    from accountree.bench.resolve_bench import run_resolve_bench

    return run_resolve_bench(accounts=accounts)


def _leads(accounts: int) -> dict[str, Any]:
    from accountree.bench.leads_bench import run_demo

    return run_demo(accounts, None)


def _g(d: dict[str, Any], *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


# figure, unit, ours, baseline (name, value), peak MB — read from one size's results
FIGURES: list[tuple[str, str, Callable, str, Callable, Callable]] = [
    ("import (accounts + 10× deals)", "s", lambda r: _g(r, "import", "import_seconds"), "raw DuckDB load",
     lambda r: _g(r, "import", "raw_load_seconds"), lambda r: _g(r, "import", "import_peak_mb")),
    ("hierarchy stage", "s", lambda r: _stage(r, "hierarchy"), "SQL floor: heads + closure",
     lambda r: _floor(r, "heads", "closure"), lambda r: None),
    ("hierarchy + KPI stages", "s", lambda r: _add(_stage(r, "hierarchy"), _stage(r, "kpis")), "naive pandas + networkx",
     lambda r: _g(r, "naive", "seconds"), lambda r: _g(r, "naive", "peak_mb")),
    ("whole build, every stage", "s", lambda r: _g(r, "whole", "whole_build_process_seconds"),
     "SQL floor: heads + closure + KPIs + roll-ups", lambda r: _g(r, "whole", "floor_process_seconds"),
     lambda r: _g(r, "whole", "whole_build_peak_mb")),
    ("one-deal refresh (median)", "ms", lambda r: _g(r, "whole", "refresh_ms_median"), "whole build (ms)",
     lambda r: _mul(_g(r, "whole", "whole_build_seconds"), 1000), lambda r: None),
    ("scoring, points grid", "s", lambda r: _g(r, "score", "score_grid_s"), "learned model scoring",
     lambda r: _first(r, "score", "score_with_", "_s (chosen)"), lambda r: _first(r, "score", "peak_rss_mb_after_scoring_with_", "")),
    ("scoring AUC, model", "", lambda r: _g(r, "score", "auc_model"), "AUC of the points grid",
     lambda r: _g(r, "score", "auc_grid"), lambda r: None),
    ("resolve P / R / F1, auto-merges", "", lambda r: _prf(r, "auto"), "", lambda r: None,
     lambda r: _g(r, "resolve", "peak_mb")),
    ("resolve P / R / F1, auto + review queue", "", lambda r: _prf(r, "auto_plus_review"), "", lambda r: None,
     lambda r: None),
    ("resolve time", "s", lambda r: _g(r, "resolve", "seconds"), "", lambda r: None, lambda r: None),
    ("lead matching: right % of matchable", "%", lambda r: _g(r, "leads", "right % of matchable"),
     "domain-only rule", lambda r: _g(r, "leads", "baseline domain-only right % of matchable"),
     lambda r: _g(r, "leads", "peak_mb")),
    ("lead matching: wrong % of leads", "%", lambda r: _g(r, "leads", "wrong % of all leads"), "domain-only rule",
     lambda r: _g(r, "leads", "baseline domain-only wrong % of all leads"), lambda r: None),
    ("lead matching time", "s", lambda r: _g(r, "leads", "match seconds (first run)"), "", lambda r: None,
     lambda r: None),
    ("API account 360, p95 (20 clients)", "ms", lambda r: _g(r, "api", "http_p95_ms"),
     "DuckDB point read, p95 (no HTTP)", lambda r: _g(r, "api", "direct_p95_ms"), lambda r: _g(r, "api", "server_rss_mb")),
]
TIMED = {"import (accounts + 10× deals)", "hierarchy stage", "hierarchy + KPI stages", "whole build, every stage",
         "scoring, points grid", "resolve time", "lead matching time", "one-deal refresh (median)"}
SIZE_OF = {"resolve": "resolve", "lead matching": "leads"}  # figures run on the demo, at a capped size


def _size_for(figure: str, r: dict[str, Any]) -> int:
    """The accounts a figure was measured at: the size, or the capped demo size of resolve and leads."""
    part = next((p for prefix, p in SIZE_OF.items() if figure.startswith(prefix)), None)
    return (_g(r, part, "accounts") if part else None) or r["accounts"]


def _stage(r: dict[str, Any], name: str) -> float | None:
    for s in _g(r, "whole", "stages") or []:
        if s["stage"] == name:
            return s["seconds"]
    return None


def _floor(r: dict[str, Any], *steps: str) -> float | None:
    found = _g(r, "whole", "floor_step_seconds")
    return round(sum(found[s] for s in steps), 3) if found else None


def _add(*values: float | None) -> float | None:
    return None if any(v is None for v in values) else round(sum(values), 2)


def _mul(v: float | None, k: float) -> float | None:
    return None if v is None else round(v * k, 1)


def _first(r: dict[str, Any], part: str, prefix: str, suffix: str) -> Any:
    for k, v in (r.get(part) or {}).items():
        if k.startswith(prefix) and k.endswith(suffix):
            return v
    return None


def _prf(r: dict[str, Any], which: str) -> str | None:
    found = _g(r, "resolve", which)
    return f"{found['precision']:.3f} / {found['recall']:.3f} / {found['f1']:.3f}" if found else None


def growth(sizes: list[int], values: list[float | None]) -> float | None:
    """Least-squares exponent k of value ∝ size^k over the sizes with a positive value."""
    points = [(math.log(s), math.log(v)) for s, v in zip(sizes, values, strict=True)
              if isinstance(v, int | float) and v > 0]
    if len(points) < 2 or len({x for x, _ in points}) < 2:
        return None
    mx, my = statistics.fmean(x for x, _ in points), statistics.fmean(y for _, y in points)
    return round(sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points), 2)


def _growth_words(k: float | None) -> str:
    if k is None:
        return ""
    return f"k={k} " + ("(flat)" if abs(k) < 0.2 else "(linear)" if 0.8 <= k <= 1.2
                        else "(sublinear)" if k < 0.8 else "(superlinear)")


def table(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per figure: ours and the baseline at each size, their ratio, the peak, the growth."""
    rows = []
    for name, unit, ours, base_name, base, peak in FIGURES:
        row: dict[str, Any] = {"figure": name, "unit": unit, "baseline": base_name}
        series = []
        for r in result["sizes"]:
            actual = _size_for(name, r)
            o, b, m = ours(r), base(r), peak(r)
            series.append(o if isinstance(o, int | float) else None)
            cell = "—" if o is None else f"{o}"
            if b is not None:
                cell += f" vs {b}"
                if isinstance(o, int | float) and isinstance(b, int | float) and b and unit in ("s", "ms"):
                    cell += f" ({o / b:.3g}×)"
            if m:
                cell += f", {round(m):,} MB"
            if actual != r["accounts"]:
                cell += f" [at {actual:,}]"
            row[f"{r['accounts']:,}"] = cell
        row["growth"] = _growth_words(growth([_size_for(name, r) for r in result["sizes"]], series)) \
            if name in TIMED else ""
        rows.append(row)
    return rows


def markdown(result: dict[str, Any]) -> str:
    rows = table(result)
    heads = list(rows[0].keys())
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    lines += ["| " + " | ".join(str(r[h]).replace("|", "/") for h in heads) + " |" for r in rows]
    meta = result["machine"]
    lines.append("")
    lines.append(f"`accountree bench all --sizes {','.join(str(r['accounts']) for r in result['sizes'])}`, "
                 f"{result['finished_at'][:10]}, {meta}. Ours vs baseline (ratio), peak memory of ours; "
                 "k: exponent of time ∝ accounts^k over the sizes.")
    return "\n".join(lines) + "\n"


def chart(result: dict[str, Any], path: Path) -> None:
    """Time against accounts, log-log: ours solid, the baseline dashed, one colour per figure."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ModuleNotFoundError as err:
        from accountree.errors import missing_dependency

        raise (missing_dependency(err) or err) from err
    fig, ax = plt.subplots(figsize=(13, 6.5))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (name, _unit, ours, base_name, base, _peak) in enumerate(f for f in FIGURES if f[1] == "s"):
        colour = colours[i % len(colours)]
        for fn, style, label in ((ours, "-", name), (base, "--", base_name)):
            points = [(_size_for(name, r), fn(r)) for r in result["sizes"]]  # resolve, leads: their own size
            points = [(s, v) for s, v in points if isinstance(v, int | float) and v > 0]
            if points and label:
                ax.plot(*zip(*points, strict=True), style, marker="o" if style == "-" else "s", color=colour,
                        fillstyle="full" if style == "-" else "none",
                        label=label if style == "-" else f"  baseline: {label}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("accounts")
    ax.set_ylabel("seconds (log)")
    ax.set_title(f"accountree bench all — ours (solid) vs baseline (dashed)\n{result['machine']}", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def rewrite_readme(readme: Path, md: str) -> None:
    from accountree.errors import ConfigError

    text = readme.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise ConfigError(f"{readme} has no {START} … {END} markers",
                          hint="Put both markers where the benchmark table goes, then run again.")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{md}{END}{tail}", encoding="utf-8")


def run_all(sizes: list[int], out: str | Path = "bench_all", readme: str | None = None,
            from_json: str | None = None, caps: dict[str, int] | None = None, api_seconds: float = 5.0,
            log: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:  # before minutes of measuring, not after
        from accountree.errors import MissingDependencyError

        raise MissingDependencyError("bench all draws its chart with matplotlib, which is not installed",
                                     hint="pip install 'accountree[bench]'")
    if from_json:
        result = json.loads(Path(from_json).read_text(encoding="utf-8"))
    else:
        caps = {"resolve": 5_000, "leads": 5_000, "naive": 100_000, **(caps or {})}
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="accountree-bench-all-") as tmp:
            done: dict[tuple[str, int], dict[str, Any]] = {}
            per_size = [run_size(n, tmp, caps, api_seconds, log, done) for n in sorted(sizes)]
        result = {"sizes": per_size, "caps": caps,
                  "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, load average "
                             f"{os.getloadavg()[0]:.1f} at the end",
                  "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
                  "seconds": round(time.perf_counter() - started, 1)}
    result["table"] = table(result)
    (out_dir / "bench_all.json").write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
    md = markdown(result)
    (out_dir / "bench_all.md").write_text(md, encoding="utf-8")
    chart(result, out_dir / "bench_all.png")
    if readme:
        rewrite_readme(Path(readme), md)
    result["files"] = {k: str(out_dir / f"bench_all.{k}") for k in ("json", "md", "png")}
    return result
