"""The demo's fourth seller BU and its own CRM export, with planted ABM conflicts and collisions,
and the ground truth of every conflict and collision of the resulting workspace.

`bu_cloud` (Cloud Operations, 60-day cycle) exports its deals, activities and campaigns without a
`seller_bu` column into `<bundle>/bu_cloud/` — imported with `accountree import --bu bu_cloud`
(the `demo` command does it). Planted, deterministically from the seed:
- open deals on accounts where exactly one other BU has open deals → `open_deals` conflicts;
- a recent call to contacts exactly one other BU worked in the last 90 days → `same_contact`;
- a campaign next month on accounts another BU's campaign targets within 30 days → collisions.

`truth/abm_conflicts.csv` and `truth/campaign_collisions.csv` list every conflict of those two
kinds and every collision of the whole workspace (planted or arising from the main bundle, with
`planted` true/false), at the default windows (90 and 30 days) and the reference date. They are
computed here on the CSV files with DuckDB, independently of the build stage's SQL.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb

BU_ID = "bu_cloud"
BU_ROW = (BU_ID, "Cloud Operations", 60, "Cloud hosting and FinOps")
PLANT_SHARE = 0.01  # of the accounts, for each planted kind (at least 3)
CONFLICT_WINDOW = 90
COLLISION_DAYS = 30


README = """
## Multi-BU ABM (accountree.demo.abm)
- `{bu}/`: the fourth seller BU's own CRM export (no `seller_bu` column): import it with
  `accountree import --bu {bu} <bundle>/{bu}/` after the bundle (`accountree demo` does).
- `abm_conflicts.csv` (`kind, account_id, contact_id, bus, planted`): every `open_deals` and
  `same_contact` conflict of the workspace at the reference date (90-day window): {abm_conflicts}, of
  which {abm_conflicts_planted} involve a planted record.
- `campaign_collisions.csv` (`account_id, campaign_ids, bus, planted`): every pair of campaigns of
  two BUs targeting one account within 30 days: {campaign_collisions}, {campaign_collisions_planted} planted.
