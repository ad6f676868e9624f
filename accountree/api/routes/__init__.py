"""REST routers, one per capability, all under /api/v1."""
