"""`accountree score init`: a commented starter grid built from the workspace's own data.

Industries are ranked by the gross margin won from them over 3 years (then by number of accounts),
technologies by how many customers use them, and the size sweet spot is the middle half of the
customers' headcounts. With an empty workspace the packaged default grid is written.
"""

from __future__ import annotations

import json
from collections import Counter

from sqlglot import exp

from accountree.scoring.grid import default_grid_text, parse_grid
from accountree.store import Workspace

_INDUSTRIES = (
    "SELECT a.industry, count(*) AS accounts, coalesce(sum(w.margin), 0) AS margin FROM accounts a "
    "LEFT JOIN (SELECT account_id, sum(coalesce(gross_margin_rc, amount_rc, 0)) AS margin FROM deals "
    "WHERE stage = 'won' GROUP BY account_id) w ON w.account_id = a.account_id "
    "WHERE a.industry IS NOT NULL AND trim(a.industry) <> '' GROUP BY a.industry ORDER BY margin DESC, accounts DESC LIMIT 9"
)
_TECH = (
    "SELECT a.technologies, count(*) AS accounts, count(w.account_id) AS customers FROM accounts a "
    "LEFT JOIN (SELECT DISTINCT account_id FROM deals WHERE stage = 'won') w ON w.account_id = a.account_id "
    "WHERE a.technologies IS NOT NULL GROUP BY a.technologies"
)


def _yaml_list(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"


def _size_range(ws: Workspace) -> tuple[int, int]:
    col = exp.column("employees", table="a", quoted=True)
    customers = exp.select(exp.PercentileCont(this=col, expression=exp.Literal.number(0.25)),
                           exp.PercentileCont(this=col, expression=exp.Literal.number(0.75))).from_(
        exp.table_("accounts", alias="a")).where("a.employees IS NOT NULL AND a.account_id IN "
                                                 "(SELECT account_id FROM deals WHERE stage = 'won')")
    row = ws.engine.fetchone(customers)
    if not row or row[0] is None:
        row = ws.engine.fetchone(customers.where("a.employees IS NOT NULL", append=False))
    if not row or row[0] is None:
        return 50, 200
    lo, hi = int(row[0]), int(row[1])
    return lo, max(hi, lo + 1)


def _model_defaults(ws: Workspace) -> tuple[str, bool]:
    """(model.target, require_domain) that fit the data: `won` when no won deal has a gross margin
    (value fit cannot learn), no domain requirement when most accounts have none (leads, funnels)."""
    won, margins = ws.engine.fetchone(
        "SELECT count(*), count(gross_margin_rc) FROM deals WHERE stage = 'won'") or (0, 0)
    total, with_web = ws.engine.fetchone(
        "SELECT count(*), count(coalesce(domain, website)) FROM accounts") or (0, 0)
    target = "won" if won and not margins else "best"
    return target, not (total and with_web < total / 2)


def _with_model_defaults(text: str, ws: Workspace) -> str:
    import re

    target, require_domain = _model_defaults(ws)
    if target != "best":
        line = f"  target: {target}                  # no won deal has a gross margin: learn who converts (conversion fit)"
        if re.search(r"(?m)^  target: .*$", text):
            text = re.sub(r"(?m)^  target: .*$", line, text, count=1)
        else:
            text = text.replace("model:\n", f"model:\n{line}\n", 1)
    if not require_domain:
        text = re.sub(r"(?m)^require_domain: true.*$", "require_domain: false         # most accounts have no website/domain",
                      text, count=1)
    return text


def starter_grid(ws: Workspace) -> str:
    """YAML text of a grid fitted to the workspace's industries, technologies and sizes (validated)."""
    industries = [r[0] for r in ws.engine.fetchall(_INDUSTRIES)]
    if not industries:
        text = _with_model_defaults(default_grid_text(), ws)
        parse_grid(text, "starter grid")
        return text
    tech: Counter[str] = Counter()
    seen: dict[str, str] = {}
    for text, _accounts, customers in ws.engine.fetchall(_TECH):
        for token in {t.strip() for t in str(text).replace(",", ";").split(";") if t.strip()}:
            tech[token.lower()] += int(customers) or 0
            seen.setdefault(token.lower(), token)
    top_tech = [seen[t] for t, _ in tech.most_common(4)] or ["HubSpot", "Salesforce"]
    lo, hi = _size_range(ws)
    best, good = industries[:3], industries[3:6]
    good_rule = f"          - {{in: {_yaml_list(good)}, points: 15}}\n" if good else ""
    text = f"""# Starter ICP grid written by `accountree score init` from this workspace's data.
# Review it with sales and marketing, then score with: accountree score --grid icp.yaml
# Score (0-100) = sum over pillars of weight x 100 x (points earned / max points of the pillar).
# First matching rule wins; `else` = known value matching no rule; `missing` = empty value
# (points, or `required` to leave the account unscored with the reason). Ranges are inclusive.
name: Starter ICP grid
version: 1
require_domain: true
pillars:
  firmographic:
    weight: 0.4
    min_known_fields: 1
    criteria:
      # industries ranked by gross margin won over time: {", ".join(industries[:6])}
      - name: industry
        field: industry
        rules:
          - {{in: {_yaml_list(best)}, points: 25}}
{good_rule}        else: 5
        missing: 0
      # middle half of your customers' headcounts: {lo}-{hi}
      - name: company size
        field: employees
        rules:
          - {{range: [{lo}, {hi}], points: 20}}
        else: 5
        missing: 0
  technographic:
    weight: 0.3
    criteria:
      # technologies most used by your customers
      - name: technology fit
        field: technologies
        rules:
          - {{any_of: {_yaml_list(top_tech[:2])}, points: 20}}
          - {{any_of: {_yaml_list(top_tech[2:] or ["Excel"])}, points: 10}}
        else: 0
        missing: 0
  intent:
    weight: 0.3
    criteria:
      - name: pricing-page visits
        field: pricing_page_visits_30d
        rules:
          - {{range: [1, null], points: 35, label: pricing-page visit in the last 30 days}}
      - name: engagement
        field: engagement_90d
        rules:
          - {{range: [10, null], points: 15}}
          - {{range: [3, 9.999], points: 8}}
grades:
  based_on: auto
  method: auto
  thresholds: {{A: 80, B: 65, C: 50, D: 35, E: 20}}
  shares: {{A: 0.10, B: 0.15, C: 0.20, D: 0.20, E: 0.15, F: 0.20}}
tiers: {{tier_1: [A, B], tier_2: [C, D], tier_3: [E, F]}}
model:
  best_customers:
    metric: gross_margin_3y   # not won_deals_3y: deal count favours easy-to-convert, unprofitable accounts
    top_share: 0.25
    min_active_years: 2
  min_labelled: 200
  min_positives: 20
  max_age_months: 6
"""
    text = _with_model_defaults(text, ws)
    parse_grid(text, "starter grid")
    return text
