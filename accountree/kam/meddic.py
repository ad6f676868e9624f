"""MEDDIC per opportunity: Metrics, Economic buyer, Decision criteria, Decision process, Identify
pain, Champion.

Stored in the `meddic` table: filled from deal attributes at build time (CRM exports often carry
MEDDIC as custom fields) and edited by users; an edited row is never overwritten by a rebuild.
When no economic buyer or champion is written down, the one named by the contacts' buying roles
on the deal's account is used, and the row says so (`…_source = 'inferred from contacts'`).
Only the contacts the deal's seller BU may see are used — shared people (`seller_bu` empty) and
the BU's own: a MEDDIC row is read by whoever may read the deal, so it must never name another
BU's private people (`accountree.api.access`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa

from accountree.errors import ConfigError, NotFoundError
from accountree.kam.inputs import KamInputs, attributes_by_name
from accountree.kam.settings import reference_date
from accountree.store import Workspace, current_user

ELEMENTS = ("metrics", "economic_buyer", "decision_criteria", "decision_process", "identify_pain", "champion")
LABELS = {"metrics": "Metrics", "economic_buyer": "Economic buyer", "decision_criteria": "Decision criteria",
          "decision_process": "Decision process", "identify_pain": "Identify pain", "champion": "Champion"}
INFERRED = "inferred from contacts"
LEFT = "left the company"
_SELECT = ("SELECT deal_id, metrics, economic_buyer, decision_criteria, decision_process, identify_pain, champion, "
           "source, updated_by, updated_at FROM meddic")


def _plain(e: str) -> str:
    """The element `e` (a constant of this module) is named in `t` (the attributes' text; `l`: lower
    case) at most once, exactly — a quoted lower-case key, no other spelling (case, a space for the
    underscore) — and valued by a JSON string or nothing; or not named at all."""
    spaced = e.replace("_", " ")
    other = f" AND strpos(l, '{spaced}') = 0" if spaced != e else ""
    return (f"((strpos(l, '{e}') = 0{other}) OR (strpos(t, '\"{e}\"') > 0{other} "
            f"AND strpos(substr(l, strpos(l, '{e}') + {len(e)}), '{e}') = 0 "
            f"AND (json_extract_string(attributes, '$.{e}') IS NULL "
            f"OR CAST(json_extract(attributes, '$.{e}') AS VARCHAR) LIKE '\"%')))")


# Deals whose attributes name a MEDDIC element in any spelling (`t`: their text, `l`: lower case),
# and whether they name them plainly (`_plain`, no `\u` escape either): those the engine reads
# as they are; Python parses the others (names normalised, any value written as Python writes it).
MEDDIC_CANDIDATES = f"""
SELECT deal_id, attributes, strpos(t, '\\u') = 0 AND {' AND '.join(_plain(e) for e in ELEMENTS)} AS plain
FROM (SELECT deal_id, attributes, t, lower(t) AS l
      FROM (SELECT deal_id, attributes, CAST(attributes AS VARCHAR) AS t FROM deals WHERE attributes IS NOT NULL) x) y
WHERE {' OR '.join(f"strpos(l, '{w}') > 0" for w in sorted({*ELEMENTS, *(e.replace('_', ' ') for e in ELEMENTS)}))}
"""  # noqa: S608 - composed from ELEMENTS
# The import rows of the plain candidates, but those edited by users and those naming nothing.
MEDDIC_FROM_DEALS = f"""
INSERT INTO meddic (deal_id, {', '.join(ELEMENTS)}, source, updated_by, updated_at)
SELECT deal_id, {', '.join(ELEMENTS)}, 'import', CAST(NULL AS VARCHAR), CAST(NULL AS TIMESTAMP) FROM (
    SELECT deal_id, {', '.join(f"nullif(json_extract_string(attributes, '$.{e}'), '') AS {e}" for e in ELEMENTS)}
    FROM kam_meddic_candidates_step WHERE plain) d
WHERE ({' OR '.join(f"{e} IS NOT NULL" for e in ELEMENTS)})
  AND deal_id NOT IN (SELECT deal_id FROM meddic WHERE source <> 'import')
