"""Status history: when each account (and each group) entered each status, across builds.

A build at as-of date D compares the status it computed with the open stay of each account:
- same status: nothing changes;
- changed, the open stay began before D: it is closed (`left_on = D`) and a new stay opens on D
  with `previous_status` set, which is what transition reports read;
- changed, the open stay began on D (a same-day rebuild): the stay's status is corrected in place;
- the open stay began after D (a back-dated build): history is left alone.
"""

from __future__ import annotations

from datetime import UTC, datetime

from accountree.kpi.scope import scoped, used_params
from accountree.store import Workspace

_CORRECT = """
UPDATE kpi_status_history SET status = k.status
FROM CURRENT k
WHERE kpi_status_history.scope = 'SCOPE' AND kpi_status_history.account_id = k.account_id
  AND kpi_status_history.left_on IS NULL AND kpi_status_history.entered_on = $as_of
  AND kpi_status_history.status <> k.status AND TRUE /*scope:FILTER:k.account_id*/
"""

_CLOSE = """
UPDATE kpi_status_history SET left_on = $as_of
WHERE scope = 'SCOPE' AND left_on IS NULL AND entered_on < $as_of AND TRUE /*scope:FILTER:account_id*/
  AND NOT EXISTS (SELECT 1 FROM CURRENT k
                  WHERE k.account_id = kpi_status_history.account_id AND k.status = kpi_status_history.status
                    AND TRUE /*scope:FILTER:k.account_id*/)
"""

_OPEN = """
INSERT INTO kpi_status_history (scope, account_id, status, entered_on, left_on, previous_status, recorded_at)
SELECT 'SCOPE', k.account_id, k.status, $as_of, NULL, p.status, $recorded_at
FROM CURRENT k
LEFT JOIN kpi_status_history p
       ON p.scope = 'SCOPE' AND p.account_id = k.account_id AND p.left_on = $as_of AND p.entered_on < $as_of
      AND TRUE /*scope:FILTER:p.account_id*/
WHERE TRUE /*scope:FILTER:k.account_id*/
  AND NOT EXISTS (SELECT 1 FROM kpi_status_history o
                  WHERE o.scope = 'SCOPE' AND o.account_id = k.account_id
                    AND (o.left_on IS NULL OR o.entered_on > $as_of) AND TRUE /*scope:FILTER:o.account_id*/)
"""

# (scope, the current statuses, the scope filter an incremental refresh applies)
_SOURCES = {
    "account": ("(SELECT account_id, status FROM account_kpis)", "accounts"),
    "group": ("(SELECT account_id, group_status AS status FROM group_kpis)", "ingroups"),
}


HISTORY = "kpi_status_history"


def _statement(template: str, scope: str, history: str, tables: dict[str, str]) -> str:
    current, filter_ = _SOURCES[scope]
    for table, copy in tables.items():
        current = current.replace(f"FROM {table})", f"FROM {copy})")
    return (template.replace("SCOPE", scope).replace("CURRENT", current).replace("FILTER", filter_)
            .replace(HISTORY, history))


def record_statuses(ws: Workspace, params: dict, history: str = HISTORY, tables: dict[str, str] | None = None,
                    id_tables: str | None = None) -> None:
    """Apply this build's statuses to the history (inside the caller's transaction).

    An incremental refresh passes its copies: `history` (the scope's history rows), `tables`
    (`account_kpis` / `group_kpis` → their refreshed rows) and `id_tables`, the scope (see `scoped`).
    """
    run_params = {"as_of": params["as_of"], "recorded_at": datetime.now(UTC).replace(tzinfo=None)}
    for kind in _SOURCES:
        for template in (_CORRECT, _CLOSE, _OPEN):
            sql = scoped(_statement(template, kind, history, tables or {}), id_tables)
            ws.engine.execute(sql, used_params(sql, run_params))

