"""The demo generator: a valid bundle per docs/bundle.md, reproducible bytes, and a truthful truth."""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

import accountree.demo.generator as generator
from accountree.demo import DemoResult, generate_bundle
from accountree.demo.identifiers import lei_valid, luhn_valid
from accountree.demo.variants import ascii_fold, name_variant

REF = date(2026, 11, 23)
N = 2000
DOCS = Path(__file__).resolve().parents[1] / "docs" / "bundle.md"
ISO2 = {"FR", "DE", "GB", "ES", "IT", "US", "BE", "CH"}
CURRENCIES = {"EUR", "USD", "GBP", "CHF"}
OPEN_STAGES = {"qualification", "discovery", "proposal", "negotiation"}


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


class Bundle:
    """The files of one generated bundle, read once."""

    def __init__(self, result: DemoResult) -> None:
        self.result = result
        self.t = {name: read(path) for name, path in result.files.items()}
        self.truth = {name: read(result.truth_dir / f"{name}.csv") for name in ("duplicates", "hierarchy", "icp", "leads")}
        self.entity_of = {r["account_id"]: r["entity_id"] for r in self.truth["duplicates"]}

    def ids(self, table: str, column: str) -> list[str]:
        return [r[column] for r in self.t[table]]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    return Bundle(generate_bundle(tmp_path_factory.mktemp("demo"), accounts=N, seed=7, reference_date=REF))


def documented_columns() -> dict[str, list[str]]:
    """Column names per table, in order, as docs/bundle.md states them (the public contract)."""
    tables: dict[str, list[str]] = {}
    current = None
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        if m := re.match(r"### `(\w+)`", line):
            current = m.group(1)
            tables[current] = []
        elif current and (m := re.match(r"\| `(\w+)`\*? \|", line)):
            tables[current].append(m.group(1))
        elif m := re.match(r"`(campaign_accounts)`: (.*)", line):
            tables[m.group(1)] = re.findall(r"`(\w+)`", m.group(2))
    tables.pop("fx_rates", None)  # optional table, not generated
    return tables


def test_every_table_has_the_documented_columns_in_order(bundle: Bundle) -> None:
    docs = documented_columns()
    assert set(docs) == set(bundle.result.files)
    for table, columns in docs.items():
        with bundle.result.files[table].open(encoding="utf-8") as fh:
            header = fh.readline().rstrip("\n").split(",")
        assert header[: len(columns)] == columns, table
        assert len(header) - len(columns) <= 6, f"{table}: too many extra columns"


def test_same_arguments_give_identical_bytes_and_another_seed_differs(bundle: Bundle, tmp_path: Path) -> None:
    again = generate_bundle(tmp_path / "again", accounts=N, seed=7, reference_date=REF)
    other = generate_bundle(tmp_path / "other", accounts=N, seed=8, reference_date=REF)
    first = bundle.result
    for name, path in first.files.items():
        assert path.read_bytes() == again.files[name].read_bytes(), name
    for name in ("duplicates.csv", "hierarchy.csv", "icp.csv", "README.md"):
        assert (first.truth_dir / name).read_bytes() == (again.truth_dir / name).read_bytes(), name
    for name in ("accounts", "deals", "contacts", "activities"):
        assert first.files[name].read_bytes() != other.files[name].read_bytes(), name


def test_counts_are_in_the_expected_ranges(bundle: Bundle) -> None:
    c = bundle.result.counts
    assert c == {name: len(rows) for name, rows in bundle.t.items()}
    assert c["accounts"] == N
    assert 3 * N <= c["deals"] <= 5 * N
    assert 1.5 * N <= c["contacts"] <= 4 * N
    assert 2 * N <= c["activities"] <= 8 * N
    assert c["seller_bus"] == 3 and 10 <= c["products"] <= 15 and c["campaigns"] == 30
    assert c["leads"] == round(0.03 * N)
    assert c["campaign_accounts"] > N / 2 and c["relationships"] > N / 4
    heads = [r for r in bundle.truth["hierarchy"] if r["level"] == "0" and not r["parent_entity_id"]]
    sizes = Counter(r["group_head_entity_id"] for r in bundle.truth["hierarchy"])
    groups = [h for h in heads if sizes[h["entity_id"]] > 1]
    assert 120 <= len(groups) <= 180
    assert sum(sizes[h["entity_id"]] >= 100 for h in groups) >= 2
    assert sum(3 <= sizes[h["entity_id"]] <= 15 for h in groups) >= len(groups) / 2
    assert sum(sizes[h["entity_id"]] == 1 for h in heads) > 200  # standalone companies


