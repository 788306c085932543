"""``python migrate_proc.py URL``: imports Kairos, prints ``ready``, waits for a line on
standard input, then migrates the database to head (replicas starting together)."""

from __future__ import annotations

import asyncio
import sys

from core.migrate import upgrade

if __name__ == "__main__":
    print("ready", flush=True)
    sys.stdin.readline()
    asyncio.run(upgrade(sys.argv[1]))
    print("migrated", flush=True)
