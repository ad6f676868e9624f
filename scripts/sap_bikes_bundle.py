"""Turn SAP's "bikes" sample sales data (a B2B wholesaler's 40 customers and ~5,000 orders, Apache-2.0,
`../shared/data/sap-bikes-sales`) into an accountree bundle shaped like a real CRM export: accounts
with country and website, one won deal per sales order (net amount, order date), the sales org as
seller BU. Used to measure KAM tier shares and alerts on data that is not the demo's.

    python scripts/sap_bikes_bundle.py OUT_FOLDER [--until 2026-11-30]
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "sap-bikes-sales"


def _rows(path: Path, sep: str) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f, delimiter=sep))


def main(out: Path, until: str = "2026-11-30") -> None:
    sales = ROOT / "SAP_Sample_Content" / "Sales"
    addresses = {r["ADDRESSID"]: r for r in _rows(ROOT / "Sample_Bikes_Sales_content" / "Addresses.csv", ",")}
    partners = [r for r in _rows(sales / "BusinessPartners.csv", ";") if r["PARTNERROLE"] == "2"]
    out.mkdir(parents=True, exist_ok=True)
    with (out / "accounts.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["account_id", "name", "country", "city", "domain", "owner"])
        for p in partners:
            a = addresses.get(p["ADDRESSID"], {})
            domain = p["WEBADDRESS"].replace("http://", "").replace("https://", "").replace("www.", "").strip("/")
            name = p["COMPANYNAME"] if p["LEGALFORM"] and p["LEGALFORM"].rstrip(".") in p["COMPANYNAME"] else f"{p['COMPANYNAME']} {p['LEGALFORM']}"
            w.writerow([p["PARTNERID"], name.strip(), a.get("COUNTRY", ""),
                        a.get("CITY", ""), domain, f"seller {p['CREATEDBY'].lstrip('0')}"])
    known = {p["PARTNERID"] for p in partners}
    cut = until.replace("-", "")
    with (out / "deals.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["deal_id", "account_id", "stage", "amount", "currency", "created_at", "close_date", "seller_bu"])
        seen: set[str] = set()
        for o in _rows(sales / "SalesOrders.csv", ";"):
            if o["PARTNERID"] not in known or o["CREATEDAT"] > cut or o["SALESORDERID"] in seen:
                continue  # (the file repeats some orders: the first row is kept)
            seen.add(o["SALESORDERID"])
            day = f"{o['CREATEDAT'][:4]}-{o['CREATEDAT'][4:6]}-{o['CREATEDAT'][6:]}"
            stage = "lost" if o["LIFECYCLESTATUS"] == "X" else "won"  # a sales order is a sale; X: cancelled
            w.writerow([o["SALESORDERID"], o["PARTNERID"], stage, o["NETAMOUNT"].replace(",", "."), o["CURRENCY"],
                        day, day, o["SALESORG"].lower()])
    with (out / "seller_bus.csv").open("w", newline="", encoding="utf-8") as f:
        f.write("bu_id,name\namer,Americas\nemea,EMEA\napj,Asia-Pacific\n")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(Path(args[0]), args[args.index("--until") + 1] if "--until" in args else "2026-11-30")
