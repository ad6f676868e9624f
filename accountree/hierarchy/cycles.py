"""Finding and breaking circles of ownership, on the few links SQL could not place.

SQL computes the hierarchy top-down from the accounts that have no controlling parent, so it can
never loop: accounts on a circle (A → B → C → A) and everything under them are simply not
reached. Only those links (usually a handful) come here. Each circle is broken at its weakest
link — the lowest-precedence source, then the smallest share, then the lowest child id — so the
same data always gives the same result whatever the import order, and the rest of the circle
becomes a normal tree headed by the child of the cut link.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Link:
    child_id: str
    parent_id: str
    source: str
    source_rank: int
    ownership_pct: float | None

    @property
    def weakness(self) -> tuple:
        """Sorts the weakest link first: worst source, smallest share (none given: 100), lowest child id."""
        pct = 100.0 if self.ownership_pct is None else self.ownership_pct
        return (-self.source_rank, pct, self.child_id, self.parent_id)

    def text(self) -> str:
        pct = "" if self.ownership_pct is None else f", {self.ownership_pct:g} %"
        return f"{self.child_id} -> {self.parent_id} ({self.source}{pct})"


def control_cycles(links: list[Link]) -> list[list[Link]]:
    """The circles of a graph where each child has one controlling parent, each from its smallest id."""
    parent = {link.child_id: link for link in links}
    state: dict[str, int] = {}  # 1: on the walk in progress, 2: done
    cycles = []
    for start in sorted(parent):
        walk: list[str] = []
        node: str | None = start
        while node is not None and node not in state:
            state[node] = 1
            walk.append(node)
            node = parent[node].parent_id if node in parent else None
        if node is not None and state[node] == 1:
            ring = walk[walk.index(node):]
            first = ring.index(min(ring))
            cycles.append([parent[n] for n in ring[first:] + ring[:first]])
        for n in walk:
            state[n] = 2
    return cycles


def strongly_connected(successors: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's components (iterative: ownership chains can be deeper than Python's stack)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found = []
    for root in sorted(successors):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            nexts = successors.get(node, [])
            if i < len(nexts):
                work.append((node, i + 1))
                nxt = nexts[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                found.append(sorted(component))
            if work:
                caller = work[-1][0]
                low[caller] = min(low[caller], low[node])
    return found


def stake_cycles(stakes: list[Link], control_pairs: list[tuple[str, str]]) -> list[tuple[Link, list[str]]]:
    """Circles through minority stakes: (the stake left out, the accounts of its circle), in order.

    `control_pairs` are (ancestor, descendant) consolidated pairs between accounts holding or held
    by a stake: a circle may run through a group's own control chain.
    """
    remaining = sorted(stakes, key=lambda s: (s.child_id, s.parent_id))
    cut: list[tuple[Link, list[str]]] = []
    while True:
        successors: dict[str, list[str]] = {}
        for s in remaining:
            successors.setdefault(s.parent_id, []).append(s.child_id)
        for ancestor, descendant in control_pairs:
            successors.setdefault(ancestor, []).append(descendant)
        circles = [c for c in strongly_connected(successors) if len(c) > 1]
        if not circles:
            return cut
        for members in circles:
            inside = set(members)
            candidates = [s for s in remaining if s.child_id in inside and s.parent_id in inside]
            weakest = min(candidates, key=lambda s: s.weakness)
            remaining.remove(weakest)
            cut.append((weakest, members))
