r"""Tests of the Alembic twin (twin.py, graphs.py) against real Alembic alone.

    python3 -m pytest tests/alembic/test_alembic_twin.py

OBSERVED ALEMBIC OUTPUT (alembic 1.20.1, SQLAlchemy 2.1.9) for fixtures/small,
exactly as printed on stdout, in this order, by the real CLI
(`python3 tests/alembic/make_golden.py` re-records them into golden/; the
golden files are authoritative -- they keep trailing spaces that editors
may strip here).

The graph (athanor files in fixtures/small/, loaded in file-name order):

    3f9a1c2b7d10  base                                 "create log table"
    8c41e07ab2d3  <- 3f9a1c2b7d10   (branch point)     "add account table"
    5be2f1a09c44  <- 8c41e07ab2d3   label billing      "add invoice table"
    c07d93e4a615  <- 5be2f1a09c44                      "add invoice lines"
    9d18a6b3f072  <- 8c41e07ab2d3   label shopping, depends_on 27c4b9e0d1f8   "add cart table"
    e6a2c5d81b39  <- c07d93e4a615, 9d18a6b3f072 (merge)  "merge billing and shopping"
    27c4b9e0d1f8  base              label audit        "start audit trail"
    2f0e7a6c3b95  <- 27c4b9e0d1f8                      "add audit events"

Format details worth noticing:
  * `Revises: ` keeps its trailing space for a base; blank docstring lines
    are printed as 4 spaces; the offline CREATE TABLE has "NOT NULL, " with a
    trailing space; `-- Running upgrade  -> x` has two spaces for a base.
  * offline INSERTs end in `RETURNING version_num` (SQLAlchemy 2.x, SQLite).
  * `Path:` is the script's path (/tmp/athanor-twin-small/versions/<stem>.py
    here; athanor prints its .sql path), and `current --verbose` names the
    database URL (sqlite:///<absolute path>).
  * Taken with PYTHONHASHSEED=1: Alembic takes branch labels, `Branches
    into:` and the children listed by `branches` from Python sets, so their
    order varies run to run; seed 1 happens to print them sorted.  The order
    of `current`'s lines follows object addresses (arbitrary).  In --sql
    output, which merge parent row is DELETEd and which UPDATEd (when other
    heads exist) and the INSERT order on unmerge are also set-ordered.
  * Errors: `FAILED: <message>` on STDOUT, ERROR log line on stderr, exit 255.

$ alembic upgrade heads --sql    [db: empty] (golden/upgrade_heads_sql.txt):
CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> 27c4b9e0d1f8

CREATE TABLE IF NOT EXISTS log (rev TEXT NOT NULL);

CREATE TABLE audit (id INTEGER PRIMARY KEY, at TEXT);

INSERT INTO log(rev) VALUES ('27c4b9e0d1f8');

INSERT INTO alembic_version (version_num) VALUES ('27c4b9e0d1f8') RETURNING version_num;

-- Running upgrade  -> 3f9a1c2b7d10

CREATE TABLE IF NOT EXISTS log (rev TEXT NOT NULL);

INSERT INTO log(rev) VALUES ('3f9a1c2b7d10');

INSERT INTO alembic_version (version_num) VALUES ('3f9a1c2b7d10') RETURNING version_num;

-- Running upgrade 3f9a1c2b7d10 -> 8c41e07ab2d3

CREATE TABLE account (id INTEGER PRIMARY KEY, email TEXT NOT NULL);

INSERT INTO log(rev) VALUES ('8c41e07ab2d3');

UPDATE alembic_version SET version_num='8c41e07ab2d3' WHERE alembic_version.version_num = '3f9a1c2b7d10';

-- Running upgrade 8c41e07ab2d3 -> 9d18a6b3f072

CREATE TABLE cart (id INTEGER PRIMARY KEY, account_id INTEGER);

INSERT INTO log(rev) VALUES ('9d18a6b3f072');

DELETE FROM alembic_version WHERE alembic_version.version_num = '8c41e07ab2d3';

UPDATE alembic_version SET version_num='9d18a6b3f072' WHERE alembic_version.version_num = '27c4b9e0d1f8';

-- Running upgrade 8c41e07ab2d3 -> 5be2f1a09c44

CREATE TABLE invoice (id INTEGER PRIMARY KEY, account_id INTEGER REFERENCES account(id));

INSERT INTO log(rev) VALUES ('5be2f1a09c44');

INSERT INTO alembic_version (version_num) VALUES ('5be2f1a09c44') RETURNING version_num;

-- Running upgrade 5be2f1a09c44 -> c07d93e4a615

-- one row per invoice line
CREATE TABLE invoice_line (id INTEGER PRIMARY KEY, invoice_id INTEGER, amount INTEGER);

INSERT INTO log(rev) VALUES ('c07d93e4a615');

UPDATE alembic_version SET version_num='c07d93e4a615' WHERE alembic_version.version_num = '5be2f1a09c44';

-- Running upgrade c07d93e4a615, 9d18a6b3f072 -> e6a2c5d81b39

INSERT INTO log(rev) VALUES ('e6a2c5d81b39');

DELETE FROM alembic_version WHERE alembic_version.version_num = 'c07d93e4a615';

UPDATE alembic_version SET version_num='e6a2c5d81b39' WHERE alembic_version.version_num = '9d18a6b3f072';

-- Running upgrade 27c4b9e0d1f8 -> 2f0e7a6c3b95

CREATE TABLE audit_event (id INTEGER PRIMARY KEY, audit_id INTEGER, what TEXT);

INSERT INTO log(rev) VALUES ('2f0e7a6c3b95');

INSERT INTO alembic_version (version_num) VALUES ('2f0e7a6c3b95') RETURNING version_num;


$ alembic downgrade e6a2c5d81b39:8c41e07ab2d3 --sql    [db: empty] (golden/downgrade_e6a2_8c41_sql.txt):
-- Running downgrade e6a2c5d81b39 -> c07d93e4a615, 9d18a6b3f072

INSERT INTO log(rev) VALUES ('-e6a2c5d81b39');

INSERT INTO alembic_version (version_num) VALUES ('c07d93e4a615') RETURNING version_num;

UPDATE alembic_version SET version_num='9d18a6b3f072' WHERE alembic_version.version_num = 'e6a2c5d81b39';

-- Running downgrade c07d93e4a615 -> 5be2f1a09c44

DROP TABLE invoice_line;

INSERT INTO log(rev) VALUES ('-c07d93e4a615');

UPDATE alembic_version SET version_num='5be2f1a09c44' WHERE alembic_version.version_num = 'c07d93e4a615';

-- Running downgrade 5be2f1a09c44 -> 8c41e07ab2d3

DROP TABLE invoice;

INSERT INTO log(rev) VALUES ('-5be2f1a09c44');

DELETE FROM alembic_version WHERE alembic_version.version_num = '5be2f1a09c44';

-- Running downgrade 9d18a6b3f072 -> 8c41e07ab2d3

DROP TABLE cart;

INSERT INTO log(rev) VALUES ('-9d18a6b3f072');

INSERT INTO alembic_version (version_num) VALUES ('8c41e07ab2d3') RETURNING version_num;

UPDATE alembic_version SET version_num='27c4b9e0d1f8' WHERE alembic_version.version_num = '9d18a6b3f072';


$ alembic current    [db: empty] (golden/current_empty.txt):
<no output>

$ alembic upgrade heads    [db: empty] stdout is empty; stderr (golden/upgrade_heads.stderr.txt):
INFO  [alembic.runtime.migration] Context impl SQLiteImpl.
INFO  [alembic.runtime.migration] Will assume non-transactional DDL.
INFO  [alembic.runtime.migration] Running upgrade  -> 27c4b9e0d1f8, start audit trail
INFO  [alembic.runtime.migration] Running upgrade  -> 3f9a1c2b7d10, create log table
INFO  [alembic.runtime.migration] Running upgrade 3f9a1c2b7d10 -> 8c41e07ab2d3, add account table
INFO  [alembic.runtime.migration] Running upgrade 8c41e07ab2d3 -> 9d18a6b3f072, add cart table
INFO  [alembic.runtime.migration] Running upgrade 8c41e07ab2d3 -> 5be2f1a09c44, add invoice table
INFO  [alembic.runtime.migration] Running upgrade 5be2f1a09c44 -> c07d93e4a615, add invoice lines
INFO  [alembic.runtime.migration] Running upgrade c07d93e4a615, 9d18a6b3f072 -> e6a2c5d81b39, merge billing and shopping
INFO  [alembic.runtime.migration] Running upgrade 27c4b9e0d1f8 -> 2f0e7a6c3b95, add audit events

$ alembic current    [db: heads] (golden/current.txt):
e6a2c5d81b39 (head) (mergepoint)
2f0e7a6c3b95 (head)

$ alembic current --verbose    [db: heads] (golden/current_verbose.txt):
Current revision(s) for sqlite:////tmp/athanor-twin-small/small.db:
Rev: e6a2c5d81b39 (head) (mergepoint)
Merges: c07d93e4a615, 9d18a6b3f072
Branch names: billing, shopping
Path: /tmp/athanor-twin-small/versions/e6a2c5d81b39_merge_billing_and_shopping.py

    merge billing and shopping
    
    Revision ID: e6a2c5d81b39
    Revises: c07d93e4a615, 9d18a6b3f072
    Create Date: 2026-11-27 10:07:00.000000

Rev: 2f0e7a6c3b95 (head)
Parent: 27c4b9e0d1f8
Branch names: audit
Path: /tmp/athanor-twin-small/versions/2f0e7a6c3b95_add_audit_events.py

    add audit events
    
    Revision ID: 2f0e7a6c3b95
    Revises: 27c4b9e0d1f8
    Create Date: 2026-11-27 10:05:00.000000


$ alembic heads    [db: heads] (golden/heads.txt):
2f0e7a6c3b95 (audit) (head)
e6a2c5d81b39 (billing, shopping) (head)

$ alembic heads --verbose    [db: heads] (golden/heads_verbose.txt):
Rev: 2f0e7a6c3b95 (head)
Parent: 27c4b9e0d1f8
Branch names: audit
Path: /tmp/athanor-twin-small/versions/2f0e7a6c3b95_add_audit_events.py

    add audit events
    
    Revision ID: 2f0e7a6c3b95
    Revises: 27c4b9e0d1f8
    Create Date: 2026-11-27 10:05:00.000000

Rev: e6a2c5d81b39 (head) (mergepoint)
Merges: c07d93e4a615, 9d18a6b3f072
Branch names: billing, shopping
Path: /tmp/athanor-twin-small/versions/e6a2c5d81b39_merge_billing_and_shopping.py

    merge billing and shopping
    
    Revision ID: e6a2c5d81b39
    Revises: c07d93e4a615, 9d18a6b3f072
    Create Date: 2026-11-27 10:07:00.000000


$ alembic branches    [db: heads] (golden/branches.txt):
8c41e07ab2d3 (branchpoint)
             -> 5be2f1a09c44 (billing)
             -> 9d18a6b3f072 (shopping)


$ alembic branches --verbose    [db: heads] (golden/branches_verbose.txt):
Rev: 8c41e07ab2d3 (branchpoint)
Parent: 3f9a1c2b7d10
Branches into: 5be2f1a09c44, 9d18a6b3f072
Path: /tmp/athanor-twin-small/versions/8c41e07ab2d3_add_account_table.py

    add account table
    
    Revision ID: 8c41e07ab2d3
    Revises: 3f9a1c2b7d10
    Create Date: 2026-11-27 10:01:00.000000

             -> 5be2f1a09c44 (billing), add invoice table
             -> 9d18a6b3f072 (shopping), add cart table


$ alembic history    [db: heads] (golden/history.txt):
27c4b9e0d1f8 -> 2f0e7a6c3b95 (audit) (head), add audit events
c07d93e4a615, 9d18a6b3f072 -> e6a2c5d81b39 (billing, shopping) (head) (mergepoint), merge billing and shopping
5be2f1a09c44 -> c07d93e4a615 (billing), add invoice lines
8c41e07ab2d3 -> 5be2f1a09c44 (billing), add invoice table
8c41e07ab2d3 (27c4b9e0d1f8) -> 9d18a6b3f072 (shopping), add cart table
3f9a1c2b7d10 -> 8c41e07ab2d3 (branchpoint), add account table
<base> -> 3f9a1c2b7d10, create log table
<base> -> 27c4b9e0d1f8 (audit), start audit trail

$ alembic history --verbose    [db: heads] (golden/history_verbose.txt):
Rev: 2f0e7a6c3b95 (head)
Parent: 27c4b9e0d1f8
Branch names: audit
Path: /tmp/athanor-twin-small/versions/2f0e7a6c3b95_add_audit_events.py

    add audit events
    
    Revision ID: 2f0e7a6c3b95
    Revises: 27c4b9e0d1f8
    Create Date: 2026-11-27 10:05:00.000000

Rev: e6a2c5d81b39 (head) (mergepoint)
Merges: c07d93e4a615, 9d18a6b3f072
Branch names: billing, shopping
Path: /tmp/athanor-twin-small/versions/e6a2c5d81b39_merge_billing_and_shopping.py

    merge billing and shopping
    
    Revision ID: e6a2c5d81b39
    Revises: c07d93e4a615, 9d18a6b3f072
    Create Date: 2026-11-27 10:07:00.000000

Rev: c07d93e4a615
Parent: 5be2f1a09c44
Branch names: billing
Path: /tmp/athanor-twin-small/versions/c07d93e4a615_add_invoice_lines.py

    add invoice lines
    
    Revision ID: c07d93e4a615
    Revises: 5be2f1a09c44
    Create Date: 2026-11-27 10:03:00.000000

Rev: 5be2f1a09c44
Parent: 8c41e07ab2d3
Branch names: billing
Path: /tmp/athanor-twin-small/versions/5be2f1a09c44_add_invoice_table.py

    add invoice table
    
    Revision ID: 5be2f1a09c44
    Revises: 8c41e07ab2d3
    Create Date: 2026-11-27 10:02:00.000000

Rev: 9d18a6b3f072
Parent: 8c41e07ab2d3
Also depends on: 27c4b9e0d1f8
Branch names: shopping
Path: /tmp/athanor-twin-small/versions/9d18a6b3f072_add_cart_table.py

    add cart table
    
    Revision ID: 9d18a6b3f072
    Revises: 8c41e07ab2d3
    Create Date: 2026-11-27 10:06:00.000000

Rev: 8c41e07ab2d3 (branchpoint)
Parent: 3f9a1c2b7d10
Branches into: 5be2f1a09c44, 9d18a6b3f072
Path: /tmp/athanor-twin-small/versions/8c41e07ab2d3_add_account_table.py

    add account table
    
    Revision ID: 8c41e07ab2d3
    Revises: 3f9a1c2b7d10
    Create Date: 2026-11-27 10:01:00.000000

Rev: 3f9a1c2b7d10
Parent: <base>
Path: /tmp/athanor-twin-small/versions/3f9a1c2b7d10_create_log_table.py

    create log table
    
    Revision ID: 3f9a1c2b7d10
    Revises: 
    Create Date: 2026-11-27 10:00:00.000000

Rev: 27c4b9e0d1f8
Parent: <base>
Branch names: audit
Path: /tmp/athanor-twin-small/versions/27c4b9e0d1f8_start_audit_trail.py

    start audit trail
    
    Revision ID: 27c4b9e0d1f8
    Revises: 
    Create Date: 2026-11-27 10:04:00.000000


$ alembic history -r 8c41:e6a2    [db: heads] (golden/history_r_8c41_e6a2.txt):
c07d93e4a615, 9d18a6b3f072 -> e6a2c5d81b39 (billing, shopping) (head) (mergepoint), merge billing and shopping
5be2f1a09c44 -> c07d93e4a615 (billing), add invoice lines
8c41e07ab2d3 -> 5be2f1a09c44 (billing), add invoice table
8c41e07ab2d3 (27c4b9e0d1f8) -> 9d18a6b3f072 (shopping), add cart table
3f9a1c2b7d10 -> 8c41e07ab2d3 (branchpoint), add account table

$ alembic history --indicate-current    [db: heads] (golden/history_indicate_current.txt):
27c4b9e0d1f8 -> 2f0e7a6c3b95 (audit) (head) (current), add audit events
c07d93e4a615, 9d18a6b3f072 -> e6a2c5d81b39 (billing, shopping) (head) (current) (mergepoint), merge billing and shopping
5be2f1a09c44 -> c07d93e4a615 (billing), add invoice lines
8c41e07ab2d3 -> 5be2f1a09c44 (billing), add invoice table
8c41e07ab2d3 (27c4b9e0d1f8) -> 9d18a6b3f072 (shopping), add cart table
3f9a1c2b7d10 -> 8c41e07ab2d3 (branchpoint), add account table
<base> -> 3f9a1c2b7d10, create log table
<base> -> 27c4b9e0d1f8 (audit), start audit trail

$ alembic show e6a2    [db: heads] (golden/show_e6a2.txt):
Rev: e6a2c5d81b39 (head) (mergepoint)
Merges: c07d93e4a615, 9d18a6b3f072
Branch names: billing, shopping
Path: /tmp/athanor-twin-small/versions/e6a2c5d81b39_merge_billing_and_shopping.py

    merge billing and shopping
    
    Revision ID: e6a2c5d81b39
    Revises: c07d93e4a615, 9d18a6b3f072
    Create Date: 2026-11-27 10:07:00.000000


$ alembic show 9d18    [db: heads] (golden/show_9d18.txt):
Rev: 9d18a6b3f072
Parent: 8c41e07ab2d3
Also depends on: 27c4b9e0d1f8
Branch names: shopping
Path: /tmp/athanor-twin-small/versions/9d18a6b3f072_add_cart_table.py

    add cart table
    
    Revision ID: 9d18a6b3f072
    Revises: 8c41e07ab2d3
    Create Date: 2026-11-27 10:06:00.000000

"""