"""  # noqa: S608 - composed from ELEMENTS


def sync_from_deals(ws: Workspace) -> int:
    """Refresh the imported MEDDIC rows from deal attributes; rows edited by users are kept. The
    engine reads the attributes that name the elements plainly (`MEDDIC_FROM_DEALS`, nearly all);
    Python the few others (names spelt otherwise, values that are no JSON strings)."""
    engine = ws.engine
    engine.materialize("kam_meddic_candidates_step", MEDDIC_CANDIDATES, temporary=True)
    edited = {r[0] for r in engine.fetchall("SELECT deal_id FROM meddic WHERE source <> 'import'")}
    rows = []
    for deal_id, raw in engine.fetchall("SELECT deal_id, attributes FROM kam_meddic_candidates_step "
                                        "WHERE NOT plain ORDER BY deal_id"):
        if isinstance(raw, str) and not any(e in raw.lower().replace(" ", "_") for e in ELEMENTS):
            continue  # no MEDDIC element named in the text: not worth parsing (most deals)
        named = attributes_by_name(raw)  # parsed once for the six elements
        values = {e: named.get(e) for e in ELEMENTS}
        if deal_id in edited or all(v is None for v in values.values()):
            continue
        rows.append({"deal_id": deal_id, **{k: None if v is None else str(v) for k, v in values.items()},
                     "source": "import", "updated_by": None, "updated_at": None})
    engine.execute("DELETE FROM meddic WHERE source = 'import'")
    engine.execute(MEDDIC_FROM_DEALS)
    engine.drop_table("kam_meddic_candidates_step")
    plain = int(engine.scalar("SELECT count(*) FROM meddic WHERE source = 'import'") or 0)
    if rows:
        schema = pa.schema([("deal_id", pa.string()), *[(e, pa.string()) for e in ELEMENTS], ("source", pa.string()),
                            ("updated_by", pa.string()), ("updated_at", pa.timestamp("us"))])
        engine.insert_arrow("meddic", pa.Table.from_pylist(rows, schema=schema))
    return plain + len(rows)


def departed(value: str | None, gone: set[str]) -> bool:
    """Every person named in `value` (comma-separated) has left the account."""
    names = [n.strip().lower() for n in (value or "").split(",") if n.strip()]
    return bool(names) and all(n in gone for n in names)


def assess(deal: dict[str, Any], stored: dict[str, Any] | None, people: list[dict[str, Any]],
           gone: set[str] | None = None) -> dict[str, Any]:
    """The six elements of one deal, where each comes from, completeness 0–100 and the gaps.

    `people` are the contacts of the deal's account still in place, with their buying roles;
    `gone` the lower-cased names of those who left: an economic buyer or champion who left is a
    gap again (the value stays, its source says `left the company`).
    """
    stored = stored or {}
    out: dict[str, Any] = {"deal_id": deal["deal_id"], "account_id": deal["account_id"], "stage": deal["stage"],
                           "amount_rc": deal.get("amount_rc"), "owner": deal.get("owner")}
    for element in ELEMENTS:
        value = stored.get(element)
        out[element] = value if value not in (None, "") else None
    lost = set()
    for role in ("economic_buyer", "champion"):
        out[f"{role}_source"] = ("user" if stored.get("source") == "user" else "deal") if out[role] else None
        if out[role] is not None and departed(out[role], gone or set()):
            out[f"{role}_source"] = LEFT
            lost.add(role)
        if out[role] is None or role in lost:
            holders = sorted((p["name"] or p["contact_id"]) for p in people if p["buying_role"] == role)
            if holders:
                out[role] = ", ".join(holders)
                out[f"{role}_source"] = INFERRED
                lost.discard(role)
    gaps = [e for e in ELEMENTS if out[e] is None or e in lost]
    out["completeness"] = round(100 * (len(ELEMENTS) - len(gaps)) / len(ELEMENTS))
    out["gaps"] = ", ".join(LABELS[g] for g in gaps)
    out["gap_list"] = gaps
    return out


def _role_columns(role: str) -> str:
    """The value, source and gap of `economic_buyer` or `champion` (the rule of `assess`)."""
    written, holders = f"nullif(m.{role}, '')", f"h.{role}"
    lost = f"({written} IS NOT NULL AND coalesce(x.{role}, FALSE))"
    inferred = f"(({written} IS NULL OR {lost}) AND {holders} IS NOT NULL)"
    return (f"CASE WHEN {inferred} THEN {holders} ELSE {written} END AS {role}, "
            f"CASE WHEN {inferred} THEN '{INFERRED}' WHEN {lost} THEN '{LEFT}' "
            f"WHEN {written} IS NOT NULL THEN CASE WHEN m.source = 'user' THEN 'user' ELSE 'deal' END END AS {role}_source, "
            f"({written} IS NULL AND {holders} IS NULL) OR ({lost} AND {holders} IS NULL) AS gap_{role}")


_ROLES = ("economic_buyer", "champion")
_OTHERS = tuple(e for e in ELEMENTS if e not in _ROLES)
_GAPS = {e: f"gap_{e}" if e in _ROLES else f"nullif(m.{e}, '') IS NULL" for e in ELEMENTS}

# One row per open deal: the six elements (the stored row's, an economic buyer or champion who left
# or is missing inferred from the contacts in place the deal's BU may see), completeness and gaps.
# Param: as_of.
MEDDIC_ROWS = f"""
WITH d AS (
    SELECT deal_id, account_id, stage, amount_rc, owner, seller_bu FROM deals
    WHERE stage IS NULL OR stage NOT IN ('won', 'lost')
), people AS (
    SELECT d.deal_id, c.contact_id, coalesce(nullif(c.name, ''), c.contact_id) AS shown, c.name,
           coalesce(r.buying_role, c.buying_role) AS buying_role,
           coalesce(c.end_date <= CAST(? AS DATE), FALSE) AS has_left
    FROM d JOIN contacts c ON c.account_id = d.account_id AND (c.seller_bu IS NULL OR c.seller_bu = d.seller_bu)
    LEFT JOIN kam_contact_roles r ON r.contact_id = c.contact_id
), holders AS (  -- one row per deal: the names in place holding each role
    SELECT deal_id, {', '.join(f"string_agg(shown, ', ' ORDER BY shown) FILTER (WHERE buying_role = '{r}') AS {r}"
                               for r in _ROLES)}
    FROM people WHERE NOT has_left AND buying_role IN ('economic_buyer', 'champion') GROUP BY deal_id
), gone AS (
    SELECT DISTINCT deal_id, lower(trim(name)) AS name FROM people WHERE has_left AND coalesce(name, '') <> ''
), named AS (
    SELECT deal_id, role, lower(trim(name)) AS name FROM (
        SELECT deal_id, 'economic_buyer' AS role, unnest(string_split(economic_buyer, ',')) AS name FROM meddic
        UNION ALL
        SELECT deal_id, 'champion', unnest(string_split(champion, ',')) FROM meddic) x
    WHERE trim(name) <> ''
), departed AS (  -- one row per deal: has everyone named in each role left? (NULL: nobody named)
    SELECT n.deal_id, {', '.join(f"CASE WHEN count(*) FILTER (WHERE n.role = '{r}') > 0 THEN count(g.name) FILTER "
                                 f"(WHERE n.role = '{r}') = count(*) FILTER (WHERE n.role = '{r}') END AS {r}"
                                 for r in _ROLES)}
    FROM named n LEFT JOIN gone g ON g.deal_id = n.deal_id AND g.name = n.name GROUP BY n.deal_id
), e AS (
    SELECT d.deal_id, d.account_id, d.stage, d.amount_rc, d.owner,
           {', '.join(f"nullif(m.{e}, '') AS {e}" for e in _OTHERS)},
           {_role_columns('economic_buyer')}, {_role_columns('champion')}
    FROM d LEFT JOIN meddic m ON m.deal_id = d.deal_id
    LEFT JOIN holders h ON h.deal_id = d.deal_id LEFT JOIN departed x ON x.deal_id = d.deal_id
)
SELECT deal_id, account_id, stage, amount_rc, owner, {', '.join(ELEMENTS)}, economic_buyer_source, champion_source,
       CAST(round(100.0 * ({' + '.join(f"CASE WHEN {_GAPS[e].replace('m.', '')} THEN 0 ELSE 1 END" for e in ELEMENTS)}) / 6)
            AS BIGINT) AS completeness,
       concat_ws(', ', {', '.join(f"CASE WHEN {_GAPS[e].replace('m.', '')} THEN '{LABELS[e]}' END" for e in ELEMENTS)})
           AS gaps
