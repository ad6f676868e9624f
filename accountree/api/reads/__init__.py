"""Read models shared by the REST API and the dashboard: pure query functions over a ScopedReader."""
