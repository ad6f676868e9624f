"""Leads page: the inbox with each match's evidence, the review list (accept / reject in the page,
remembered), the routing log and the new-account proposals — all read through the scoped reader,
so a BU member sees their BU's leads only."""

from __future__ import annotations

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse
from markupsafe import escape

from accountree.api.routes import leads as reads
from accountree.web.pages import Page, PageWriter
from accountree.web.views_accounts import label_maps

router = APIRouter(default_response_class=HTMLResponse)
# Words for the match methods shown on the page (exports and the API keep the codes; leads/README.md).
METHOD_LABELS = {
    "manual": "accepted by a reviewer", "crm": "CRM account id", "contact": "known contact",
    "domain": "e-mail domain", "domain_group": "domain, group entity", "domain_group_head": "domain, group head",
    "domain+name": "domain + typed name", "name_over_domain": "typed name over domain",
    "domain_majority": "domain, most holders' group", "domain_country": "domain + country",
    "domain_duplicates": "domain, duplicates (review)", "website": "website", "name": "typed name",
    "name_fuzzy": "typed name, close spelling", "name_start": "brand", "name_prefix": "typed name + place or part",
    "ambiguous": "ambiguous (review)", "unmatched": "unmatched",
}


@router.get("/leads")
def leads_page(pc: Page, page_no: int = Query(1, alias="page", ge=1, le=100_000),
               review: bool = Query(False)):
    r = pc.reader
    inbox = reads.inbox(r, review, page_no, 50) if r.has("lead_matches") else None
    to_review = reads.inbox(r, True, 1, 25) if r.has("lead_matches") else None
    for row in (to_review.items if to_review else []):
        row["_choices"] = [row["account_id"]] if row["account_id"] else \
            [c.strip() for c in (row["candidates"] or "").split(";") if c.strip() and "…" not in c][:3]
    routes = reads.routes(r, 1, 50) if r.has("lead_routing") else None
    proposals = reads.proposals(r, 1, 25) if r.has("new_account_proposals") else None
    bu_names, _ = label_maps(r)
    return pc.render("leads.html", "leads", "Leads", inbox=inbox, to_review=to_review, routes=routes,
                     proposals=proposals, review=review, bu_names=bu_names, methods=METHOD_LABELS)


@router.post("/ui/leads/{lead_id}/{account_id}/{decision}")
def decide(pc: PageWriter, lead_id: str = Path(max_length=200), account_id: str = Path(max_length=200),
           decision: str = Path(pattern="^(accept|reject)$")):
    reads.decide(pc.ctx, lead_id, account_id, decision)
    label = "accepted" if decision == "accept" else "rejected"
    return HTMLResponse(f'<td colspan="6"><span class="badge">{escape(label)}: {escape(account_id)}</span> '
                        '<span class="muted">remembered; leads matched again</span></td>')