FROM e
"""  # noqa: S608 - composed from ELEMENTS, LABELS and the role names; values are bound


def build_meddic(ws: Workspace, as_of: date) -> int:
    """`kam_meddic` (step `kam_meddic`): one row per open deal, by the engine; returns its rows."""
    from accountree.kam.tables import cast_select

    ws.engine.materialize("kam_meddic", cast_select("kam_meddic", MEDDIC_ROWS), params=[as_of])
    return int(ws.engine.scalar("SELECT count(*) FROM kam_meddic"))


# Deals whose MEDDIC names a champion (not inferred): the champions a `champion_lost` alert knows by name.
NAMED_CHAMPIONS = ("SELECT account_id, champion, champion_source FROM kam_meddic "
                   "WHERE champion IS NOT NULL AND champion_source IS DISTINCT FROM 'inferred from contacts'")


def stored_rows(ws: Workspace) -> dict[str, dict[str, Any]]:
    return {r["deal_id"]: r for r in ws.engine.fetch_dicts(_SELECT)}


def visible_to(contact_bu: str | None, deal_bu: str | None) -> bool:
    """May a deal of `deal_bu` use this contact? Shared people (no BU) and the deal's BU's own."""
    return contact_bu is None or contact_bu == deal_bu


def meddic_rows(inputs: KamInputs, stored: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per open deal, inferred from the contacts its seller BU may see."""
    in_place: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
    gone: dict[tuple[str, str | None], set[str]] = {}
    for c in inputs.contacts:  # keyed by (account, contact's BU): None = shared
        key = (c["account_id"], c.get("seller_bu"))
        if not c["left"]:
            in_place.setdefault(key, []).append(c)
        elif c["name"]:
            gone.setdefault(key, set()).add(c["name"].strip().lower())
    out = []
    for d in inputs.deals:
        if d["stage"] in ("won", "lost"):
            continue
        keys = [(d["account_id"], None)] + ([(d["account_id"], d.get("seller_bu"))] if d.get("seller_bu") else [])
        people = sorted((c for k in keys for c in in_place.get(k, [])), key=lambda c: c["contact_id"])
        left = set().union(*(gone.get(k, set()) for k in keys))
        out.append(assess(d, stored.get(d["deal_id"]), people, left))
    return out


