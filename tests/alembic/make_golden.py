#!/usr/bin/env python3
"""Regenerate tests/alembic/golden/ from REAL Alembic on fixtures/small.

    python3 tests/alembic/make_golden.py

Runs the real CLI (`python -m alembic`, one process per command) on a twin
built at the fixed path TWIN_DIR, so the `Path:` and database lines in the
goldens are stable.  PYTHONHASHSEED=1 is used because Alembic prints branch
labels and branch-point children from Python sets; with seed 1 they happen to
come out sorted (the order athanor is expected to use).  The order of the
lines of `current` follows object addresses and is arbitrary in Alembic.

golden/COMMANDS.json lists, in run order, each golden file with the argv and
the database state it was taken in (`empty` = no database file yet,
`heads` = after `upgrade heads`).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import twin  # noqa: E402

FIXTURE = HERE / "fixtures" / "small"
GOLDEN = HERE / "golden"
TWIN_DIR = Path("/tmp/athanor-twin-small")
DB = TWIN_DIR / "small.db"
HASHSEED = "1"

# (golden name, alembic argv, db state it runs in)
COMMANDS = [
    ("upgrade_heads_sql", ["upgrade", "heads", "--sql"], "empty"),
    ("downgrade_e6a2_8c41_sql", ["downgrade", "e6a2c5d81b39:8c41e07ab2d3", "--sql"], "empty"),
    ("current_empty", ["current"], "empty"),
    ("upgrade_heads", ["upgrade", "heads"], "empty"),  # stdout empty; see .stderr.txt
    ("current", ["current"], "heads"),
    ("current_verbose", ["current", "--verbose"], "heads"),
    ("heads", ["heads"], "heads"),
    ("heads_verbose", ["heads", "--verbose"], "heads"),
    ("branches", ["branches"], "heads"),
    ("branches_verbose", ["branches", "--verbose"], "heads"),
    ("history", ["history"], "heads"),
    ("history_verbose", ["history", "--verbose"], "heads"),
    ("history_r_8c41_e6a2", ["history", "-r", "8c41:e6a2"], "heads"),
    ("history_indicate_current", ["history", "--indicate-current"], "heads"),
    ("show_e6a2", ["show", "e6a2"], "heads"),
    ("show_9d18", ["show", "9d18"], "heads"),
]


def run_all(twin_dir: Path = TWIN_DIR, db: Path = DB, hashseed: str = HASHSEED):
    """Build the twin and run COMMANDS in order; yields (name, argv, state, Result)."""
    if twin_dir.exists():
        shutil.rmtree(twin_dir)
    twin.build(FIXTURE, twin_dir)
    env = dict(os.environ, PYTHONHASHSEED=hashseed)
    for name, argv, state in COMMANDS:
        yield name, argv, state, twin.run_subprocess(twin_dir, str(db), argv, env=env)


def main() -> int:
    GOLDEN.mkdir(exist_ok=True)
    index = []
    for name, argv, state, res in run_all():
        if res.status != 0:
            print(f"{name}: alembic exited {res.status}\n{res.stderr}", file=sys.stderr)
            return 1
        (GOLDEN / f"{name}.txt").write_text(res.stdout, encoding="utf-8")
        if name == "upgrade_heads":
            (GOLDEN / f"{name}.stderr.txt").write_text(res.stderr, encoding="utf-8")
        index.append({"file": f"{name}.txt", "argv": argv, "db_state": state})
    meta = {
        "fixture": "tests/alembic/fixtures/small",
        "alembic_twin_dir": str(TWIN_DIR),
        "database": str(DB),
        "PYTHONHASHSEED": HASHSEED,
        "commands": index,
    }
    (GOLDEN / "COMMANDS.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(index)} goldens to {GOLDEN}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
