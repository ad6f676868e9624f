"""Deterministic demo data: a realistic B2B CRM bundle with its ground truth.

``generate_bundle(out_dir, accounts=2000, seed=7)`` writes the ten tables of the canonical bundle
(docs/bundle.md) plus ``truth/`` (duplicates, hierarchy, planted ICP rule), streaming in chunks so
that a million accounts fit in a few gigabytes of memory.
"""

from accountree.demo.generator import DemoResult, generate_bundle

__all__ = ["DemoResult", "generate_bundle"]
