"""The demo's fourth BU export and planted truth: conflicts and collisions found equal the truth."""

from __future__ import annotations

from datetime import date

from accountree.build import BuildOptions, build
from accountree.demo import generate_bundle
from accountree.demo.abm import import_bu_exports
from accountree.ingest import import_bundle
from accountree.orchestration.evaluate import evaluate_demo

REF = date(2026, 6, 30)


def test_demo_conflicts_and_collisions_match_the_planted_truth(workspace, tmp_path):
    result = generate_bundle(tmp_path / "demo", accounts=400, seed=11, reference_date=REF)
    import_bundle(workspace, [str(result.out_dir)])
    assert import_bu_exports(workspace, result.out_dir)
    # the fourth BU's export has no seller_bu column: --bu tagged every row
    assert workspace.engine.scalar("SELECT count(*) FROM deals WHERE deal_id LIKE 'DCL%' AND seller_bu = 'bu_cloud'") \
        == workspace.engine.scalar("SELECT count(*) FROM deals WHERE deal_id LIKE 'DCL%'") > 0
    assert workspace.engine.scalar("SELECT count(DISTINCT seller_bu) FROM deals") == 4
    build(workspace, BuildOptions(as_of=REF, stages=["hierarchy", "abm"]))
    scores = evaluate_demo(workspace, result.truth_dir)
    for what, s in scores.items():
        assert s["planted"] > 0, what
        assert (s["precision"], s["recall"], s["planted_recall"]) == (1.0, 1.0, 1.0), (what, s)
