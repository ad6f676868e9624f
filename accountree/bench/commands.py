"""`accountree bench …` commands: each prints its figures and the ratios to its baselines."""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

from accountree.console import JsonOption, console, print_json, run, table_of

bench_app = typer.Typer(help="Benchmarks: figures measured side by side with baselines.", no_args_is_help=True)


def _show(result: dict, as_json: bool, title: str) -> None:
    if as_json:
        print_json(result)
    else:
        console.print(table_of([{"measure": k, "value": v} for k, v in result.items()], title=title))


def _call(module: str, function: str, **kwargs):
    try:
        mod = importlib.import_module(f"accountree.bench.{module}")
    except ModuleNotFoundError as err:
        from accountree.errors import MissingDependencyError

        raise MissingDependencyError(f"this benchmark is not available: {err}") from err
    return getattr(mod, function)(**kwargs)


@bench_app.command("import")
def bench_import(
    accounts: Annotated[int, typer.Option(help="Accounts to generate.")] = 1_000_000,
    deals: Annotated[int, typer.Option(help="Deals to generate.")] = 10_000_000,
    as_json: JsonOption = False,
) -> None:
    """Import throughput and peak memory against a raw DuckDB load of the same files."""
    run(as_json, lambda: _show(_call("import_bench", "run_import_bench", accounts=accounts, deals=deals), as_json,
                               "bench import"))


@bench_app.command("score")
def bench_score(
    accounts: Annotated[int, typer.Option(help="Accounts to score.")] = 1_000_000,
    as_json: JsonOption = False,
) -> None:
    """Scoring throughput (grid and model), training time, AUC of the model against the grid."""
    run(as_json, lambda: _show(_call("score_bench", "run_score_bench", accounts=accounts), as_json, "bench score"))


