"""Hand-written tricky hierarchies, on DuckDB and PostgreSQL: every number worked out by hand."""

from __future__ import annotations

from pathlib import Path

from accountree.hierarchy.settings import save_settings
from accountree.ingest import import_bundle
from tests.conftest import write
from tests.test_hierarchy_helpers import build, closure, hierarchy, issues, put


def test_a_group_from_a_crm_bundle(workspace, tmp_path: Path) -> None:
    write(tmp_path / "b" / "accounts.csv",
          "account_id,name,parent_id,is_group_head\n"
          "G,Groupe Valmont SA,,true\nFR,Valmont France SAS,G,\nDE,Valmont GmbH,G,\n"
          "LY,Valmont Lyon (branch),FR,\nSOLO,Solo SARL,,\n")
    import_bundle(workspace, [str(tmp_path / "b")])
    summary = build(workspace)
    assert summary | {"issue_kinds": None} == {
        "accounts": 5, "groups": 1, "standalone": 1, "max_depth": 2, "largest_group": 4, "joint_ventures": 0,
        "cycles": 0, "stake_cycles": 0, "issues": 0, "issue_kinds": None}
    h = hierarchy(workspace)
    assert [(h[a]["parent_id"], h[a]["group_head_id"], h[a]["level"], h[a]["path"], h[a]["descendants"])
            for a in ("G", "FR", "LY", "DE", "SOLO")] == [
        (None, "G", 0, "G", 3), ("G", "G", 1, "G > FR", 1), ("FR", "G", 2, "G > FR > LY", 0),
        ("G", "G", 1, "G > DE", 0), (None, "SOLO", 0, "SOLO", 0)]
    assert h["G"]["is_group_head"] and h["SOLO"]["is_group_head"] and not h["FR"]["is_group_head"]
    assert h["FR"]["relation"] == "subsidiary" and h["G"]["relation"] is None
    c = closure(workspace)
    assert c[("G", "LY")] == (2, 1.0, True) and c[("LY", "LY")] == (0, 1.0, True)
    assert len(c) == 5 + 3 + 1  # self rows + G's three descendants + FR over LY


def test_cycle_is_broken_reported_and_the_rest_builds(workspace) -> None:
    # A -> B -> C -> A, T hangs below A, and an unrelated healthy group.
    put(workspace, [("A", "B"), ("B", "C"), ("C", "A"), ("T", "A"), ("G", None), ("S", "G")])
    summary = build(workspace)
    assert summary["cycles"] == 1 and summary["issue_kinds"] == {"cycle": 1}
    (issue,) = issues(workspace)
    assert issue["kind"] == "cycle" and issue["severity"] == "error"
    assert issue["account_ids"] == "A, B, C"
    assert issue["edges"] == "A -> B (crm); B -> C (crm); C -> A (crm)"
    assert "accountree unlink A B" in issue["suggested_fix"]
    h = hierarchy(workspace)
    # the weakest link (all equal: lowest child id) is cut, so A heads A > C > B and T.
    assert {a: (h[a]["group_head_id"], h[a]["path"]) for a in "ABCT"} == {
        "A": ("A", "A"), "C": ("A", "A > C"), "B": ("A", "A > C > B"), "T": ("A", "A > T")}
    assert [a for a in h if h[a]["has_issue"]] == ["A", "B", "C"]
    assert h["S"]["path"] == "G > S"


def test_cycle_keeps_the_stronger_source(workspace) -> None:
    # The registry says X -> Y; the CRM closes the circle Y -> X: the CRM link is the one cut.
    put(workspace, [("X", None), ("Y", "X")], [("X", "Y", "subsidiary", 100.0, "gleif")])
    build(workspace)
    h = hierarchy(workspace)
    assert (h["X"]["parent_id"], h["Y"]["parent_id"]) == ("Y", None)
    assert "accountree unlink Y X" in issues(workspace)[0]["suggested_fix"]


def test_self_parent_and_unknown_parents(workspace) -> None:
    put(workspace, [("S", "S"), ("O1", "GONE"), ("O2", "GONE"), ("K", None)], [("GHOST", "K", "subsidiary", None)])
    summary = build(workspace)
    assert summary["issue_kinds"] == {"self_parent": 1, "unknown_child": 1, "unknown_parent": 1}
    by_kind = {i["kind"]: i for i in issues(workspace)}
    assert by_kind["unknown_parent"]["account_ids"] == "O1, O2"
    assert by_kind["unknown_parent"]["message"].startswith("parent GONE is not an account of the workspace (2 account(s)")
    assert by_kind["self_parent"]["account_ids"] == "S" and "accountree unlink S S" in by_kind["self_parent"]["suggested_fix"]
    assert by_kind["unknown_child"]["edges"] == "GHOST -> K (crm)"
    h = hierarchy(workspace)
    assert all(h[a]["group_head_id"] == a and h[a]["level"] == 0 for a in h)
    assert {a for a in h if h[a]["has_issue"]} == {"S", "O1", "O2"}