def meddic(ws: Workspace, deal_id: str, as_of: date | None = None) -> dict[str, Any]:
    """MEDDIC of one deal (open or closed), computed live from the stored row and the contacts."""
    deals = ws.engine.fetch_dicts(
        "SELECT deal_id, account_id, stage, amount_rc, owner, seller_bu FROM deals WHERE deal_id = ?", [deal_id])
    if not deals:
        raise NotFoundError(f"no deal {deal_id!r} in this workspace", hint="Check the id with `accountree export deals`.")
    people = ws.engine.fetch_dicts(
        "SELECT c.contact_id, c.name, coalesce(r.buying_role, c.buying_role) AS buying_role, "
        "c.end_date IS NOT NULL AND c.end_date <= ? AS has_left FROM contacts c "
        "LEFT JOIN kam_contact_roles r ON r.contact_id = c.contact_id WHERE c.account_id = ? "
        "AND (c.seller_bu IS NULL OR c.seller_bu = ?) ORDER BY c.contact_id",
        [reference_date(ws, as_of), deals[0]["account_id"], deals[0]["seller_bu"]])
    stored = ws.engine.fetch_dicts(_SELECT + " WHERE deal_id = ?", [deal_id])
    gone = {p["name"].strip().lower() for p in people if p["has_left"] and p["name"]}
    result = assess(deals[0], stored[0] if stored else None, [p for p in people if not p["has_left"]], gone)
    result["stored"] = stored[0] if stored else None
    return result


def update_meddic(ws: Workspace, deal_id: str, fields: dict[str, str | None], user: str | None = None) -> dict[str, Any]:
    """Write some MEDDIC elements of a deal (None or '' clears one); the row becomes user-owned."""
    unknown = sorted(set(fields) - set(ELEMENTS))
    if unknown:
        raise ConfigError(f"unknown MEDDIC element(s): {', '.join(unknown)}", hint=f"Elements: {', '.join(ELEMENTS)}.")
    if ws.engine.scalar("SELECT count(*) FROM deals WHERE deal_id = ?", [deal_id]) == 0:
        raise NotFoundError(f"no deal {deal_id!r} in this workspace")
    # read and write under the deal's lock, in one transaction: two users editing different
    # elements of one deal at once both keep their edit (no lost update)
    with ws.engine.exclusive(f"record:{deal_id}"), ws.engine.transaction():
        current = stored_rows_for(ws, deal_id)
        for key, value in fields.items():
            current[key] = value.strip() if isinstance(value, str) and value.strip() else None
        ws.engine.execute("DELETE FROM meddic WHERE deal_id = ?", [deal_id])
        ws.engine.execute(
            "INSERT INTO meddic (deal_id, metrics, economic_buyer, decision_criteria, decision_process, identify_pain, "
            "champion, source, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'user', ?, ?)",
            [deal_id, *[current.get(e) for e in ELEMENTS], user or current_user(),
             datetime.now(UTC).replace(tzinfo=None)])
    return meddic(ws, deal_id)


def stored_rows_for(ws: Workspace, deal_id: str) -> dict[str, Any]:
    rows = ws.engine.fetch_dicts(_SELECT + " WHERE deal_id = ?", [deal_id])
    return dict(rows[0]) if rows else {}
