"""Importing bundles: CRM exports and registries mapped onto the canonical tables, atomically."""

from accountree.ingest.pipeline import FileReport, ImportOptions, ImportResult, import_bundle

__all__ = ["FileReport", "ImportOptions", "ImportResult", "import_bundle"]
