"""Numbered SQL migrations. Ranges keep capabilities apart: 0001–0099 core, 0100 hierarchy and
resolution, 0200 KPIs, 0300 scoring, 0400 key-account management, 0500 users and API, 0600 ABM."""
