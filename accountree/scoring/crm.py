"""Write scores back to the CRM: import-ready files, or a live push through the official clients.

HubSpot: company properties keyed by `Record ID` (batch update `POST /crm/v3/objects/companies/batch/update`,
at most 100 companies per call). Salesforce: Account fields keyed by `Id` (sObject collections
`PATCH /services/data/vXX.X/composite/sobjects`, at most 200 records per call). Field names are in
`FIELDS` and documented in README.md; only CRM accounts (`source = 'crm'`) are written.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from accountree.errors import ConfigError, MissingDependencyError, NotFoundError
from accountree.store import Workspace

# accountree column -> CRM field, per target; the first entry is the record key.
FIELDS: dict[str, list[tuple[str, str]]] = {
    "hubspot": [
        ("account_id", "Record ID"),
        ("fit_score", "accountree_icp_score"),
        ("grade", "accountree_icp_grade"),
        ("hs_tier", "hs_ideal_customer_profile"),
        ("model_version", "accountree_icp_model_version"),
        ("unscored_reason", "accountree_icp_unscored_reason"),
        ("group_head_id", "accountree_group_head_id"),
        ("parent_id", "accountree_parent_company_id"),
    ],
    "salesforce": [
        ("account_id", "Id"),
        ("fit_score", "ICP_Score__c"),
        ("grade", "ICP_Grade__c"),
        ("tier", "ICP_Tier__c"),
        ("model_version", "ICP_Model_Version__c"),
        ("unscored_reason", "ICP_Unscored_Reason__c"),
        ("group_head_id", "Group_Head__c"),
        ("parent_id", "ParentId"),
    ],
}
BATCH = {"hubspot": 100, "salesforce": 200}
SF_API_VERSION = "62.0"


def _check_target(target: str) -> None:
    if target not in FIELDS:
        raise ConfigError(f"--target must be hubspot or salesforce, not {target!r}")


def crm_rows(ws: Workspace, target: str) -> list[dict[str, Any]]:
    """One dict per CRM account, keyed by the target's field names."""
    _check_target(target)
    if not ws.engine.table_exists("scores"):
        raise NotFoundError("no scores to write back yet", hint="Run `accountree score` or `accountree build` first.")
    hierarchy = ws.engine.table_exists("hierarchy")
    columns = ws.engine.table_columns("hierarchy") if hierarchy else []
    head = "h.group_head_id" if "group_head_id" in columns else "CAST(NULL AS VARCHAR)"
    parent = "coalesce(h.parent_id, a.parent_id)" if "parent_id" in columns else "a.parent_id"
    join = "LEFT JOIN hierarchy h ON h.account_id = a.account_id" if hierarchy else ""
    rows = ws.engine.fetch_dicts(
        f"SELECT a.account_id, s.fit_score, s.grade, s.tier, s.model_version, s.unscored_reason, "  # noqa: S608 - fixed fragments
        f"{head} AS group_head_id, {parent} AS parent_id "
        f"FROM accounts a JOIN scores s ON s.account_id = a.account_id {join} "
        "WHERE a.source = 'crm' ORDER BY a.account_id")
    out = []
    for row in rows:
        row["hs_tier"] = (row["tier"] or "").lower().replace(" ", "_") or None  # Tier 1 -> tier_1
        if row["fit_score"] is not None:
            row["fit_score"] = round(float(row["fit_score"]), 2)
        out.append({field: row[col] for col, field in FIELDS[target]})
    return out


def export_crm_file(ws: Workspace, target: str, out: Path, raw: bool = False) -> dict[str, Any]:
    """Write the import-ready CSV (UTF-8, header = CRM field names). Text a spreadsheet would run
    as a formula (= + - @ …) gets a leading `'` unless `raw` (`accountree.export_formats.safe_cell`)."""
    from accountree.export_formats import safe_cell

    rows = crm_rows(ws, target)
    header = [field for _, field in FIELDS[target]]
    with Path(out).open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v if raw else safe_cell(v) for k, v in row.items()})
    return {"target": target, "file": str(out), "rows": len(rows), "fields": header}