def test_joint_venture_50_50_is_seen_from_both_groups_and_counted_once(workspace) -> None:
    put(workspace, [("G1", None, True, 100.0), ("P1", "G1", None, 10.0), ("G2", None, True, 200.0),
                    ("J", None, None, 40.0), ("JS", "J", None, 8.0)],
        [("J", "P1", "joint_venture", 50.0), ("J", "G2", "joint_venture", 50.0)])
    summary = build(workspace)
    assert summary["joint_ventures"] == 1 and summary["issues"] == 0
    h = hierarchy(workspace)
    assert (h["J"]["is_joint_venture"], h["J"]["group_head_id"], h["J"]["parent_id"], h["J"]["relation"]) == (
        True, "J", None, "joint_venture")
    assert h["J"]["stakeholders"] == "G2 (50.00 %); P1 (50.00 %)" and h["JS"]["group_head_id"] == "J"
    c = closure(workspace)
    assert c[("G1", "J")] == (2, 0.5, False) and c[("G1", "JS")] == (3, 0.5, False)
    assert c[("G2", "J")] == (1, 0.5, False) and c[("J", "JS")] == (1, 1.0, True)
    totals = dict(workspace.engine.fetchall(
        "SELECT c.ancestor_id, sum(a.annual_revenue_rc) FROM hierarchy_closure c "
        "JOIN accounts a ON a.account_id = c.descendant_id WHERE c.consolidated GROUP BY c.ancestor_id"))
    weighted = dict(workspace.engine.fetchall(
        "SELECT c.ancestor_id, sum(c.weight * a.annual_revenue_rc) FROM hierarchy_closure c "
        "JOIN accounts a ON a.account_id = c.descendant_id GROUP BY c.ancestor_id"))
    assert (totals["G1"], totals["G2"], totals["J"]) == (110.0, 200.0, 48.0)
    assert sum(totals[a] for a in h if h[a]["is_group_head"]) == 358.0  # every account once
    assert (weighted["G1"], weighted["G2"]) == (110.0 + 24.0, 200.0 + 24.0)


def test_joint_venture_40_30_30_and_a_majority_with_a_minority(workspace) -> None:
    put(workspace, [("A", None), ("B", None), ("C", None), ("J", None), ("M", None)],
        [("J", "A", "joint_venture", 40.0), ("J", "B", "joint_venture", 30.0), ("J", "C", "joint_venture", 30.0),
         ("M", "A", "subsidiary", 60.0), ("M", "B", "subsidiary", 40.0)])
    build(workspace)
    h, c = hierarchy(workspace), closure(workspace)
    assert h["J"]["is_joint_venture"] and h["J"]["stakeholder_count"] == 3
    assert [c[(p, "J")][1] for p in "ABC"] == [0.4, 0.3, 0.3]
    assert (h["M"]["parent_id"], h["M"]["ownership_pct"], h["M"]["is_joint_venture"]) == ("A", 60.0, False)
    assert c[("A", "M")] == (1, 0.6, True) and c[("B", "M")] == (1, 0.4, False)
    assert h["A"]["descendants"] == 1  # M only: the JV is not consolidated


def test_two_parents_claiming_control(workspace) -> None:
    put(workspace, [("P", None), ("Q", None), ("C", None)],
        [("C", "P", "subsidiary", 60.0), ("C", "Q", "subsidiary", 70.0)])
    build(workspace)
    over, issue = issues(workspace)
    assert over["kind"] == "shares_over_100" and "add up to 130.00 %" in over["message"]
    assert issue["kind"] == "two_controlling_parents" and issue["account_ids"] == "C"
    assert issue["edges"] == "C -> Q (crm, 70.00 %); C -> P (crm, 60.00 %)"
    assert "consolidated into Q" in issue["message"]
    h = hierarchy(workspace)
    assert (h["C"]["parent_id"], h["C"]["has_issue"]) == ("Q", True)
    assert ("P", "C") not in closure(workspace)  # the losing claim is not counted anywhere


def test_group_head_flag_stops_the_climb(workspace) -> None:
    # Two accounts both flagged as group heads, one recorded under the other.
    put(workspace, [("TOP", None, True), ("MID", "TOP", True), ("LOW", "MID")])
    build(workspace)
    h = hierarchy(workspace)
    assert (h["MID"]["group_head_id"], h["LOW"]["group_head_id"], h["TOP"]["descendants"]) == ("MID", "MID", 0)
    (issue,) = issues(workspace)
    assert issue["kind"] == "group_head_with_parent" and "accountree link MID TOP" in issue["suggested_fix"]