@bench_app.command("build")
def bench_build(
    accounts: Annotated[int | None, typer.Option(
        help="Accounts to generate (default 1000000; with --whole 100000).")] = None,
    deals_per_account: Annotated[int, typer.Option(help="Deals per account.")] = 10,
    naive_accounts: Annotated[int, typer.Option(help="Size the naive pandas+networkx baseline runs at.")] = 100_000,
    skip_naive: Annotated[bool, typer.Option("--skip-naive", help="Do not run the naive baseline.")] = False,
    whole: Annotated[bool, typer.Option("--whole", help="The whole `accountree build` (every stage) on a demo-shaped "
                                        "workspace, stage by stage, against the SQL floor.")] = False,
    workspace: Annotated[str | None, typer.Option(
        help="With --whole: the generated workspace to reuse, or to generate there and keep if the path does not "
             "exist (the build runs on a copy).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Full build time and memory, one-deal incremental refresh, ratios to a SQL floor and a naive baseline.
    With --whole: every stage of `accountree build` (KAM, ABM, leads, API read model too), default 100000 accounts."""
    if whole:
        def show_whole() -> None:
            result = _call("whole_bench", "run_whole_bench", accounts=accounts or 100_000,
                           deals_per_account=deals_per_account, workspace=workspace)
            if as_json:
                print_json(result)
            else:
                _call("whole_bench", "print_whole", result=result)
        run(as_json, show_whole)
        return
    run(as_json, lambda: _show(_call("build_bench", "run_build_bench", accounts=accounts or 1_000_000,
                                     deals_per_account=deals_per_account, naive_accounts=naive_accounts,
                                     skip_naive=skip_naive), as_json, "bench build"))


@bench_app.command("spark")
def bench_spark(
    accounts: Annotated[int, typer.Option(help="Accounts to generate.")] = 1_000_000,
    deals_per_account: Annotated[int, typer.Option(help="Deals per account.")] = 1,
    spark_master: Annotated[str, typer.Option("--spark-master", help="Spark master URL.")] = "local[*]",
    driver_memory: Annotated[str, typer.Option(help="Spark driver memory (local mode: all of Spark's heap).")] = "8g",
    skip_duckdb: Annotated[bool, typer.Option("--skip-duckdb", help="Do not run the DuckDB build alongside.")] = False,
    keep_lake: Annotated[str | None, typer.Option(help="Write the lake here and keep it [default: a temporary folder].")] = None,
    as_json: JsonOption = False,
) -> None:
    """The hierarchy, score and KPI stages on Spark into a Parquet lake, against DuckDB on the same
    generated workspace: wall time and peak memory of each whole process tree (Python + JVM)."""
    def show() -> None:
        result = _call("spark_bench", "run_spark_bench", accounts=accounts, deals_per_account=deals_per_account,
                       master=spark_master, driver_memory=driver_memory, skip_duckdb=skip_duckdb, keep_lake=keep_lake)
        if as_json:
            print_json(result)
            return
        rows = [{"engine": "spark → lake", "seconds": result["spark_seconds"], "peak_mb": result["spark_peak_mb"],
                 **{f"{k}_s": v for k, v in result["spark"]["stage_seconds"].items()}}]
        if "duckdb_seconds" in result:
            rows.append({"engine": "duckdb", "seconds": result["duckdb_seconds"], "peak_mb": result["duckdb_peak_mb"],
                         **{f"{k}_s": v for k, v in result["duckdb"]["stage_seconds"].items()}})
        console.print(table_of(rows, title=f"bench spark: {result['accounts']:,} accounts, {result['deals']:,} deals"))
        if "duckdb_error" in result:
            console.print(f"duckdb did not finish: {result['duckdb_error']}")
        console.print(f"lake {result['lake_mb']:,} MB ({result['spark']['lake_tables']} tables, "
                      f"{result['spark']['lake_rows']:,} rows); workspace {result['workspace_mb']:,} MB")
    run(as_json, show)


@bench_app.command("api")
def bench_api(
    accounts: Annotated[int, typer.Option(
        help="Accounts in the generated workspace; the issue's figure is 1000000 (~10 min to prepare: keep it "
             "with --workspace).")] = 50_000,
    group_entities: Annotated[int, typer.Option(help="Entities of the big group.")] = 10_000,
    rate: Annotated[float, typer.Option(help="Requests per second offered.")] = 200.0,
    duration: Annotated[float, typer.Option(help="Seconds of load.")] = 20.0,
    workspace: Annotated[str | None, typer.Option(
        help="Bench workspace to reuse, or to create there and keep if the path does not exist.")] = None,
    concurrency: Annotated[int, typer.Option(
        help="Then the read load: this many clients reading random account 360s back to back (0: skip).")] = 100,
    concurrency_duration: Annotated[float, typer.Option(help="Seconds of read load.")] = 10.0,
    as_json: JsonOption = False,
) -> None:
    """Account-360 and group-view latency (p50/p95) under load from a second process on loopback,
    then req/s, p50/p95 and errors of --concurrency readers of account 360s."""
    run(as_json, lambda: _show(_call("api_bench", "run_api_bench", accounts=accounts, group_entities=group_entities,
                                     rate=rate, duration=duration, workspace=workspace, concurrency=concurrency,
                                     concurrency_duration=concurrency_duration), as_json, "bench api"))


@bench_app.command("resolve")
def bench_resolve(
    accounts: Annotated[int, typer.Option(help="Demo accounts to generate (ground truth included).")] = 2000,
    seed: Annotated[int, typer.Option(help="Demo seed.")] = 7,
    all_: Annotated[bool, typer.Option("--all", help="Also every labelled set of the shared data, each with its "
                                       "columns and name only (one table).")] = False,
    names_file: Annotated[str | None, typer.Option(help="With --all: a `variant -> canonical` names list to score "
                                                   "too (e.g. cncf/gitdm's company-names-mapping).")] = None,
    shared: Annotated[str, typer.Option(help="With --all: the folder of the labelled data.")] = "../shared/data",
    engine: Annotated[str, typer.Option(help="Where the model scores the pairs (demo only): 'duckdb' or 'spark'.")] = "duckdb",
    spark_master: Annotated[str | None, typer.Option("--spark-master", help="With --engine spark.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Precision, recall and F1 of auto-merges and of the review queue against the demo's ground truth."""
    if all_:
        def table() -> None:
            rows = _call("resolve_bench", "run_all", shared=shared, names_file=names_file, accounts=accounts, seed=seed)
            if as_json:
                print_json(rows)
            else:
                console.print(table_of(rows, title="bench resolve --all (pairwise; auto = merged clusters)"))
        run(as_json, table)
        return
    def demo() -> dict:
        from accountree.resolve.pipeline import ResolveOptions

        options = ResolveOptions(engine=engine, spark_master=spark_master)
        options.check()
        return _call("resolve_bench", "run_resolve_bench", accounts=accounts, seed=seed, options=options)
    run(as_json, lambda: _show(demo(), as_json, "bench resolve"))


@bench_app.command("all")
def bench_all(
    sizes: Annotated[str, typer.Option(help="Account counts, comma-separated.")] = "10000,100000,1000000",
    out: Annotated[str, typer.Option(help="Folder for bench_all.json, bench_all.md and bench_all.png.")] = "bench_all",
    readme: Annotated[str | None, typer.Option(
        help="Rewrite this README's table between <!-- bench-all:start --> and <!-- bench-all:end -->.")] = None,
    from_json: Annotated[str | None, typer.Option(
        "--from-json", help="Do not measure: redraw the table, chart and README from this bench_all.json.")] = None,
    resolve_cap: Annotated[int, typer.Option(
        help="Largest demo size for resolve (the Python demo generator fails from ~10000 accounts today).")] = 5_000,
    leads_cap: Annotated[int, typer.Option(help="Largest demo size for lead matching.")] = 5_000,
    naive_cap: Annotated[int, typer.Option(help="Largest size for the naive pandas + networkx baseline.")] = 100_000,
    api_seconds: Annotated[float, typer.Option(help="Seconds of API read load per size.")] = 5.0,
    as_json: JsonOption = False,
) -> None:
    """Every figure at each size beside its baseline, with peak memory and growth (fitted exponent):
    import, hierarchy, resolve, whole build, refresh, scoring, lead matching, API latency."""
    def go() -> None:
        try:
            counts = [int(s.replace("_", "")) for s in sizes.split(",") if s.strip()]
        except ValueError as err:
            from accountree.errors import ConfigError

            raise ConfigError(f"--sizes must be account counts separated by commas, not {sizes!r}",
                              hint="e.g. --sizes 10000,100000") from err
        result = _call("all_bench", "run_all", sizes=counts, out=out, readme=readme, from_json=from_json,
                       caps={"resolve": resolve_cap, "leads": leads_cap, "naive": naive_cap}, api_seconds=api_seconds,
                       log=(lambda _: None) if as_json else (lambda m: console.print(f"[dim]{m}[/dim]")))
        if as_json:
            print_json(result)
        else:
            title = f"bench all ({result['machine']})"
            console.print(table_of(result["table"], title=title))
            console.print("written: " + ", ".join(result["files"].values()))
    run(as_json, go)


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")
