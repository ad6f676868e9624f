"""The benches' fresh-process measurement: a child's peak memory is its own, not its parent's."""

from __future__ import annotations

from accountree.bench.measure import measured, peak_mb


def test_a_child_does_not_inherit_the_parents_peak_memory() -> None:
    ballast = b"x" * (400 * 1024 * 1024)  # the parent holds 400 MB, touched, while it starts the child
    assert peak_mb() > 400
    out = measured(sum, [1, 2, 3])
    assert out["result"] == 6
    assert 5 < out["peak_mb"] < 300, out["peak_mb"]  # a bare Python child: tens of MB
    del ballast
