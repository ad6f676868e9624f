"""Lead-to-account matching on a hand-made bundle (both engines): each kind of evidence, the
free-mail rule, sub-domains, several domains per account, the sibling rule, dirty leads."""

from __future__ import annotations

from pathlib import Path

import pytest

from accountree.build import BuildOptions, build
from accountree.ingest import import_bundle
from accountree.leads.domains import registrable
from accountree.leads.freemail import kind_of
from accountree.leads.match import match
from accountree.leads.names import NameIndex
from tests.conftest import write

ACCOUNTS = """account_id,name,parent_id,domain,domains,website,country,is_group_head
G1,IBM Corporation,,ibm.com,redhat.com; ibm.fr ; www.IBM.co.uk,,US,true
G1A,IBM France SAS,G1,ibm.fr,,,FR,
G1B,Red Hat Inc,G1,redhat.com,,,US,
G1C,IBM Deutschland GmbH,G1,ibm.com,,,DE,
G1D,IBM Software Italia SRL,G1,ibm.com,,,IT,
H2,Globex Holding AG,,globex.com,,,CH,true
S2A,Globex Iberia SL,H2,globex-eu.com,,,ES,
S2B,Globex Nordic AB,H2,globex-eu.com,,,SE,
O1,Orange SA,,orange.fr,,,FR,
W1,Umbrella Corp,,,,https://www.umbrella-corp.com/en/,US,
I1,Initech LLC,,initech.com,,,US,
SO1,Soylent Industries Inc,,soylent.com,,,US,
AC1,Acme SARL,,,,,FR,
AC2,Acme GmbH,,,,,DE,
"""
CONTACTS = """contact_id,account_id,name,email
C1,G1C,Anna K,Anna.K@gmail.com
"""
LEADS = """lead_id,name,email,company,country
L01,a,x@ibm.com,IBM Deutschland,DE
L02,b,y@us.ibm.com,IBM Research – China,CN
L03,c,z@ibm.com,,
L04,d,w@globex-eu.com,,
L05,e,anna.k@gmail.com,,
L06,f,bob@gmail.com,,
L07,g,carol@yahoo.fr,Initech,
L08,h,d@orange.fr,,
L09,i,x@mailinator.com,,
L10,j,e@umbrella-corp.com,,
L11,k,f@gmail.com,Soylant Industries,
L12,l,g@gmail.com,Acme,DE
L13,m,h@gmail.com,Acme,
L14,n,,Initech,
L15,o,i@newco.io,NewCo,FR
L16,p,j@sales.newco.io,Newco Ltd,FR
L17,q,k@redhat.com,,
L18,r,l@ibm.fr,,
L19,s,m@ibm.com,Red Hat,
L20,t,n@ibm.co.uk,,
L21,u,,,
"""


def _bundle(tmp_path: Path) -> Path:
    folder = tmp_path / "b"
    write(folder / "accounts.csv", ACCOUNTS)
    write(folder / "contacts.csv", CONTACTS)
    write(folder / "leads.csv", LEADS)
    return folder


@pytest.fixture
def matched(workspace, tmp_path):
    import_bundle(workspace, [str(_bundle(tmp_path))])
    build(workspace, BuildOptions(stages=["hierarchy"]))
    # a malformed address as a lenient import keeps it (the matcher must not trust the column)
    workspace.engine.execute("UPDATE leads SET email = ? WHERE lead_id = ?", ["jane(at)initech", "L14"])
    summary = match(workspace)
    rows = {r["lead_id"]: r for r in workspace.engine.fetch_dicts("SELECT * FROM lead_matches")}
    return workspace, summary, rows


def _is(rows, lead, account, method):
    r = rows[lead]
    assert (r["account_id"], r["method"]) == (account, method), r