"""


def _csv(path: Path) -> str:
    return str(path).replace("'", "''")


def plant(out_dir: Path, truth_dir: Path, ref: date, seed: int, accounts: int) -> dict[str, int]:
    folder = out_dir / BU_ID
    folder.mkdir(parents=True, exist_ok=True)
    k = max(3, round(accounts * PLANT_SHARE))
    con = duckdb.connect()
    try:
        # the quote is given: the sniffer reads a sample, and the first quoted field may come much later
        for name in ("deals", "activities", "contacts", "campaigns", "campaign_accounts"):
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_csv('{_csv(out_dir / (name + '.csv'))}', "  # noqa: S608
                        "all_varchar = true, header = true, delim = ',', quote = '\"', escape = '\"')")
        params = {"ref": ref, "seed": seed, "k": k}
        # open deals of the main bundle at the reference date
        con.execute("""CREATE TABLE open_main AS SELECT * FROM deals
            WHERE seller_bu IS NOT NULL AND CAST(created_at AS DATE) <= $ref
              AND (stage NOT IN ('won', 'lost') OR coalesce(CAST(close_date AS DATE), $ref) > $ref)""", {"ref": ref})
        con.execute("""CREATE TABLE cloud_deals AS
            SELECT 'DCL' || lpad(CAST(row_number() OVER (ORDER BY account_id) AS VARCHAR), 7, '0') AS deal_id,
                account_id, 'P-CL-RUN' AS product, 'proposal' AS stage, '42000.00' AS amount, 'EUR' AS currency,
                CAST($ref - 20 AS VARCHAR) AS created_at, CAST($ref + 60 AS VARCHAR) AS close_date,
                'Nora Cloud' AS owner
            FROM (SELECT account_id FROM open_main GROUP BY account_id HAVING count(DISTINCT seller_bu) = 1
                  ORDER BY hash(account_id || CAST($seed AS VARCHAR)) LIMIT $k)""", params)
        con.execute("""CREATE TABLE cloud_activities AS
            SELECT 'ACTCL' || lpad(CAST(row_number() OVER (ORDER BY contact_id) AS VARCHAR), 7, '0') AS activity_id,
                account_id, CAST($ref - 5 AS VARCHAR) AS "date", 'meeting' AS type, contact_id
            FROM (SELECT contact_id, min(account_id) AS account_id FROM activities
                  WHERE contact_id IS NOT NULL AND seller_bu IS NOT NULL
                    AND CAST("date" AS DATE) BETWEEN $ref - 90 AND $ref
                  GROUP BY contact_id HAVING count(DISTINCT seller_bu) = 1
                  ORDER BY hash(contact_id || CAST($seed AS VARCHAR)) LIMIT $k)""", params)
        con.execute("""CREATE TABLE cloud_campaigns AS SELECT 'CMPCL01' AS campaign_id, 'Cloud migration days' AS name,
            'event' AS channel, CAST($ref + 10 AS VARCHAR) AS start_date, CAST($ref + 20 AS VARCHAR) AS end_date""",
                    {"ref": ref})
        con.execute("""CREATE TABLE cloud_targets AS SELECT 'CMPCL01' AS campaign_id, account_id
            FROM (SELECT DISTINCT t.account_id FROM campaign_accounts t JOIN campaigns c USING (campaign_id)
                  WHERE CAST(c.start_date AS DATE) <= $ref + 50 AND CAST(c.end_date AS DATE) >= $ref - 20
                  ORDER BY hash(t.account_id || CAST($seed AS VARCHAR)) LIMIT $k)""", params)
        for table, file in (("cloud_deals", "deals"), ("cloud_activities", "activities"),
                            ("cloud_campaigns", "campaigns"), ("cloud_targets", "campaign_accounts")):
            con.execute(f"COPY (SELECT * FROM {table} ORDER BY ALL) TO '{_csv(folder / (file + '.csv'))}' "  # noqa: S608
                        "(HEADER, DELIMITER ',')")
        (folder / "products.csv").write_text("product_id,name,family,seller_bu,list_price,currency\n"
                                              "P-CL-RUN,Cloud Run Platform,Cloud,bu_cloud,42000,EUR\n", encoding="utf-8")
        (folder / "seller_bus.csv").write_text("bu_id,name,sales_cycle_days,description\n"
                                               + ",".join(map(str, BU_ROW)) + "\n", encoding="utf-8")
        counts = _truth(con, truth_dir, ref)
    finally:
        con.close()
    with (truth_dir / "README.md").open("a", encoding="utf-8") as readme:
        readme.write(README.format(bu=BU_ID, **{k.replace("truth/", "").replace(" ", "_"): v for k, v in counts.items()}))
    return counts


def _truth(con: duckdb.DuckDBPyConnection, truth_dir: Path, ref: date) -> dict[str, int]:
    # the workspace after both imports: main rows plus bu_cloud's, tagged
    con.execute("""CREATE TABLE all_open AS
        SELECT account_id, seller_bu, false AS planted FROM open_main
        UNION ALL SELECT account_id, 'bu_cloud', true FROM cloud_deals""")
    con.execute("""CREATE TABLE all_acts AS
        SELECT contact_id, account_id, seller_bu, false AS planted FROM activities
        WHERE contact_id IS NOT NULL AND seller_bu IS NOT NULL AND CAST("date" AS DATE) BETWEEN $since AND $ref
        UNION ALL SELECT contact_id, account_id, 'bu_cloud', true FROM cloud_activities""",
                {"ref": ref, "since": ref - timedelta(days=CONFLICT_WINDOW)})
    conflicts = truth_dir / "abm_conflicts.csv"
    con.execute(f"""COPY (
        SELECT 'open_deals' AS kind, account_id, NULL AS contact_id,
            array_to_string(list_sort(list(DISTINCT seller_bu)), ',') AS bus, bool_or(planted) AS planted
        FROM all_open GROUP BY account_id HAVING count(DISTINCT seller_bu) >= 2
        UNION ALL
        SELECT 'same_contact', coalesce(any_value(c.account_id), min(a.account_id)), a.contact_id,
            array_to_string(list_sort(list(DISTINCT a.seller_bu)), ','), bool_or(a.planted)
        FROM all_acts a LEFT JOIN contacts c ON c.contact_id = a.contact_id
        GROUP BY a.contact_id HAVING count(DISTINCT a.seller_bu) >= 2
        ORDER BY ALL) TO '{_csv(conflicts)}' (HEADER, DELIMITER ',')""")  # noqa: S608
    con.execute("""CREATE TABLE all_camp AS
        SELECT campaign_id, seller_bu, CAST(start_date AS DATE) AS s, CAST(coalesce(end_date, start_date) AS DATE) AS e,
            false AS planted FROM campaigns WHERE seller_bu IS NOT NULL AND start_date IS NOT NULL
        UNION ALL SELECT campaign_id, 'bu_cloud', CAST(start_date AS DATE), CAST(end_date AS DATE), true
        FROM cloud_campaigns""")
    con.execute("CREATE TABLE all_targets AS SELECT campaign_id, account_id FROM campaign_accounts "
                "UNION ALL SELECT campaign_id, account_id FROM cloud_targets")
    collisions = truth_dir / "campaign_collisions.csv"
    con.execute(f"""COPY (
        SELECT t1.account_id, c1.campaign_id || ',' || c2.campaign_id AS campaign_ids,
            c1.seller_bu || ',' || c2.seller_bu AS bus, c1.planted OR c2.planted AS planted
        FROM all_targets t1, all_targets t2, all_camp c1, all_camp c2
        WHERE t1.account_id = t2.account_id AND c1.campaign_id = t1.campaign_id AND c2.campaign_id = t2.campaign_id
          AND c1.seller_bu < c2.seller_bu
          AND greatest(c1.s, c2.s) - least(c1.e, c2.e) <= {COLLISION_DAYS}
        ORDER BY ALL) TO '{_csv(collisions)}' (HEADER, DELIMITER ',')""")  # noqa: S608
    n_conf = con.execute(f"SELECT count(*), count(*) FILTER (WHERE planted) FROM read_csv('{_csv(conflicts)}')").fetchone()  # noqa: S608
    n_coll = con.execute(f"SELECT count(*), count(*) FILTER (WHERE planted) FROM read_csv('{_csv(collisions)}')").fetchone()  # noqa: S608
    return {"truth/abm_conflicts": n_conf[0], "truth/abm_conflicts planted": n_conf[1],
            "truth/campaign_collisions": n_coll[0], "truth/campaign_collisions planted": n_coll[1]}


def import_bu_exports(ws, out_dir: Path) -> list[int | None]:
    """Import each BU's own export folder of a demo bundle the way a BU does (`import --bu`)."""
    from accountree.ingest import ImportOptions, import_bundle

    return [import_bundle(ws, [str(folder)], ImportOptions(bu=folder.name)).import_id
            for folder in sorted(Path(out_dir).glob("bu_*")) if folder.is_dir()]