from __future__ import annotations

import ast
import importlib.util
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import graphs  # noqa: E402
import make_golden  # noqa: E402
import normalize as N  # noqa: E402
import twin  # noqa: E402

SMALL = HERE / "fixtures" / "small"
GOLDEN = HERE / "golden"
HEADS = {"e6a2c5d81b39", "2f0e7a6c3b95"}
LABELS = {"billing", "shopping", "audit"}
# the order `upgrade heads` runs the steps in (recorded in the log table)
UPGRADE_ORDER = ["27c4b9e0d1f8", "3f9a1c2b7d10", "8c41e07ab2d3", "9d18a6b3f072",
                 "5be2f1a09c44", "c07d93e4a615", "e6a2c5d81b39", "2f0e7a6c3b95"]


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("twin") / "small"
    twin.build(SMALL, out)
    return out


def alembic(out, db, *args) -> twin.Result:
    return twin.run_inprocess(out, db, list(args))


def user_tables(db: Path) -> set[str]:
    con = sqlite3.connect(db)
    try:
        return {r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")}
    finally:
        con.close()


def rows(db: Path, sql: str) -> list:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def load_module(path: Path):
    spec = importlib.util.spec_from_file_location("m_" + path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# --------------------------------------------------------------------------- twin.py


def test_split_sql():
    sql = """-- leading comment
CREATE TABLE a(x); CREATE TABLE b(y TEXT DEFAULT ';');
/* a; comment */
CREATE TRIGGER tr AFTER INSERT ON a BEGIN INSERT INTO b VALUES (';'); END;
-- only a comment;

INSERT INTO a VALUES (1)
"""
    assert twin.split_sql(sql) == [
        "-- leading comment\nCREATE TABLE a(x)",
        "CREATE TABLE b(y TEXT DEFAULT ';')",
        "/* a; comment */\nCREATE TRIGGER tr AFTER INSERT ON a BEGIN INSERT INTO b VALUES (';'); END",
        "-- only a comment;\n\nINSERT INTO a VALUES (1)",
    ]
    assert twin.split_sql("  \n-- nothing here;\n/* x */\n") == []
    assert twin.split_sql("") == []


def test_build_writes_alembic_project(small):
    assert {p.name for p in small.iterdir()} >= {"alembic.ini", "env.py", "script.py.mako", "versions"}
    sql_stems = sorted(p.stem for p in SMALL.glob("*.sql"))
    assert sorted(p.stem for p in (small / "versions").glob("*.py")) == sql_stems
    ini = (small / "alembic.ini").read_text()
    assert f"script_location = {small}" in ini and "[loggers]" in ini

    revs = {r.revision: r for r in twin.load_sql_dir(SMALL)}
    for stem in sql_stems:
        mod = load_module(small / "versions" / f"{stem}.py")
        r = revs[mod.revision]
        assert stem.startswith(r.revision + "_")
        assert mod.__doc__.split("\n\n")[0] == r.message
        assert f"Revision ID: {r.revision}\n" in mod.__doc__
        assert f"Revises: {', '.join(r.revises)}\n" in mod.__doc__
        assert f"Create Date: {r.create_date}\n" in mod.__doc__
    merge = load_module(small / "versions" / "e6a2c5d81b39_merge_billing_and_shopping.py")
    assert merge.down_revision == ("c07d93e4a615", "9d18a6b3f072")
    cart = load_module(small / "versions" / "9d18a6b3f072_add_cart_table.py")
    assert (cart.down_revision, cart.branch_labels, cart.depends_on) == (
        "8c41e07ab2d3", ("shopping",), "27c4b9e0d1f8")
    base = load_module(small / "versions" / "3f9a1c2b7d10_create_log_table.py")
    assert (base.down_revision, base.branch_labels, base.depends_on) == (None, None, None)


def test_scripts_match_alembics_own_template(small):
    """Docstring and identifiers are what `alembic revision`/`merge` would write."""
    from alembic.util import format_as_comma
    from mako.template import Template

    tmpl = Template(filename=str(small / "script.py.mako"))
    for r in twin.load_sql_dir(SMALL):
        ref = tmpl.render(
            up_revision=r.revision,
            down_revision=twin._scalar_or_tuple(r.revises),
            branch_labels=tuple(r.branch_labels) or None,
            depends_on=twin._scalar_or_tuple(r.depends_on),
            message=r.message, create_date=r.create_date,
            imports="", upgrades="pass", downgrades="pass",
            comma=format_as_comma,
        )
        ours = (small / "versions" / f"{r.stem}.py").read_text()
        ref_t, our_t = ast.parse(ref), ast.parse(ours)
        assert ast.get_docstring(our_t, clean=False) == ast.get_docstring(ref_t, clean=False)
        pick = lambda t: {n.target.id: ast.literal_eval(n.value) for n in t.body
                          if isinstance(n, ast.AnnAssign)}
        assert pick(our_t) == pick(ref_t)


def test_alembic_reads_message_and_graph(small):
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    sd = ScriptDirectory.from_config(Config(str(small / "alembic.ini")))
    revs = twin.load_sql_dir(SMALL)
    for r in revs:
        sc = sd.get_revision(r.revision)
        assert sc.doc == r.message
        assert sc.longdoc.startswith(r.message + "\n\nRevision ID: " + r.revision)
    assert set(sd.get_heads()) == HEADS
    assert set(sd.get_bases()) == {"3f9a1c2b7d10", "27c4b9e0d1f8"}
    # Alembic's load order is sorted file name order, like athanor's
    assert list(sd.revision_map._revision_map)[: len(revs)] == [r.revision for r in revs]


def test_upgrade_heads_creates_all_tables(small, tmp_path):
    db = tmp_path / "a.db"
    r = alembic(small, db, "upgrade", "heads")
    assert r.status == 0, r.stderr
    assert user_tables(db) == {"alembic_version", "log", "account", "invoice", "invoice_line",
                               "audit", "audit_event", "cart"}
    assert {v for (v,) in rows(db, "SELECT version_num FROM alembic_version")} == HEADS
    assert [v for (v,) in rows(db, "SELECT rev FROM log ORDER BY rowid")] == UPGRADE_ORDER
    assert "Running upgrade 8c41e07ab2d3 -> 9d18a6b3f072, add cart table" in r.stderr


def test_read_commands_run(small, tmp_path):
    db = tmp_path / "a.db"
    assert alembic(small, db, "upgrade", "heads").status == 0
    cur = alembic(small, db, "current")
    assert cur.status == 0
    assert sorted(cur.stdout.splitlines()) == ["2f0e7a6c3b95 (head)", "e6a2c5d81b39 (head) (mergepoint)"]
    heads = alembic(small, db, "heads")
    assert heads.status == 0 and heads.stdout.count("(head)") == 2
    hist = alembic(small, db, "history", "--verbose")
    assert hist.status == 0 and hist.stdout.count("Rev: ") == 8
    assert "Also depends on: 27c4b9e0d1f8" in hist.stdout
    br = alembic(small, db, "branches")
    assert br.status == 0 and br.stdout.startswith("8c41e07ab2d3 (branchpoint)\n")


def test_upgrade_sql_prints_running_lines(small, tmp_path):
    db = tmp_path / "never.db"
    r = alembic(small, db, "upgrade", "heads", "--sql")
    assert r.status == 0
    running = [line for line in r.stdout.splitlines() if line.startswith("-- Running upgrade")]
    assert [line.split()[-1] for line in running] == UPGRADE_ORDER
    assert "CREATE TABLE alembic_version" in r.stdout
    assert not db.exists()  # offline mode touches nothing


def test_downgrade_base_empties_version_table(small, tmp_path):
    db = tmp_path / "a.db"
    assert alembic(small, db, "upgrade", "heads").status == 0
    r = alembic(small, db, "downgrade", "base")
    assert r.status == 0, r.stderr
    assert rows(db, "SELECT * FROM alembic_version") == []
    # every revision's own table is gone; the shared log table stays
    assert user_tables(db) == {"alembic_version", "log"}
    log = [v for (v,) in rows(db, "SELECT rev FROM log ORDER BY rowid")]
    assert sorted(v for v in log if v.startswith("-")) == sorted("-" + v for v in UPGRADE_ORDER)


def test_version_table_option_and_cli(tmp_path):
    """The real CLI path: `twin.py build --version-table`, `twin.py run`, exit codes."""
    out, db = tmp_path / "twin", tmp_path / "cli.db"
    cli = [sys.executable, str(HERE / "twin.py")]
    b = subprocess.run(cli + ["build", str(SMALL), str(out), "--version-table", "my_versions"],
                       capture_output=True, text=True)
    assert b.returncode == 0, b.stderr
    up = subprocess.run(cli + ["run", str(out), str(db), "--", "upgrade", "heads"],
                        capture_output=True, text=True)
    assert up.returncode == 0, up.stderr
    assert "Running upgrade" in up.stderr  # Alembic's INFO logging still goes to stderr
    assert {v for (v,) in rows(db, "SELECT version_num FROM my_versions")} == HEADS
    assert "alembic_version" not in user_tables(db)
    heads = subprocess.run(cli + ["run", str(out), str(db), "--", "heads"], capture_output=True, text=True)
    assert heads.returncode == 0
    # the in-process runner prints the same as the real CLI (label order is
    # a set's, and the child process has another hash seed)
    assert N.norm_listing(heads.stdout, LABELS) == N.norm_listing(alembic(out, db, "heads").stdout, LABELS)
    bad = subprocess.run(cli + ["run", str(out), str(db), "--", "upgrade", "head"],
                         capture_output=True, text=True)
    assert bad.returncode == 255 and bad.stdout.startswith("FAILED: Multiple head revisions")
    assert alembic(out, db, "upgrade", "head").status == 255


def test_irreversible_and_empty_downgrade(tmp_path):
    sql = tmp_path / "sql"
    sql.mkdir()
    (sql / "aaaa0001_first.sql").write_text(
        "-- Revision ID: aaaa0001\n-- Revises:\n-- Message: first one\n\n"
        "-- migrate:upgrade\nCREATE TABLE one (v TEXT);\nINSERT INTO one VALUES (':not_a_bind');\n\n"
        "-- migrate:downgrade\n")  # empty section: a no-op downgrade
    (sql / "aaaa0002_second.sql").write_text(
        "-- Revision ID: aaaa0002\n-- Revises: aaaa0001\n-- Message: no way back — ünïcode\n\n"
        "-- migrate:upgrade\nCREATE TABLE two (id INTEGER);\n")  # no downgrade: irreversible
    out, db = tmp_path / "twin", tmp_path / "a.db"
    twin.build(sql, out)
    assert alembic(out, db, "upgrade", "heads").status == 0
    assert "aaaa0001 -> aaaa0002 (head), no way back — ünïcode" in alembic(out, db, "history").stdout
    assert rows(db, "SELECT v FROM one") == [(":not_a_bind",)]
    assert ":not_a_bind" in alembic(out, db, "upgrade", "heads", "--sql").stdout
    r = alembic(out, db, "downgrade", "-1")
    assert r.status != 0 and "NotImplementedError" in r.stderr and "irreversible" in r.stderr
    assert rows(db, "SELECT version_num FROM alembic_version") == [("aaaa0002",)]
    assert alembic(out, db, "stamp", "aaaa0001").status == 0
    assert alembic(out, db, "downgrade", "base").status == 0  # the empty section runs
    assert rows(db, "SELECT * FROM alembic_version") == []
    assert "one" in user_tables(db)


# --------------------------------------------------------------------------- goldens


def test_goldens_reproduce(tmp_path):
    """golden/*.txt is what Alembic prints (modulo its set-ordered items and paths)."""
    meta = json.loads((GOLDEN / "COMMANDS.json").read_text())
    assert [c["file"] for c in meta["commands"]] == [f"{n}.txt" for n, _, _ in make_golden.COMMANDS]
    out, db = tmp_path / "twin", tmp_path / "small.db"
    twin.build(SMALL, out)
    for name, argv, _state in make_golden.COMMANDS:
        r = alembic(out, db, *argv)
        assert r.status == 0, (argv, r.stderr)
        golden = (GOLDEN / f"{name}.txt").read_text()
        if "--sql" in argv:
            bad = N.compare_offline(r.stdout, golden, "alembic_version", N.offline_start(argv),
                                    user_sql=True)
            assert bad is None, (argv, bad)
            assert r.stdout.count("\n") == golden.count("\n")
            continue
        norm = N.norm_current if argv[0] == "current" else N.norm_listing
        assert norm(r.stdout, LABELS, dbpaths=[db]) == norm(
            golden, LABELS, dbpaths=[meta["database"]]), argv


# --------------------------------------------------------------------------- graphs.py


def test_graphs_are_deterministic(tmp_path):
    for seed in (0, 1, 17):
        a, b = graphs.generate(seed), graphs.generate(seed)
        assert a == b
        da, db = a.write(tmp_path / f"a{seed}"), b.write(tmp_path / f"b{seed}")
        assert {p.name: p.read_text() for p in da.iterdir()} == {p.name: p.read_text() for p in db.iterdir()}
    assert graphs.generate(1) != graphs.generate(2)


def test_graphs_cover_the_interesting_shapes():
    seen = dict(merge=0, merge3=0, merge_of_merge=0, multi_base=0, branch_point=0, label=0,
                multi_label=0, depends_on=0, shared_prefix3=0, irreversible=0)
    for seed in range(60):
        g = graphs.generate(seed, irreversible_p=0.2 if seed % 4 == 1 else 0.0)
        m = g.by_id()
        ids = list(m)
        seen["merge"] += any(len(r.revises) > 1 for r in g.revs)
        seen["merge3"] += any(len(r.revises) > 2 for r in g.revs)
        seen["merge_of_merge"] += any(len(r.revises) > 1 and any(len(m[p].revises) > 1 for p in r.revises)
                                      for r in g.revs)
        seen["multi_base"] += sum(not r.revises for r in g.revs) > 1
        seen["branch_point"] += any(len(c) > 1 for c in g.children().values())
        seen["label"] += any(r.branch_labels for r in g.revs)
        seen["multi_label"] += any(len(r.branch_labels) > 1 for r in g.revs)
        seen["depends_on"] += any(r.depends_on for r in g.revs)
        seen["shared_prefix3"] += any(a != b and a[:3] == b[:3] for a in ids for b in ids)
        seen["irreversible"] += any(r.irreversible for r in g.revs)
        for r in g.revs:
            assert len(r.revision) == 12 and int(r.revision, 16) >= 0
            assert len(r.depends_on) <= 1 and " " in r.message
            assert all(p in m and ids.index(p) < ids.index(r.revision) for p in r.revises + r.depends_on)
    assert all(v >= 3 for v in seen.values()), seen


@pytest.mark.parametrize("seed", [0, 3, 7, 12])
def test_generated_graph_upgrades_with_alembic(seed, tmp_path):
    g = graphs.generate(seed)
    out, db = tmp_path / "twin", tmp_path / "g.db"
    twin.build(g.write(tmp_path / "sql"), out)
    r = alembic(out, db, "upgrade", "heads")
    assert r.status == 0, r.stderr
    assert user_tables(db) == {f"t_{x.revision}" for x in g.revs} | {"log", "alembic_version"}
    log = [v for (v,) in rows(db, "SELECT rev FROM log ORDER BY rowid")]
    assert sorted(log) == sorted(x.revision for x in g.revs)
    # each revision ran after its parents and dependencies
    for x in g.revs:
        assert all(log.index(p) < log.index(x.revision) for p in x.revises + x.depends_on)
    got = {v for (v,) in rows(db, "SELECT version_num FROM alembic_version")}
    assert got <= set(g.heads())