def test_evidence_kinds_and_group_rules(matched):
    ws, summary, rows = matched
    assert len(rows) == 21  # every lead kept, dirty or not
    _is(rows, "L05", "G1C", "contact")  # a known contact wins, even on a free-mail address
    _is(rows, "L17", "G1B", "domain")  # an account's own domain beats the head listing it in `domains`
    _is(rows, "L18", "G1A", "domain")
    _is(rows, "L20", "G1", "domain")  # listed only in the head's `domains` (written `www.IBM.co.uk`)
    _is(rows, "L03", "G1", "domain_group")  # ibm.com held by G1, G1C, G1D: the holder above the others
    _is(rows, "L02", "G1", "domain+name")  # sub-domain us.ibm.com -> ibm.com; "IBM Research – China" -> IBM
    _is(rows, "L01", "G1C", "domain+name")  # the typed name picks the subsidiary under the domain's owner
    _is(rows, "L19", "G1B", "domain+name")
    _is(rows, "L10", "W1", "website")
    _is(rows, "L07", "I1", "name")  # free mail: the name decides
    _is(rows, "L11", "SO1", "name_fuzzy")
    assert "close" in rows["L11"]["evidence"]
    _is(rows, "L12", "AC2", "name")  # two groups named Acme: the country breaks the tie
    assert "country DE decides" in rows["L12"]["evidence"]
    for lead in ("L01", "L02", "L03", "L05", "L17"):
        assert rows[lead]["confidence"] >= 0.9
    assert rows["L11"]["confidence"] < rows["L07"]["confidence"] < rows["L17"]["confidence"]


def test_sibling_rule(matched):
    ws, summary, rows = matched
    # globex-eu.com is held by two sibling subsidiaries only: never one of them by accident
    _is(rows, "L04", "H2", "domain_group_head")
    assert "head H2" in rows["L04"]["evidence"]


def test_free_mail_and_disposable_never_match_on_domain(matched):
    ws, summary, rows = matched
    _is(rows, "L06", None, "unmatched")
    assert "personal address (gmail.com)" in rows["L06"]["evidence"]
    _is(rows, "L09", None, "unmatched")
    assert "disposable address (mailinator.com)" in rows["L09"]["evidence"]
    _is(rows, "L08", "O1", "domain")  # orange.fr is a free-mail domain, but the user gave it to Orange SA


def test_ambiguous_goes_to_review(matched):
    ws, summary, rows = matched
    r = rows["L13"]
    assert (r["account_id"], r["method"], r["review"]) == (None, "ambiguous", True)
    assert r["candidates"] == "AC1; AC2"
    assert summary["for review"] >= 1


def test_dirty_leads_kept_with_reason(matched):
    ws, summary, rows = matched
    _is(rows, "L14", "I1", "name")
    assert "malformed e-mail" in rows["L14"]["evidence"]
    _is(rows, "L21", None, "unmatched")
    assert "no e-mail" in rows["L21"]["evidence"] and "no company name" in rows["L21"]["evidence"]


def test_new_account_proposals_grouped_by_domain(matched):
    ws, summary, rows = matched
    props = ws.engine.fetch_dicts("SELECT * FROM new_account_proposals")
    assert [(p["domain"], p["leads"], p["lead_ids"]) for p in props] == [("newco.io", 2, "L15; L16")]
    assert props[0]["country"] == "FR"


def test_review_decisions_remembered(matched):
    ws, _, _ = matched
    ws.engine.execute("INSERT INTO lead_match_decisions VALUES (?, ?, 'accept', 'amy', NULL)", ["L13", "AC1"])
    ws.engine.execute("INSERT INTO lead_match_decisions VALUES (?, ?, 'reject', 'amy', NULL)", ["L03", "G1"])
    match(ws)
    rows = {r["lead_id"]: r for r in ws.engine.fetch_dicts("SELECT * FROM lead_matches")}
    _is(rows, "L13", "AC1", "manual")
    assert rows["L03"]["account_id"] != "G1"


def test_match_without_hierarchy_build(duckdb_workspace, tmp_path):
    import_bundle(duckdb_workspace, [str(_bundle(tmp_path))])
    match(duckdb_workspace)  # no hierarchy: each account alone, still decided
    rows = {r["lead_id"]: r for r in duckdb_workspace.engine.fetch_dicts("SELECT * FROM lead_matches")}
    _is(rows, "L17", "G1B", "domain")
    _is(rows, "L07", "I1", "name")


def test_pure_helpers():
    assert registrable("us.ibm.com") == "ibm.com" and registrable("a.b.acme.co.uk") == "acme.co.uk"
    assert registrable("10.0.0.1") is None
    assert kind_of("mail.yahoo.co.uk") == "free" and kind_of("gmail.com") == "free" and kind_of("mailinator.com") == "disposable"
    assert kind_of("ibm.com") is None
    index = NameIndex.of_names(["IBM Corp", "University of Oxford", "Soylent Industries"])
    hits = index.match(["IBM Research – China", "Department of Physics, University of Oxford, UK",
                        "Soylant Industries", "Unknown Things", None, "Ibm"])
    assert [h.method if h else None for h in hits] == ["name_prefix", "name", "name_fuzzy", None, None, "name"]


