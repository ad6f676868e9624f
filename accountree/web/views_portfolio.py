"""Home, accounts list, search, key accounts, scoring and campaigns."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from accountree.api import writes
from accountree.api.reads import accounts as account_reads
from accountree.api.reads import portfolio as reads
from accountree.api.reads.common import FeatureUnavailableError, kpi_years
from accountree.web.pages import Page, PageWriter

router = APIRouter(default_response_class=HTMLResponse)


@router.get("/")
def home(pc: Page):
    return pc.render("home.html", "home", "Portfolio", o=pc.ctx.cached("overview", (), lambda: reads.overview(pc.reader)))


@router.get("/accounts")
def accounts(pc: Page, q: str | None = Query(None, max_length=200),
             status: str | None = Query(None, max_length=50), grade: str | None = Query(None, max_length=5),
             tier: str | None = Query(None, max_length=10), country: str | None = Query(None, max_length=60),
             page_no: int = Query(1, alias="page", ge=1, le=100_000)):
    f = account_reads.AccountFilters(q or None, status or None, grade or None, tier or None, country or None,
                                     sort="revenue" if "revenue_cy" in pc.reader.columns("account_kpis") else "name",
                                     descending=True)
    notice = None
    try:
        result = account_reads.list_accounts(pc.reader, f, page_no, 50)
    except FeatureUnavailableError as err:
        notice, result = err.message, account_reads.list_accounts(pc.reader, account_reads.AccountFilters(q), page_no, 50)
    args = {k: v for k, v in {"q": q, "status": status, "grade": grade, "tier": tier, "country": country}.items() if v}
    return pc.render("accounts.html", "accounts", "Accounts", result=result, args=args, notice=notice,
                     base="/accounts?" + urlencode(args) + ("&" if args else ""),
                     has_kpis=pc.reader.has("account_kpis"), has_scores=pc.reader.has("scores"))


@router.get("/search")
def search(pc: Page, q: str = Query("", max_length=200)):
    items = account_reads.search(pc.reader, q, 50) if q.strip() else []
    return pc.render("search.html", "search", "Search", q=q, items=items, years=kpi_years(pc.reader))


@router.get("/key-accounts")
def key_accounts(pc: Page, tier: int | None = Query(None, ge=1, le=3), owner: str | None = Query(None, max_length=200),
                 page_no: int = Query(1, alias="page", ge=1, le=100_000), sort: str | None = Query(None, max_length=40),
                 desc: bool = True):
    if not pc.reader.has("kam_accounts"):
        return pc.render("key_accounts.html", "kam", "Key accounts", result=None)
    result = reads.key_accounts(pc.reader, tier, page_no, 50, owner or None, sort, desc)
    args = {k: v for k, v in {"tier": tier, "owner": owner}.items() if v}
    return pc.render("key_accounts.html", "kam", "Key accounts", result=result, tier=tier, owner=owner,
                     counts=reads.kam_tier_counts(pc.reader), matrix=reads.kam_matrix(pc.reader), years=kpi_years(pc.reader),
                     settings=load_settings_of(pc), base="/key-accounts?" + urlencode(args) + ("&" if args else ""))


def load_settings_of(pc: Any) -> dict[str, float]:
    """The KAM settings the tiers were computed with (thresholds, shares), for the page's legend."""
    keys = ("tier1_threshold", "tier2_threshold", "tier1_share", "tier2_share", "wallet_quantile")
    from accountree.kam.settings import KamSettings

    out = {k: float(getattr(KamSettings(), k)) for k in keys}
    for k, v in pc.reader.fetchall("SELECT key, value FROM workspace_meta WHERE key LIKE 'kam.%'"):
        if k[4:] in out:
            out[k[4:]] = float(v)
    return out


@router.get("/alerts")
def alerts_page(pc: Page, owner: str | None = Query(None, max_length=200), kind: str | None = Query(None, max_length=40),
                severity: str | None = Query(None, max_length=10), group: str | None = Query(None, max_length=200),
                page_no: int = Query(1, alias="page", ge=1, le=100_000)):
    if not pc.reader.has("kam_alerts"):
        return pc.render("alerts.html", "alerts", "Alerts", result=None)
    args = {k: v for k, v in {"owner": owner, "kind": kind, "severity": severity, "group": group}.items() if v}
    result = reads.alert_list(pc.reader, page=page_no, page_size=50, **args)
    group_name = pc.reader.scalar("SELECT name FROM accounts WHERE account_id = ?", [group]) if group else None
    return pc.render("alerts.html", "alerts", "Alerts", result=result, args=args, facets=reads.alert_facets(pc.reader),
                     kinds=reads.ALERT_KINDS, severities=reads.SEVERITIES, group_name=group_name,
                     base="/alerts?" + urlencode(args) + ("&" if args else ""))


@router.post("/ui/alerts/ack")
async def ack_alerts(request: Request, pc: PageWriter):
    """Bulk acknowledgement from the Alerts page (htmx, CSRF header like every page write)."""
    form = await request.form()
    ids = [str(v) for v in form.getlist("alert_id")][:500]
    for alert_id in ids:
        writes.ack_alert(pc.ctx, alert_id, None)
    response = HTMLResponse(f'<span class="badge">{len(ids)} acknowledged</span>')
    response.headers["HX-Refresh"] = "true"
    return response


@router.get("/scoring")
def scoring(pc: Page, grade: str | None = Query(None, max_length=5),
            tier: str | None = Query(None, max_length=10), page_no: int = Query(1, alias="page", ge=1, le=100_000)):
    if not pc.reader.has("scores"):
        return pc.render("scoring.html", "scoring", "ICP scoring", result=None, o=None)
    result = reads.scores(pc.reader, grade or None, tier or None, page_no, 25)
    args = {k: v for k, v in {"grade": grade, "tier": tier}.items() if v}
    return pc.render("scoring.html", "scoring", "ICP scoring", result=result, o=reads.overview(pc.reader),
                     args=args, base="/scoring?" + urlencode(args) + ("&" if args else ""))


@router.get("/campaigns")
def campaigns(pc: Page, page_no: int = Query(1, alias="page", ge=1, le=100_000)):
    return pc.render("campaigns.html", "campaigns", "Campaigns", result=reads.campaigns(pc.reader, page_no, 50))


@router.get("/campaigns/{campaign_id}")
def campaign(campaign_id: str, pc: Page):
    c = reads.campaign(pc.reader, campaign_id)
    return pc.render("campaign.html", "campaigns", c["name"], c=c)
