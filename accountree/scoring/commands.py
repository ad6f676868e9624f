"""`accountree score …`: score with a grid, write a starter grid, train, refresh, explain, write back to the CRM."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from accountree.console import (
    JsonOption,
    WorkspaceOption,
    console,
    err_console,
    parse_day,
    print_json,
    run,
    run_on,
    table_of,
    workspace,
)
from accountree.store import Workspace

score_app = typer.Typer(help="ICP fit: points grid, learned model, grades A-F and tiers, CRM write-back.",
                        invoke_without_command=True)

AsOf = Annotated[str | None, typer.Option("--as-of", help="Date the intent signals are counted at (YYYY-MM-DD) [default: the last build's, else today].")]


def _day(value: str | None) -> date | None:
    """The date asked; None: the last build's (`accountree.build.build_as_of`), else today."""
    return parse_day(value, "--as-of")


def _summary(title: str, data: dict[str, Any]) -> None:
    console.print(f"[bold green]✓[/] {title}: " + ", ".join(f"{k} {v}" for k, v in data.items() if not isinstance(v, (dict, list))))


@score_app.callback()
def score(
    ctx: typer.Context,
    grid: Annotated[Path | None, typer.Option("--grid", help="YAML points grid to save in the workspace and score with.")] = None,
    as_of: AsOf = None,
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Score every account with the grid (saved in the workspace; packaged default if none) and the current model."""
    if ctx.invoked_subcommand is not None:
        return
    from accountree.scoring import load_grid, save_grid, score_workspace

    def compute(ws: Workspace) -> dict[str, Any]:
        loaded, version = None, None
        if grid is not None:
            loaded = load_grid(grid)
            version = save_grid(ws, loaded, grid.read_text(encoding="utf-8"))
        return score_workspace(ws, _day(as_of), loaded, version)

    run_on(workspace_, as_json, compute, lambda result: _summary("scores", result))


@score_app.command("init")
def init(
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the grid.")] = Path("icp.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write a commented starter grid fitted to the workspace's industries, technologies and sizes."""
    from accountree.errors import ConfigError
    from accountree.scoring.starter import starter_grid

    def action() -> None:
        if out.exists() and not force:
            raise ConfigError(f"{out} already exists", hint="Pass --force to overwrite it, or --out another path.")
        with workspace(workspace_) as ws:
            text = starter_grid(ws)
        out.write_text(text, encoding="utf-8")
        if as_json:
            print_json({"file": str(out)})
        else:
            console.print(f"[bold green]✓[/] starter grid written to {out}; score with `accountree score --grid {out}`")

    run(as_json, action)


@score_app.command("train")
def train(
    target: Annotated[str | None, typer.Option(
        "--target", help="What to learn: won (accounts that became customers), best (the best customers, grid's "
                         "model.best_customers) or a rule on your fields, e.g. \"Converted = 1\" [default: the grid's "
                         "model.target, best].")] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", help="A field never to learn from (repeat).")] = None,
    include: Annotated[list[str] | None, typer.Option(
        "--include", help="Keep a field the leakage guard excluded (repeat).")] = None,
    split: Annotated[str, typer.Option("--split", help="Hold-out: auto (by created_at when dates allow), time or random.")] = "auto",
    as_of: AsOf = None,
    note: Annotated[str | None, typer.Option(help="A note stored with this model version.")] = None,
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Learn the fit model from your outcome and all your fields, test it on a hold-out, keep it if it wins."""
    from accountree.errors import ConfigError
    from accountree.scoring.training import train_model

    if split not in ("auto", "time", "random"):
        raise ConfigError(f"--split must be auto, time or random, not {split!r}")

    def show(result: dict[str, Any]) -> None:
        m = result["metrics"]
        mark = "[bold green]✓[/]" if result["kept"] else "[bold yellow]✗[/]"
        console.print(f"{mark} model v{result['model_version']} ({m['learner']}, target {result['target']}): "
                      f"{result['labelled']:,} labelled accounts, {result['positives']:,} positives, "
                      f"{m['fields_used']} fields; {m['note']}")
        share = f"top grade ({m['top_grade_share']:.0%})"
        console.print(table_of([
            {"on the hold-out": "ROC AUC", "model": m["auc_model"], "grid": m["auc_grid"],
             f"one field ({m['baseline_field']})": m["auc_baseline"]},
            {"on the hold-out": f"precision, {share}", "model": m["precision_top_grade_model"],
             "grid": m["precision_top_grade_grid"], f"one field ({m['baseline_field']})": m["precision_top_grade_baseline"]},
            {"on the hold-out": "AUC by learner", "model": ", ".join(f"{k} {v}" for k, v in m["auc_by_learner"].items()),
             "grid": "", f"one field ({m['baseline_field']})": ""},
        ]))
        if m["importance"]:
            console.print("main fields (permutation importance, AUC lost): " + ", ".join(
                f"{r['field']} {r['auc_drop']:.3f}" for r in m["importance"][:6]))
        for e in result["excluded"]:
            err_console.print(f"[dim]not used:[/] {e['field']}: {e['reason']}")
        for warning in result["warnings"]:
            err_console.print(f"[yellow]warning:[/] {warning}")
        if result["kept"]:
            console.print(f"model v{result['model_version']} is in use; scores refreshed")
        else:
            console.print(f"kept {'model v' + str(result['current_model']) if result['current_model'] else 'the grid'}")

    run_on(workspace_, as_json, lambda ws: train_model(ws, _day(as_of), note=note, target=target,
                                                       exclude=tuple(exclude or ()), include=tuple(include or ()),
                                                       split=split), show)


@score_app.command("refresh")
def refresh(as_of: AsOf = None, workspace_: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """Re-score every account with the saved grid and the current model (after new data)."""
    from accountree.scoring import score_workspace

    run_on(workspace_, as_json, lambda ws: score_workspace(ws, _day(as_of)),
           lambda result: _summary("scores refreshed", result))


@score_app.command("explain")
def explain(
    account_id: Annotated[str, typer.Argument(help="The account to explain.")],
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Why an account has its score and grade: every criterion's points and the model's top reasons."""
    from accountree.scoring import explain as explain_account

    def show(info: dict[str, Any]) -> None:
        console.print(f"[bold]{account_id}[/]: grade {info['grade'] or '-'} ({info['tier'] or 'unscored'}), "
                      f"grid score {info['grid_score']}, model score {info['model_score']}, graded on {info['graded_on']}")
        if info["unscored_reason"]:
            console.print(f"[yellow]{info['unscored_reason']}[/]")
        console.print(table_of(info["criteria"], title="grid", columns=["pillar", "criterion", "value", "rule", "points",
                                                                        "max_points", "contribution"]))
        if "model" in info:
            model = info["model"]
            rows = [{"reason": r["feature"], "effect (log-odds)": f"{r['effect']:+.2f}"}
                    for r in model["top_positive"] + model["top_negative"]]
            console.print(table_of(rows, title=f"model v{model['version']} ({model.get('method', 'linear contributions')})"))

    run_on(workspace_, as_json, lambda ws: explain_account(ws, account_id), show)


@score_app.command("status")
def status(workspace_: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """Current model, when it was trained (warns when too old), grade distribution, unscored reasons."""
    from accountree.scoring import grade_distribution, model_status, unscored

    def compute(ws: Workspace) -> dict[str, Any]:
        info = {"model": model_status(ws)}
        if ws.engine.table_exists("scores"):
            info["grades"] = grade_distribution(ws)
            info["unscored"] = unscored(ws, limit=0)["by_reason"]
        return info

    def show(info: dict[str, Any]) -> None:
        model = info["model"]
        if model["model_version"]:
            console.print(f"model v{model['model_version']} (target {model['target']}) trained {model['trained_at']} "
                          f"({model['age_days']} days ago); hold-out AUC model {model['auc_model']} vs grid "
                          f"{model['auc_grid']} vs one field {model['auc_baseline']}")
            if model["drift"]:
                console.print("drift since training (PSI): " + ", ".join(f"{d['field']} {d['psi']:.3f}" for d in model["drift"]))
        if model["warning"]:
            err_console.print(f"[yellow]warning:[/] {model['warning']}")
        if "grades" in info:
            console.print(table_of(info["grades"], title="grades"))
            if info["unscored"]:
                console.print(table_of(info["unscored"], title="reasons"))

    run_on(workspace_, as_json, compute, show)


@score_app.command("models")
def models(workspace_: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """Every trained model version with its metrics; the current one is marked."""
    from accountree.scoring import model_versions

    def show(rows: list[dict[str, Any]]) -> None:
        def trio(m: dict[str, Any], key: str, old: str | None = None) -> str:
            values = [m.get(f"{key}_model", m.get(f"{old}_model") if old else None), m.get(f"{key}_grid", m.get(f"{old}_grid") if old else None),
                      m.get(f"{key}_baseline")]
            return " / ".join("-" if v is None else f"{v:.3f}" for v in values)

        console.print(table_of([{"v": r["version"], "in use": "✓" if r["current"] else "", "status": r["status"],
                                 "target": r["target"], "trained": str(r["trained_at"])[:16],
                                 "learner": r["metrics"].get("learner", "linear"), "hold-out": r["metrics"].get("split", "random"),
                                 "labelled / positives": f"{r['labelled']:,} / {r['positives']:,}",
                                 "AUC model / grid / one field": trio(r["metrics"], "auc"),
                                 "top-grade precision model / grid / one field": trio(r["metrics"], "precision_top_grade",
                                                                                        "precision_top_decile")}
                                for r in rows]))

    run_on(workspace_, as_json, model_versions, show)


@score_app.command("use-model")
def use_model(
    version: Annotated[str, typer.Argument(help="Model version to use, or 'none' for the grid only.")],
    as_of: AsOf = None,
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Go back (or forward) to another model version, and re-score."""
    from accountree.errors import ConfigError
    from accountree.scoring import score_workspace
    from accountree.scoring import use_model as choose

    def action() -> None:
        if version != "none" and not version.isdigit():
            raise ConfigError(f"version must be a number or 'none', not {version!r}")
        with workspace(workspace_) as ws:
            choose(ws, None if version == "none" else int(version))
            result = score_workspace(ws, _day(as_of))
        print_json(result) if as_json else _summary(f"model {version} in use", result)

    run(as_json, action)


@score_app.command("export-crm")
def export_crm(
    target: Annotated[str, typer.Option("--target", help="hubspot or salesforce.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write an import-ready CSV file.")] = None,
    push: Annotated[bool, typer.Option("--push", help="Update the CRM live through its API (batched, retried).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="With --push: build the batches, send nothing.")] = False,
    instance_url: Annotated[str | None, typer.Option("--instance-url", help="Salesforce instance URL, or another HubSpot API host.")] = None,
    token: Annotated[str | None, typer.Option("--token", help="Access token [default: $ACCOUNTREE_HUBSPOT_TOKEN / $ACCOUNTREE_SALESFORCE_TOKEN].")] = None,
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write score, grade, tier, group head and parent back to HubSpot companies or Salesforce accounts."""
    from accountree.errors import ConfigError
    from accountree.scoring.crm import export_crm_file, push_crm

    def action() -> None:
        if out is None and not push:
            raise ConfigError("say where the scores go: --out FILE and/or --push")
        results = []
        with workspace(workspace_) as ws:
            if out is not None:
                results.append(export_crm_file(ws, target, out))
            if push:
                key = token or os.environ.get(f"ACCOUNTREE_{target.upper()}_TOKEN")
                results.append(push_crm(ws, target, token=key, base_url=instance_url, dry_run=dry_run))
        if as_json:
            print_json(results)
        else:
            for r in results:
                _summary(f"{target} {'file ' + r['file'] if 'file' in r else 'push'}", r)

    run(as_json, action)


def register(app: typer.Typer) -> None:
    app.add_typer(score_app, name="score")
