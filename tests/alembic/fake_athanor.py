#!/usr/bin/env python3
"""A stand-in for the athanor CLI that runs REAL Alembic (for testing the harness).

    ATHANOR_BIN="python3 tests/alembic/fake_athanor.py" python3 -m pytest tests/alembic/test_differential.py

Accepts athanor's global options (--dir, --db, --version-table) followed by an
Alembic-style command, builds the Alembic twin of --dir (cached per directory
under $TMPDIR/athanor-fake-twins) and runs Alembic on it in this process.
Every differential test should pass against it; each invocation is a fresh
interpreter with a random hash seed, so it also checks that normalize.py
covers all of Alembic's set-ordered output.
"""
import argparse
import hashlib
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import twin  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--dir", default="migrations")
    ap.add_argument("--db", required=True)
    ap.add_argument("--version-table", default="alembic_version")
    ns, rest = ap.parse_known_args()
    sqldir = Path(ns.dir).resolve()
    key = hashlib.sha1(f"{sqldir}|{ns.version_table}".encode()).hexdigest()[:16]
    out = Path(tempfile.gettempdir()) / "athanor-fake-twins" / key
    stamp = "\n".join(f"{p.name} {p.stat().st_mtime_ns} {p.stat().st_size}"
                      for p in sorted(sqldir.glob("*.sql")))
    if not (out / "STAMP").exists() or (out / "STAMP").read_text() != stamp:
        twin.build(sqldir, out, version_table=ns.version_table)
        (out / "STAMP").write_text(stamp)
    res = twin.run_inprocess(out, os.path.abspath(ns.db), rest)
    sys.stdout.write(res.stdout)
    sys.stderr.write(res.stderr)
    return res.status


if __name__ == "__main__":
    sys.exit(main())