def test_ids_are_unique(bundle: Bundle) -> None:
    for table, column in (("accounts", "account_id"), ("deals", "deal_id"), ("contacts", "contact_id"),
                          ("activities", "activity_id"), ("products", "product_id"), ("seller_bus", "bu_id"),
                          ("campaigns", "campaign_id"), ("leads", "lead_id")):
        ids = bundle.ids(table, column)
        assert all(ids) and len(set(ids)) == len(ids), table
    pairs = [(r["campaign_id"], r["account_id"]) for r in bundle.t["campaign_accounts"]]
    assert len(set(pairs)) == len(pairs)


def test_every_reference_points_to_an_existing_record(bundle: Bundle) -> None:
    accounts = set(bundle.ids("accounts", "account_id"))
    for table in ("deals", "contacts", "activities", "campaign_accounts"):
        assert {r["account_id"] for r in bundle.t[table]} <= accounts, table
    assert {r["account_id"] for r in bundle.t["leads"] if r["account_id"]} <= accounts
    assert {r["parent_id"] for r in bundle.t["accounts"] if r["parent_id"]} <= accounts
    assert {r["child_id"] for r in bundle.t["relationships"]} | {r["parent_id"] for r in bundle.t["relationships"]} <= accounts
    contacts = {r["contact_id"]: r["account_id"] for r in bundle.t["contacts"]}
    assert all(contacts[r["reports_to"]] == r["account_id"] for r in bundle.t["contacts"] if r["reports_to"])
    assert all(contacts[r["contact_id"]] == r["account_id"] for r in bundle.t["activities"] if r["contact_id"])
    bus = set(bundle.ids("seller_bus", "bu_id"))
    product_bu = {r["product_id"]: r["seller_bu"] for r in bundle.t["products"]}
    assert all(product_bu[d["product"]] == d["seller_bu"] for d in bundle.t["deals"])
    for table in ("contacts", "activities", "campaigns", "leads", "products"):
        assert {r["seller_bu"] for r in bundle.t[table] if r["seller_bu"]} <= bus, table
    assert {r["campaign_id"] for r in bundle.t["campaign_accounts"]} <= set(bundle.ids("campaigns", "campaign_id"))


def test_values_follow_the_bundle_format(bundle: Bundle) -> None:
    accounts = bundle.t["accounts"]
    assert {r["country"] for r in accounts} == ISO2
    assert {r["currency"] for r in accounts} == CURRENCIES == {d["currency"] for d in bundle.t["deals"]}
    assert {r["is_group_head"] for r in accounts} == {"true", "false"}
    for r in accounts:
        date.fromisoformat(r["created_at"])
        assert not r["employees"] or int(r["employees"]) > 0
    assert {d["stage"] for d in bundle.t["deals"]} == {"won", "lost"} | OPEN_STAGES
    for d in bundle.t["deals"]:
        assert 0 < float(d["gross_margin"]) < float(d["amount"])
        assert date.fromisoformat(d["created_at"]) <= date.fromisoformat(d["close_date"])
    for r in bundle.t["relationships"]:
        assert r["relation"] in {"subsidiary", "business_unit", "branch", "joint_venture"}
        assert not r["ownership_pct"] or 0 < float(r["ownership_pct"]) <= 100
    assert {r["buying_role"] for r in bundle.t["contacts"]} == {
        "economic_buyer", "champion", "influencer", "user", "buyer", "blocker", "other"}
    assert {a["type"] for a in bundle.t["activities"]} == {
        "web_visit", "pricing_page", "email_click", "form_fill", "meeting", "event", "intent_topic"}
    for p in bundle.t["products"]:
        assert 20 <= float(p["margin_pct"]) <= 75
    emails = [c["email"] for c in bundle.t["contacts"] if c["email"]]
    assert all(re.fullmatch(r"[a-z0-9.]+@[a-z0-9.-]+\.[a-z]+", e) for e in emails)


