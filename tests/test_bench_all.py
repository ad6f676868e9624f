"""`accountree bench all` (issue 24): one run at a small size writes JSON, Markdown, a PNG and the
README table; the growth fit; a missing matplotlib is a one-line error with its pip command."""

from __future__ import annotations

import json
import math

import pytest

from accountree.bench import all_bench
from accountree.errors import MissingDependencyError, missing_dependency


def test_growth_is_the_fitted_exponent():
    sizes = [10_000, 100_000, 1_000_000]
    assert all_bench.growth(sizes, [1.0, 10.0, 100.0]) == 1.0
    assert all_bench.growth(sizes, [1.0, 100.0, 10_000.0]) == 2.0
    assert all_bench.growth(sizes, [2.0, 2.0, 2.0]) == 0.0
    # least squares over three points: log-values 0, 1, 3 (decades) against 0, 1, 2 -> slope 1.5
    assert all_bench.growth(sizes, [1.0, 10.0, 1000.0]) == 1.5
    assert all_bench.growth(sizes, [1.0, None, None]) is None  # one point: no fit
    assert all_bench._growth_words(1.05).endswith("(linear)") and all_bench._growth_words(1.6).endswith("(superlinear)")


def test_a_missing_matplotlib_names_the_bench_extra(monkeypatch, tmp_path):
    hint = missing_dependency(ModuleNotFoundError(name="matplotlib")).hint
    assert hint == "pip install 'accountree[bench]'"
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else real(name, *a))
    with pytest.raises(MissingDependencyError) as err:
        all_bench.run_all([1000], out=tmp_path)
    assert err.value.hint == "pip install 'accountree[bench]'"
    assert not list(tmp_path.iterdir())  # refused before measuring anything


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("all")
    result = all_bench.run_all([1000], out=out, caps={"resolve": 400, "leads": 400}, api_seconds=1.0)
    return out, result


def test_one_run_writes_every_figure_beside_its_baseline(run):
    out, result = run
    data = json.loads((out / "bench_all.json").read_text(encoding="utf-8"))
    (size,) = data["sizes"]
    assert size["accounts"] == 1000
    errors = [v["error"] for v in size.values() if isinstance(v, dict) and "error" in v]
    assert not errors
    assert size["import"]["import_seconds"] > 0 and size["import"]["raw_load_seconds"] > 0
    assert size["whole"]["whole_build_seconds"] > 0 and size["whole"]["totals_agree"]
    assert size["naive"]["seconds"] > 0 and size["naive"]["groups"] == size["whole"]["build_totals"]["groups"]
    assert size["api"]["errors"] == 0 and size["api"]["http_p95_ms"] > size["api"]["direct_p95_ms"] > 0
    assert size["score"]["score_grid_s"] > 0 and 0.5 < size["score"]["auc_model"] <= 1
    assert size["resolve"]["accounts"] == 400 and 0 < size["resolve"]["auto"]["f1"] <= 1
    assert size["leads"]["accounts"] == 400 and size["leads"]["leads"] > 0
    table = {row["figure"]: row for row in data["table"]}
    assert len(table) == len(all_bench.FIGURES)
    whole = table["whole build, every stage"]["1,000"]
    assert " vs " in whole and "×" in whole and "MB" in whole
    assert "[at 400]" in table["resolve P / R / F1, auto-merges"]["1,000"]
    png = (out / "bench_all.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    md = (out / "bench_all.md").read_text(encoding="utf-8")
    assert md.startswith("| figure | unit | baseline | 1,000 | growth |") and "whole build, every stage" in md


def test_the_readme_table_is_rewritten_from_the_json(run, tmp_path):
    out, result = run
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n## Benchmarks\nintro\n{all_bench.START}\nold table\n{all_bench.END}\nafter\n",
                      encoding="utf-8")
    again = all_bench.run_all([], out=tmp_path / "again", readme=str(readme), from_json=str(out / "bench_all.json"))
    assert again["table"] == result["table"]
    text = readme.read_text(encoding="utf-8")
    assert "old table" not in text and text.endswith(f"{all_bench.END}\nafter\n") and "intro" in text
    assert (out / "bench_all.md").read_text(encoding="utf-8") in text
    readme.write_text("no markers\n", encoding="utf-8")
    with pytest.raises(Exception, match="markers"):
        all_bench.rewrite_readme(readme, "x")
    assert not math.isnan(result["seconds"])


def test_the_command_redraws_from_json_and_refuses_bad_sizes(run, tmp_path):
    from typer.testing import CliRunner

    from accountree.cli import app

    out, result = run
    runner = CliRunner()
    done = runner.invoke(app, ["bench", "all", "--from-json", str(out / "bench_all.json"), "--out", str(tmp_path),
                               "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["table"] == result["table"] and (tmp_path / "bench_all.png").exists()
    bad = runner.invoke(app, ["bench", "all", "--sizes", "10k", "--out", str(tmp_path / "x")])
    assert bad.exit_code != 0 and "--sizes" in bad.output and "Traceback" not in bad.output