def test_deep_chain_of_60_levels(workspace) -> None:
    ids = [f"L{i:02d}" for i in range(61)]
    put(workspace, [(ids[0], None)] + [(ids[i], ids[i - 1]) for i in range(1, 61)])
    assert build(workspace)["max_depth"] == 60
    h = hierarchy(workspace)
    assert h["L60"]["level"] == 60 and h["L60"]["group_head_id"] == "L00"
    assert h["L60"]["path"] == " > ".join(ids) and h["L00"]["descendants"] == 60
    assert workspace.engine.scalar("SELECT count(*) FROM hierarchy_closure") == 61 * 62 // 2


def test_registry_beats_crm_and_precedence_is_configurable(workspace) -> None:
    put(workspace, [("C", "CRMPARENT"), ("CRMPARENT", None), ("REGPARENT", None)],
        [("C", "REGPARENT", "subsidiary", 100.0, "gleif")])
    build(workspace)
    assert hierarchy(workspace)["C"]["parent_id"] == "REGPARENT"
    edges = workspace.engine.fetchall("SELECT parent_id, source, is_control FROM hierarchy_edges WHERE child_id = 'C'")
    assert edges == [("REGPARENT", "gleif", True)]
    save_settings(workspace, precedence="manual,crm,registry")
    build(workspace)
    assert hierarchy(workspace)["C"]["parent_id"] == "CRMPARENT"


def test_control_threshold_is_configurable(workspace) -> None:
    put(workspace, [("P", None), ("Q", None), ("J", None)],
        [("J", "P", "joint_venture", 50.0), ("J", "Q", "joint_venture", 50.0)])
    build(workspace)
    assert hierarchy(workspace)["J"]["is_joint_venture"]
    save_settings(workspace, control_threshold=49.99)  # "50 % or more" controls
    build(workspace)
    assert [i["kind"] for i in issues(workspace)] == ["two_controlling_parents"]
    assert hierarchy(workspace)["J"]["parent_id"] == "P"  # equal shares: lowest id


def test_circle_of_minority_stakes_never_hangs(workspace) -> None:
    put(workspace, [("A", None), ("B", None), ("C", "A")],
        [("B", "A", "subsidiary", 30.0), ("A", "B", "subsidiary", 20.0)])
    summary = build(workspace)
    assert summary["stake_cycles"] == 1
    (issue,) = issues(workspace)
    assert issue["kind"] == "ownership_cycle" and issue["edges"] == "A -> B (crm, 20 %)"
    c = closure(workspace)
    assert c[("A", "B")] == (1, 0.3, False) and ("B", "A") not in c


def test_stakes_chain_and_diamond_weights(workspace) -> None:
    # G controls P1 and P2; J is a JV held 50/50 by P1 and P2 (a diamond inside one group);
    # J holds 40 % of K (a chain of stakes); K consolidates KS.
    put(workspace, [("G", None), ("P1", "G"), ("P2", "G"), ("J", None), ("K", None), ("KS", "K")],
        [("J", "P1", "joint_venture", 50.0), ("J", "P2", "joint_venture", 50.0), ("K", "J", "joint_venture", 40.0)])
    build(workspace)
    c = closure(workspace)
    assert c[("G", "J")] == (2, 1.0, False)  # two paths of 0.5, one row
    assert c[("G", "K")] == (3, 0.4, False) and c[("G", "KS")] == (4, 0.4, False)
    assert c[("P1", "K")] == (2, 0.2, False) and c[("J", "KS")] == (2, 0.4, False)
    h = hierarchy(workspace)
    assert h["K"]["is_joint_venture"] and h["K"]["group_head_id"] == "K" and h["G"]["descendants"] == 2


def test_chains_deeper_than_the_limit_and_huge_circles_stay_bounded(workspace) -> None:
    # A corrupt export: 150 accounts each pointing at the previous one, and a circle of 300.
    chain = [f"D{i:03d}" for i in range(150)]
    ring = [f"R{i:03d}" for i in range(300)]
    put(workspace, [(chain[0], None)] + [(chain[i], chain[i - 1]) for i in range(1, 150)]
        + [(ring[i], ring[(i + 1) % 300]) for i in range(300)])
    summary = build(workspace)
    assert summary["issue_kinds"] == {"cycle": 1, "too_deep": 1} and summary["max_depth"] == 100
    h = hierarchy(workspace)
    assert h["D100"]["level"] == 100 and h["D101"]["group_head_id"] == "D101" and h["D101"]["has_issue"]
    # the circle is cut at R000 -> R001: R000 heads R299 > R298 > … down to R200 at level 100
    assert h["R000"]["level"] == 0 and h["R298"]["path"] == "R000 > R299 > R298" and h["R200"]["level"] == 100
    assert h["R199"]["group_head_id"] == "R199"
    too_deep = next(i for i in issues(workspace) if i["kind"] == "too_deep")
    assert too_deep["message"].startswith("248 account(s) hang more than 100 levels")  # D101-D149, R001-R199
    save_settings(workspace, max_depth=400)
    assert build(workspace)["issue_kinds"] == {"cycle": 1}