def test_truth_marks_about_five_percent_duplicates_and_siblings_are_not_duplicates(bundle: Bundle) -> None:
    dup = bundle.truth["duplicates"]
    assert [r["account_id"] for r in dup] == bundle.ids("accounts", "account_id")
    records_per_entity = Counter(r["entity_id"] for r in dup)
    share = 1 - len(records_per_entity) / len(dup)
    assert 0.04 <= share <= 0.06
    names = defaultdict(set)
    for r in bundle.t["accounts"]:
        names[bundle.entity_of[r["account_id"]]].add(r["name"])
    assert sum(len(v) > 1 for v in names.values()) >= 0.035 * N  # duplicates are spelled differently
    domains = defaultdict(set)
    for r in bundle.t["accounts"]:
        if r["domain"]:
            domains[r["domain"]].add(bundle.entity_of[r["account_id"]])
    assert sum(len(v) > 1 for v in domains.values()) > 20  # group siblings share a domain
    # Some duplicates keep the same registry id, some have their own deals and contacts.
    by_siren = defaultdict(set)
    for r in bundle.t["accounts"]:
        if r["siren"]:
            by_siren[r["siren"]].add(r["account_id"])
    assert any(len({bundle.entity_of[a] for a in accs}) < len(accs) for accs in by_siren.values())
    dup_accounts = {a for a, e in bundle.entity_of.items() if records_per_entity[e] > 1}
    assert sum(d["account_id"] in dup_accounts for d in bundle.t["deals"]) > 50


def test_hierarchy_truth_has_jvs_deep_groups_and_no_cycle(bundle: Bundle) -> None:
    rows = bundle.truth["hierarchy"]
    jv = defaultdict(list)
    for r in rows:
        if r["relation"] == "joint_venture":
            jv[r["entity_id"]].append(r)
    assert len(jv) >= 3
    head_of = {r["entity_id"]: r["group_head_entity_id"] for r in rows if r["relation"] != "joint_venture"}
    for entity, parents in jv.items():
        assert len(parents) >= 2 and all(float(p["ownership_pct"]) <= 50 for p in parents)
        assert len({head_of[p["parent_entity_id"]] for p in parents}) == len(parents)  # different groups
        assert all(p["group_head_entity_id"] == entity for p in parents)
    minority = [r for r in rows if r["relation"] == "subsidiary" and r["ownership_pct"] and float(r["ownership_pct"]) < 50]
    assert minority
    assert max(int(r["level"]) for r in rows) >= 3  # depth of at least 4 levels
    children = defaultdict(list)
    for r in rows:
        if r["parent_entity_id"]:
            children[r["parent_entity_id"]].append(r["entity_id"])
    state: dict[str, int] = {}

    def visit(node: str) -> None:  # iterative DFS would be overkill for depth <= 5
        state[node] = 1
        for child in children[node]:
            assert state.get(child) != 1, f"cycle through {child}"
            if child not in state:
                visit(child)
        state[node] = 2

    for node in list(children):
        if node not in state:
            visit(node)


def test_bundle_parents_agree_with_the_truth(bundle: Bundle) -> None:
    truth_parent = defaultdict(set)
    for r in bundle.truth["hierarchy"]:
        if r["parent_entity_id"]:
            truth_parent[r["entity_id"]].add(r["parent_entity_id"])
    heads = {r["entity_id"] for r in bundle.truth["hierarchy"] if r["level"] == "0"}
    for r in bundle.t["accounts"]:
        entity = bundle.entity_of[r["account_id"]]
        if r["parent_id"]:
            assert bundle.entity_of[r["parent_id"]] in truth_parent[entity]
        if r["is_group_head"] == "true":
            assert entity in heads


def test_registry_identifiers_pass_their_check_digits(bundle: Bundle) -> None:
    accounts = bundle.t["accounts"]
    sirens = [r["siren"] for r in accounts if r["siren"]]
    sirets = [r for r in accounts if r["siret"]]
    leis = [r["lei"] for r in accounts if r["lei"]]
    assert len(sirens) > 100 and len(sirets) > 100 and len(leis) > 100
    assert all(len(s) == 9 and luhn_valid(s) for s in sirens)
    assert all(len(r["siret"]) == 14 and luhn_valid(r["siret"]) for r in sirets)
    assert all(r["siret"][:9] == r["siren"] for r in sirets if r["siren"])
    assert all(lei_valid(x) for x in leis)
    assert all(re.fullmatch(r"\d{9}", r["duns"]) for r in accounts if r["duns"])
    assert all(r["country"] == "FR" for r in accounts if r["siren"])


def test_names_carry_accents_and_legal_forms(bundle: Bundle) -> None:
    names = bundle.ids("accounts", "name")
    assert sum(n != ascii_fold(n) for n in names) > 0.1 * N
    assert sum(n != ascii_fold(n) for n in bundle.ids("contacts", "name")) > 200
    for form in (" SAS", " GmbH", " S.p.A.", " S.L.", " Ltd", " AG"):
        assert any(form in n for n in names), form
    assert any(n.startswith("Groupe ") for n in names)


