"""A synthetic forest of company groups, for scale tests and the hierarchy benchmark.

Shaped like a CRM: most accounts are standalone, group sizes follow a long tail (a few groups of
thousands), trees are wide rather than deep, about 1 % of accounts are joint ventures held by two
or three parents, and a few links are broken (unknown parents, circles). Deterministic per seed.
"""

from __future__ import annotations

import random

import pyarrow as pa


def synthetic_forest(accounts: int, seed: int = 7, *, jv_rate: float = 0.01, unknown_rate: float = 0.001,
                     cycles: int = 10) -> tuple[pa.Table, pa.Table]:
    """(accounts, relationships) Arrow tables with the workspace's column names."""
    rng = random.Random(seed)
    ids = [f"A{i:08d}" for i in range(accounts)]
    parent: list[str | None] = [None] * accounts
    head_flag: list[bool | None] = [None] * accounts
    singles: list[int] = []
    i = 0
    while i < accounts:
        size = 1 if rng.random() < 0.6 else min(int(rng.paretovariate(0.9)) + 1, 20_000, accounts - i)
        members = list(range(i, i + size))
        if size == 1:
            singles.append(i)
        else:
            head_flag[i] = rng.random() < 0.5
        for k, m in enumerate(members[1:], start=1):
            parent[m] = ids[members[int(rng.random() ** 3 * k)]]
        i += size
    links: list[tuple[str, str, str, float | None]] = []
    rng.shuffle(singles)
    jvs = singles[: int(accounts * jv_rate)]
    for j in jvs:
        owners = rng.sample(range(accounts), 3)
        shares = (50.0, 50.0) if rng.random() < 0.6 else (40.0, 30.0, 30.0)
        links += [(ids[j], ids[o], "joint_venture", s) for o, s in zip(owners, shares, strict=False) if o != j]
    rest = singles[len(jvs):]
    for j in rest[: int(accounts * unknown_rate)]:
        parent[j] = f"MISSING{j}"
    spare = rest[int(accounts * unknown_rate):]
    for c in range(min(cycles, len(spare) // 3)):
        a, b, d = spare[3 * c: 3 * c + 3]
        parent[a], parent[b], parent[d] = ids[b], ids[d], ids[a]
    accounts_table = pa.table({
        "account_id": ids, "name": [f"Company {x}" for x in ids], "parent_id": pa.array(parent, pa.string()),
        "is_group_head": pa.array(head_flag, pa.bool_()), "source": ["crm"] * accounts,
    })
    relationships = pa.table({
        "child_id": pa.array([x[0] for x in links], pa.string()), "parent_id": pa.array([x[1] for x in links], pa.string()),
        "relation": pa.array([x[2] for x in links], pa.string()),
        "ownership_pct": pa.array([x[3] for x in links], pa.float64()), "source": ["crm"] * len(links),
    })
    return accounts_table, relationships


def load_forest(ws, accounts: int, seed: int = 7, **options) -> None:
    """Write a synthetic forest into an empty workspace (bypassing import: this is for scale runs)."""
    accounts_table, relationships = synthetic_forest(accounts, seed, **options)
    ws.engine.insert_arrow("accounts", accounts_table)
    if relationships.num_rows:
        ws.engine.insert_arrow("relationships", relationships)
