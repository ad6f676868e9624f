"""A hand-made multi-BU bundle (no tests here), imported the way BUs do: shared files, then each
BU's own CRM export with `--bu` (a seller_bu column in a file wins).

As of 2026-06-30; BUs sw (Software, 90-day cycle), sv (Services, 120), hw (Hardware, 270).
- G1 "Groupe Alpha" (head, owner Gail) with children A1 and A2.
- A1: sw won D1 (10 000, 2025-06-01) and open D3 (P1, 2026-06-01); sv open D2 (P2, 2026-05-01);
  contact C1 worked by sw (X1) and sv (X2) in June; campaigns K1 (sw) and K2 (sv) 15 days apart,
  K3 (hw) in October.
- A2: hw won D4 (30 000), given as seller_bu=hw in the sv export (the column wins).
- S1: sw won D6 (100.00, 2026-06-01) after sv and hw meetings in May.
- S2: nothing. S3: hw open D5; targeted by K1 (sw, July) and K3 (hw, October).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from accountree.build import BuildOptions, build
from accountree.ingest import ImportOptions, import_bundle
from accountree.store import Workspace
from tests.conftest import write

AS_OF = date(2026, 6, 30)

SHARED = {
    "seller_bus.csv": "bu_id,name,sales_cycle_days\nsw,Software,90\nsv,Services,120\nhw,Hardware,270\n",
    "products.csv": "product_id,name,seller_bu\nP1,Analytics,sw\nP2,Analytics managed service,sv\nP3,Gateway,hw\n",
    "accounts.csv": ("account_id,name,parent_id,is_group_head,owner\nG1,Groupe Alpha,,true,Gail\nA1,Alpha France,G1,,Ann\n"
                     "A2,Alpha Deutschland,G1,,Cid\nS1,Solo One,,,Ann\nS2,Solo Two,,,\nS3,Solo Three,,,Cid\n"),
    "contacts.csv": "contact_id,account_id,name\nC1,A1,Chloé Martin\n",
}
SOFTWARE = {
    "deals.csv": ("deal_id,account_id,product,stage,amount,currency,created_at,close_date,owner\n"
                  "D1,A1,P1,won,10000,EUR,2025-01-01,2025-06-01,Ann\n"
                  "D3,A1,P1,proposal,7000,EUR,2026-06-01,2026-09-30,Ann\n"
                  "D6,S1,P1,won,100,EUR,2026-03-01,2026-06-01,Ann\n"),
    "activities.csv": "activity_id,account_id,date,type,contact_id\nX1,A1,2026-06-10,meeting,C1\n",
    "campaigns.csv": "campaign_id,name,start_date,end_date\nK1,Webinar,2026-07-01,2026-07-10\n",
    "campaign_accounts.csv": "campaign_id,account_id\nK1,A1\nK1,S3\n",
}
SERVICES = {
    "deals.csv": ("deal_id,account_id,product,stage,amount,currency,created_at,close_date,owner,seller_bu\n"
                  "D2,A1,P2,proposal,5000,EUR,2026-05-01,2026-10-31,Bob,\n"
                  "D4,A2,P3,won,30000,EUR,2025-10-01,2026-03-01,Cid,hw\n"),
    "activities.csv": ("activity_id,account_id,date,type,contact_id\nX2,A1,2026-06-15,email_click,C1\n"
                       "X3,S1,2026-05-01,meeting,\n"),
    "campaigns.csv": "campaign_id,name,start_date,end_date\nK2,Event,2026-07-25,2026-07-26\n",
    "campaign_accounts.csv": "campaign_id,account_id\nK2,A1\n",
}
HARDWARE = {
    "deals.csv": ("deal_id,account_id,product,stage,amount,currency,created_at,close_date,owner\n"
                  "D5,S3,P3,discovery,1000,EUR,2026-06-10,2027-03-01,Cid\n"),
    "activities.csv": "activity_id,account_id,date,type\nX4,S1,2026-05-02,meeting\n",
    "campaigns.csv": "campaign_id,name,start_date,end_date\nK3,Fair,2026-10-01,2026-10-02\n",
    "campaign_accounts.csv": "campaign_id,account_id\nK3,A1\nK3,S3\n",
}


def _folder(root: Path, name: str, files: dict[str, str]) -> str:
    for file, text in files.items():
        write(root / name / file, text)
    return str(root / name)


def load(ws: Workspace, root: Path) -> None:
    import_bundle(ws, [_folder(root, "shared", SHARED)])
    for bu, files in (("sw", SOFTWARE), ("sv", SERVICES), ("hw", HARDWARE)):
        import_bundle(ws, [_folder(root, bu, files)], ImportOptions(bu=bu))


def build_abm(ws: Workspace) -> dict:
    return build(ws, BuildOptions(as_of=AS_OF, stages=["hierarchy", "abm"]))


def rows(ws: Workspace, sql: str, params=None) -> list[dict]:
    return ws.engine.fetch_dicts(sql, params)
