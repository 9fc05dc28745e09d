"""The SQLite planner's statistics, kept current as the tables grow.

SQLite keeps no statistics by itself. Without them its planner guesses from the indexes'
shapes, and may walk a whole index or table where a range of another would do. Measured
at 1,000,000 entries: a month's utilisation read its kept rows through the line-ordered
index, every month of them, in 15.9 ms; with statistics, the month's range of the
period-ordered index, in 6.5 ms. PostgreSQL's autovacuum keeps its own statistics.
"""

from __future__ import annotations

from django.db import connection

# Rows sampled per index: bounded, so a refresh takes milliseconds at any size (the whole
# database above, 1,000,000 entries and 225,000 kept rows: 23 ms cold, 5 ms warm) and
# holds the write lock no longer.
SAMPLE_ROWS = 1000


def refresh_planner_statistics() -> None:
    """ANALYZE the SQLite database with a bounded sample; nothing on other databases."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA analysis_limit={SAMPLE_ROWS}")
        cursor.execute("ANALYZE")
