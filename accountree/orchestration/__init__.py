"""Multi-BU ABM orchestration: lead BU, priority classes, conflicts, campaign calendar, account
teams, fractional attribution and BU spaces (see README.md)."""