def test_exports_contract_and_cli(matched, tmp_path):
    """Public contract: the exports' first columns, and the CLI commands on the same workspace."""
    import json

    from typer.testing import CliRunner

    from accountree.cli import app
    from accountree.exports import all_exports, export_query

    ws, _, _ = matched
    assert {"lead_matches", "lead_routing", "new_account_proposals", "lead_review"} <= set(all_exports())
    cols = ws.engine.fetch_arrow(export_query(ws, "lead_matches")).column_names
    assert cols[:5] == ["lead_id", "account_id", "method", "confidence", "evidence"]
    assert ws.engine.fetch_arrow(export_query(ws, "new_account_proposals")).column_names[:4] == [
        "domain", "proposed_name", "country", "leads"]
    accounts = ws.engine.fetch_arrow(export_query(ws, "accounts"))
    domains = dict(zip(accounts.column("account_id").to_pylist(), accounts.column("domains").to_pylist(), strict=True))
    assert domains["G1"] == "redhat.com; ibm.fr ; www.IBM.co.uk"  # kept as given; matching normalises it
    if ws.engine.name != "duckdb":
        return
    ws.close()  # the CLI opens the file itself
    location = str(tmp_path / "ws.duckdb")
    runner = CliRunner()
    done = runner.invoke(app, ["leads", "route", "-w", location, "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["leads routed"] == 21
    routing = runner.invoke(app, ["export", "lead_routing", "-w", location, "--format", "csv"])
    assert routing.exit_code == 0 and routing.output.splitlines()[0].replace('"', "").startswith(
        "lead_id,seller_bu,owner,rule,reason,routed_at"), routing.output[:300]
    shown = runner.invoke(app, ["leads", "show", "L13", "-w", location, "--json"])
    assert json.loads(shown.output)["match"]["candidates"] == "AC1; AC2"
    decided = runner.invoke(app, ["leads", "decide", "L13", "AC2", "-w", location])
    assert decided.exit_code == 0 and "accepted" in decided.output
    wrong = runner.invoke(app, ["leads", "decide", "L13", "NOPE", "-w", location])
    assert wrong.exit_code != 0 and "no account 'NOPE'" in wrong.output


def test_name_keys_follow_renamed_and_new_accounts(matched):
    ws, _, rows = matched
    assert rows["L11"]["account_id"] == "SO1"
    keys = ws.engine.scalar("SELECT count(*) FROM lead_name_keys")
    assert keys == ws.engine.scalar("SELECT count(*) FROM accounts")
    ws.engine.execute("UPDATE accounts SET name = ? WHERE account_id = ?", ["Umbrella Retail GmbH", "SO1"])
    ws.engine.execute("INSERT INTO accounts (account_id, name, source) VALUES ('SO2', 'Soylent Industries', 'crm')")
    match(ws)
    again = {r["lead_id"]: r for r in ws.engine.fetch_dicts("SELECT * FROM lead_matches")}
    assert (again["L11"]["account_id"], again["L11"]["method"]) == ("SO2", "name_fuzzy")
    assert ws.engine.scalar("SELECT name_key FROM lead_name_keys WHERE account_id = 'SO1'") == "umbrella retail"


def test_many_names_normalised_by_several_processes(monkeypatch):
    """A first run against many accounts shares the normaliser between the cores, through the pool
    duplicate resolution uses too (`resolve.parallel`): same keys, same order."""
    import accountree.leads.match as m
    import accountree.resolve.parallel as par
    from accountree.resolve.normalize import normalize_names

    assert m.normalize_names is par.normalize_names  # one pool, not a copy
    names = ["Acme GmbH", None, "Société Générale S.A.", "  ", "IBM Research – China", "L'Oréal", "Doraud SAS",
             *(f"Firm {i} SARL" for i in range(30))] * 3
    pools = []

    def spy(*args, **kwargs):
        pools.append(args)
        return par.ProcessPoolExecutor.__wrapped__(*args, **kwargs)

    spy.__wrapped__ = par.ProcessPoolExecutor
    monkeypatch.setattr(par, "ProcessPoolExecutor", spy)
    monkeypatch.setattr(par, "PARALLEL_FROM", 10)
    assert m.normalize_names(names) == normalize_names(names)
    assert len(pools) == 1 or par.workers() < 2
    monkeypatch.setattr(par, "PARALLEL_FROM", 1000)
    assert m.normalize_names(names) == normalize_names(names) and len(pools) <= 1  # few names: this process alone
