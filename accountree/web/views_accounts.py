"""Account 360, with the edits users make there: buying roles and alert acknowledgements (htmx)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse

from accountree.api import writes
from accountree.api.reads import accounts as reads
from accountree.api.reads.common import kpi_years, year_label
from accountree.api.reads.stakeholders import BUYING_ROLES, meddic_gaps, org_chart
from accountree.web.pages import Page, PageWriter

router = APIRouter(default_response_class=HTMLResponse)
YEARS = ("py3", "py2", "py1", "cy")


@router.get("/accounts/{account_id}")
def account(account_id: str, pc: Page):
    a = pc.ctx.cached("account_360", (account_id,), lambda: reads.account_360(pc.reader, account_id))
    people = a["stakeholders"]["data"]
    kpis = a["kpis"].get("data") or {}
    labels = kpi_years(pc.reader)
    years = [{"year": year_label(labels, y), "revenue": kpis.get(f"revenue_{y}"), "margin": kpis.get(f"margin_{y}")}
             for y in YEARS if f"revenue_{y}" in kpis]
    bu_names, product_names = label_maps(pc.reader)
    activities = [{**x, "type": str(x.get("type") or "").replace("_", " ").capitalize() or None,
                   "business unit": bu_names.get(x.get("seller_bu"), x.get("seller_bu")) or "shared"}
                  for x in (a["activities"].get("data") or [])]
    return pc.render("account.html", "accounts", a["account"]["name"], a=a, kpis=kpis, years=years,
                     bu_names=bu_names, product_names=product_names, activities=activities, year_labels=labels,
                     chart=org_chart(people), gaps=meddic_gaps(people), roles=BUYING_ROLES)


def label_maps(r) -> tuple[dict[str, str], dict[str, str]]:
    """Names for codes shown on pages: seller business units and products (labels, not raw values)."""
    bus = dict(r.fetchall("SELECT bu_id, name FROM seller_bus WHERE name IS NOT NULL")) if r.has("seller_bus") else {}
    products = dict(r.fetchall("SELECT product_id, name FROM products WHERE name IS NOT NULL")) if r.has("products") else {}
    return bus, products


@router.post("/ui/contacts/{contact_id}/buying-role")
def set_role(contact_id: str, buying_role: Annotated[str, Form(max_length=40)], pc: PageWriter):
    writes.set_buying_role(pc.ctx, contact_id, buying_role)
    label = buying_role.replace("_", " ")
    return HTMLResponse(f'<span class="badge role">{label}</span> <span class="muted">saved</span>')


@router.post("/ui/alerts/{alert_id}/ack")
def ack(alert_id: str, pc: PageWriter):
    writes.ack_alert(pc.ctx, alert_id, None)
    return HTMLResponse('<span class="badge">acknowledged</span>')