def test_icp_signal_is_learnable(bundle: Bundle) -> None:
    icp = bundle.truth["icp"]
    best = np.array([r["best_customer"] == "true" for r in icp])
    points = np.array([int(r["fit_points"]) for r in icp])
    assert 40 <= best.sum() <= 0.2 * len(icp)
    pos, neg = points[best], points[~best]
    auc = ((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()) / (len(pos) * len(neg))
    assert auc > 0.7


def test_commercial_history_follows_the_planted_statuses(bundle: Bundle) -> None:
    status = {r["entity_id"]: r["status"] for r in bundle.truth["icp"]}
    intent = {r["entity_id"] for r in bundle.truth["icp"] if r["intent_fit"] == "true"}
    won_recent, three_years = set(), REF - timedelta(days=3 * 365)
    for d in bundle.t["deals"]:
        entity, close = bundle.entity_of[d["account_id"]], date.fromisoformat(d["close_date"])
        if d["stage"] == "won":
            assert close <= REF and status[entity] in ("customer", "former_customer")
            if status[entity] == "former_customer":
                assert close <= three_years
            if close > REF - timedelta(days=365):
                won_recent.add(entity)
    assert {e for e, s in status.items() if s == "customer"} <= won_recent
    assert sum(date.fromisoformat(d["close_date"]) > REF for d in bundle.t["deals"] if d["stage"] in OPEN_STAGES) > 100
    recent = [a for a in bundle.t["activities"] if date.fromisoformat(a["date"]) > REF - timedelta(days=90)]
    assert len(recent) > 0.1 * len(bundle.t["activities"])
    assert all(bundle.entity_of[a["account_id"]] in intent for a in recent if a["type"] == "pricing_page")
    assert all(date.fromisoformat(a["date"]) <= REF for a in bundle.t["activities"])


def test_streaming_in_several_chunks_keeps_ids_unique(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generator, "CHUNK_ROWS", 400)
    calls: list[tuple[str, int, int]] = []
    result = generate_bundle(tmp_path, accounts=1000, seed=3, reference_date=REF,
                             progress=lambda s, d, t: calls.append((s, d, t)))
    assert [c[1] for c in calls if c[0] == "accounts"] == [334, 667, 1000]
    b = Bundle(result)
    assert len(b.t["accounts"]) == 1000
    for table, column in (("accounts", "account_id"), ("deals", "deal_id"), ("contacts", "contact_id"),
                          ("activities", "activity_id"), ("leads", "lead_id"), ("accounts", "name")):
        ids = b.ids(table, column)
        assert len(set(ids)) == len(ids), table
    accounts = set(b.ids("accounts", "account_id"))
    assert {d["account_id"] for d in b.t["deals"]} <= accounts
    entities = [r["entity_id"] for r in b.truth["icp"]]
    assert len(set(entities)) == len(entities)
    sirens = [r["siren"] for r in b.t["accounts"] if r["siren"]]
    by_siren = defaultdict(set)
    for r in b.t["accounts"]:
        if r["siren"]:
            by_siren[r["siren"]].add(b.entity_of[r["account_id"]])
    assert sirens and all(len(v) <= 12 for v in by_siren.values())  # only a country entity and its sites


def test_small_bundles_work_and_tiny_ones_are_refused(tmp_path: Path) -> None:
    result = generate_bundle(tmp_path / "small", accounts=20, seed=1, reference_date=REF)
    assert result.counts["accounts"] == 20
    with pytest.raises(ValueError):
        generate_bundle(tmp_path / "tiny", accounts=5)


def test_name_variants_look_like_real_duplicates() -> None:
    import random

    rng = random.Random(0)
    original = "Valmont Énergie France SAS"
    variants = {name_variant(original, rng) for _ in range(200)}
    assert original not in variants and len(variants) > 40
    assert "Valmont Energie France SAS" in variants or any("Energie" in v for v in variants)
    assert any(v.endswith("S.A.S.") for v in variants) and any(v.endswith("France") for v in variants)


def test_campaigns_of_different_bus_collide_on_some_accounts(bundle: Bundle) -> None:
    campaigns = {c["campaign_id"]: c for c in bundle.t["campaigns"]}
    by_account = defaultdict(list)
    for t in bundle.t["campaign_accounts"]:
        by_account[t["account_id"]].append(campaigns[t["campaign_id"]])
    collisions = 0
    for targeted in by_account.values():
        collisions += any(a["seller_bu"] != b["seller_bu"] and a["start_date"] <= b["end_date"] and b["start_date"] <= a["end_date"]
                          for a in targeted for b in targeted)
    assert collisions >= 20
    assert {c["seller_bu"] for c in campaigns.values()} == set(bundle.ids("seller_bus", "bu_id"))
