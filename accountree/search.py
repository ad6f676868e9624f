"""Find accounts by name (accents and case ignored), domain or registry id, and turn a name typed
on the command line into an account id when it names one account only.

`accountree search NAME` lists the matches with their group and the group's consolidated figures;
`tree`, `map`, `kpis account|group|cross-sell` accept a name wherever they take an id.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

import typer

from accountree.console import JsonOption, WorkspaceOption, console, run_on, table_of
from accountree.errors import AccountreeError, NotFoundError
from accountree.store import Workspace

ACCENTS_FROM = "àáâãäåāçćčèéêëēěìíîïīñńòóôõöøōùúûüūýÿžšł"
ACCENTS_TO = "aaaaaaaccceeeeeeiiiiinnooooooouuuuuyyzsl"


class AmbiguousNameError(AccountreeError):
    """A name that matches several accounts where one is needed."""

    exit_code = 2
    http_status = 409


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in text if not unicodedata.combining(ch)).strip()


_MATCH = ("SELECT a.account_id, a.name, a.country, a.domain, {head} AS group_head_id, {head_name} AS group_name, "
          "{status} AS group_status, {revenue} AS group_revenue_cy, {entities} AS group_entities, "
          "CASE WHEN a.account_id = ? OR lower(coalesce(a.domain, '')) = ? OR a.siren = ? OR a.duns = ? "
          "OR upper(coalesce(a.lei, '')) = ? THEN 0 WHEN translate(lower(a.name), ?, ?) = ? THEN 1 "
          "WHEN translate(lower(a.name), ?, ?) LIKE ? THEN 2 ELSE 3 END AS match_rank "
          "FROM accounts a {joins} WHERE a.account_id = ? OR lower(coalesce(a.domain, '')) = ? OR a.siren = ? "
          "OR a.duns = ? OR upper(coalesce(a.lei, '')) = ? OR translate(lower(a.name), ?, ?) LIKE ? "
          "ORDER BY match_rank, a.name, a.account_id LIMIT ?")


def search(ws: Workspace, text: str, limit: int = 20) -> list[dict[str, Any]]:
    """Accounts matching `text`, exact ids and names first, each with its group's figures."""
    text = text.strip()
    if not text:
        return []
    engine = ws.engine
    has_h, has_gk = engine.table_exists("hierarchy"), engine.table_exists("group_kpis")
    joins = ""
    if has_h:
        joins += " LEFT JOIN hierarchy h ON h.account_id = a.account_id LEFT JOIN accounts ga ON ga.account_id = h.group_head_id"
    if has_gk:
        joins += " LEFT JOIN group_kpis gk ON gk.account_id = h.group_head_id" if has_h else ""
    sql = _MATCH.format(
        head="h.group_head_id" if has_h else "CAST(NULL AS VARCHAR)", head_name="ga.name" if has_h else "CAST(NULL AS VARCHAR)",
        status="gk.group_status" if has_h and has_gk else "CAST(NULL AS VARCHAR)",
        revenue="gk.revenue_cy" if has_h and has_gk else "CAST(NULL AS DOUBLE)",
        entities="gk.entities" if has_h and has_gk else "CAST(NULL AS BIGINT)", joins=joins)
    needle, lower = fold(text), text.lower()
    ids = [text, lower, text, text, text.upper()]
    params = [*ids, ACCENTS_FROM, ACCENTS_TO, needle, ACCENTS_FROM, ACCENTS_TO, f"{needle}%",
              *ids, ACCENTS_FROM, ACCENTS_TO, f"%{needle}%", int(limit)]
    return engine.fetch_dicts(sql, params)


def resolve(ws: Workspace, text: str) -> str:
    """An account id from an id or a name: the id itself; else the one account whose name is the
    text (accents and case ignored), else the one whose name contains it; several: an error that
    lists them with their ids."""
    if ws.engine.scalar("SELECT count(*) FROM accounts WHERE account_id = ?", [text]):
        return text
    if ws.engine.table_exists("account_aliases"):
        survivor = ws.engine.scalar("SELECT survivor_id FROM account_aliases WHERE old_id = ?", [text])
        if survivor:
            return str(survivor)
    found = search(ws, text, 11)
    for rank in (0, 1, 2, 3):
        best = [r for r in found if r["match_rank"] == rank]
        if len(best) == 1:
            return best[0]["account_id"]
        if len(best) > 1:
            listed = "; ".join(f"{r['name']} ({r['account_id']})" for r in best[:10])
            raise AmbiguousNameError(f"{text!r} names {len(best)}{'+' if len(best) > 10 else ''} accounts: {listed}",
                                     hint="Pass the account id, or a longer part of the name "
                                          "(`accountree search NAME` lists the matches).")
    raise NotFoundError(f"no account {text!r} (no id, and no name containing it)",
                        hint="`accountree search NAME` finds accounts.")


def register(app: typer.Typer) -> None:
    @app.command("search")
    def search_command(
        text: Annotated[str, typer.Argument(help="Part of a name (accents, case ignored), a domain, SIREN, LEI, DUNS or id.")],
        limit: Annotated[int, typer.Option(help="Accounts to show.")] = 20,
        workspace_: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Find accounts; each with its group and the group's consolidated status and revenue."""
        def show(rows: list[dict[str, Any]]) -> None:
            if not rows:
                console.print(f"no account matches {text!r}")
                return
            console.print(table_of([{"account_id": r["account_id"], "name": r["name"], "country": r["country"],
                                     "group": r["group_name"] if r["group_head_id"] != r["account_id"] else "(its head)",
                                     "group_status": r["group_status"], "group_revenue_cy": r["group_revenue_cy"],
                                     "entities": r["group_entities"]} for r in rows]))

        run_on(workspace_, as_json, lambda ws: search(ws, text, limit), show)