def _batches(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def hubspot_payload(batch: list[dict[str, Any]]) -> dict[str, Any]:
    key = FIELDS["hubspot"][0][1]
    return {"inputs": [{"id": str(r[key]), "properties": {k: ("" if v is None else str(v)) for k, v in r.items() if k != key}}
                       for r in batch]}


def salesforce_payload(batch: list[dict[str, Any]]) -> dict[str, Any]:
    key = FIELDS["salesforce"][0][1]
    return {"allOrNone": False, "records": [
        {"attributes": {"type": "Account"}, "id": r[key], **{k: v for k, v in r.items() if k != key}} for r in batch]}


def _with_retries(call: Callable[[], Any], retries: int, backoff: float) -> Any:
    for attempt in range(retries + 1):
        try:
            return call()
        except Exception as err:  # the clients raise their own types; retry only what is transient
            status = getattr(err, "status", None) or getattr(err, "status_code", None)
            if status is None and hasattr(err, "response"):
                status = getattr(err.response, "status_code", None)
            transient = status in (429, 500, 502, 503, 504) or status is None and "timed out" in str(err).lower()
            if not transient or attempt == retries:
                raise
            time.sleep(backoff * (2 ** attempt))
    return None


def _hubspot_sender(token: str, base_url: str | None) -> Callable[[dict[str, Any]], Any]:
    try:
        from hubspot import HubSpot
        from hubspot.crm.companies import BatchInputSimplePublicObjectBatchInput
    except ImportError as err:
        raise MissingDependencyError("the live HubSpot push needs hubspot-api-client",
                                     hint="pip install 'accountree[crm]' (or write a file with --out)") from err
    client = HubSpot(access_token=token, **({"host": base_url.rstrip("/")} if base_url else {}))

    def send(payload: dict[str, Any]) -> Any:
        body = BatchInputSimplePublicObjectBatchInput(inputs=payload["inputs"])
        return client.crm.companies.batch_api.update(batch_input_simple_public_object_batch_input=body)

    return send


def _salesforce_sender(token: str, base_url: str | None) -> Callable[[dict[str, Any]], Any]:
    try:
        from simple_salesforce import Salesforce
    except ImportError as err:
        raise MissingDependencyError("the live Salesforce push needs simple-salesforce",
                                     hint="pip install 'accountree[crm]' (or write a file with --out)") from err
    if not base_url:
        raise ConfigError("the Salesforce push needs --instance-url (https://yourdomain.my.salesforce.com)")
    sf = Salesforce(instance_url=base_url, session_id=token, version=SF_API_VERSION)
    if base_url.startswith("http://"):  # a local test server or proxy: simple-salesforce assumes https
        sf.base_url = f"{base_url.rstrip('/')}/services/data/v{SF_API_VERSION}/"

    def send(payload: dict[str, Any]) -> Any:
        return sf.restful("composite/sobjects", method="PATCH", json=payload)

    return send


def push_crm(ws: Workspace, target: str, *, token: str | None = None, base_url: str | None = None,
             dry_run: bool = False, batch_size: int | None = None, retries: int = 3, backoff: float = 0.5,
             ) -> dict[str, Any]:
    """Update the CRM records in batches; `dry_run` builds every payload and sends nothing."""
    rows = crm_rows(ws, target)
    size = min(batch_size or BATCH[target], BATCH[target])
    build = hubspot_payload if target == "hubspot" else salesforce_payload
    payloads = [build(b) for b in _batches(rows, size)]
    summary: dict[str, Any] = {"target": target, "records": len(rows), "batches": len(payloads), "dry_run": dry_run}
    if dry_run:
        summary["first_payload"] = payloads[0] if payloads else None
        return summary
    if not token:
        raise ConfigError(f"the {target} push needs an access token (--token or $ACCOUNTREE_{target.upper()}_TOKEN)")
    send = _hubspot_sender(token, base_url) if target == "hubspot" else _salesforce_sender(token, base_url)
    failed: list[dict[str, Any]] = []
    for payload in payloads:
        result = _with_retries(lambda p=payload: send(p), retries, backoff)
        if target == "salesforce":
            failed += [r for r in (result or []) if not r.get("success", True)]
        else:
            errors = getattr(result, "errors", None) or []
            failed += [e.to_dict() if hasattr(e, "to_dict") else e for e in errors]
    summary.update({"updated": len(rows) - len(failed), "failed": len(failed), "errors": failed[:20]})
    return summary
