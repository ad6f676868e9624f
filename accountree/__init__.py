"""accountree — B2B account intelligence: one clean account hierarchy, KPIs rolled up every group.

The public Python API is re-exported here; everything else lives in capability packages.
"""

from accountree.errors import AccountreeError, ImportValidationError, Problem
from accountree.ingest import ImportOptions, ImportResult, import_bundle
from accountree.store import Workspace, open_workspace

__version__ = "0.1.0"

__all__ = [
    "AccountreeError", "ImportOptions", "ImportResult", "ImportValidationError", "Problem", "Workspace",
    "__version__", "import_bundle", "open_workspace",
]
