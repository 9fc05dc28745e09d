"""Time-tracking pages, one module per page: timer, day, week, team (with approvals)."""
