"""Normalisation of Alembic / athanor command output for comparison.

Alembic prints several things in an order that depends on Python's hash seed
or on object addresses (checked by running the same graphs under several
PYTHONHASHSEED values), so they cannot be compared character for character:

* branch labels of a revision: a ``set`` → ``(billing, shopping)`` /
  ``Branch names: billing, shopping`` come in any order;
* ``Branches into: a, b`` and the children listed by ``branches``: a frozenset;
* the lines of ``current``: a set of Script objects (hashed by address);
* in ``--sql``, which parent row of a merge is DELETEd and which is UPDATEd
  when other heads are present (a set), and the INSERT order when
  downgrading through a merge;
* hence the rowid order of the version table.

Everything here sorts exactly those items and nothing else.  ``Path:`` lines
point at `.py` (Alembic) vs `.sql` (athanor) files, so only the file stem is
kept, and the database path (different per tool) is replaced by ``<DB>``.
"""

from __future__ import annotations

import re
import sqlite3

_PATH_RE = re.compile(r"^(\s*Path: ).*?([^/\\]+?)(\.py|\.sql)?$", re.M)


def norm_paths(text: str) -> str:
    return _PATH_RE.sub(lambda m: m.group(1) + m.group(2), text)


def norm_db(text: str, *dbpaths: str) -> str:
    for p in dbpaths:
        if p:
            text = text.replace(str(p), "<DB>")
    return text


def sort_label_groups(text: str, labels) -> str:
    """Sort '(a, b)' groups made only of known branch labels."""
    labels = set(labels)

    def fix(m: re.Match) -> str:
        items = m.group(1).split(", ")
        if len(items) > 1 and all(i in labels for i in items):
            return "(" + ", ".join(sorted(items)) + ")"
        return m.group(0)

    return re.sub(r"\(([^()\n]+)\)", fix, text)


def sort_list_lines(text: str) -> str:
    def fix(m: re.Match) -> str:
        return m.group(1) + ", ".join(sorted(m.group(2).split(", ")))

    return re.sub(r"^((?:Branch names|Branches into): )(.*)$", fix, text, flags=re.M)


def sort_branch_children(text: str) -> str:
    """`branches`: sort each run of consecutive '   -> child' lines."""
    out: list[str] = []
    run: list[str] = []
    for line in text.split("\n"):
        if re.match(r"^\s+-> ", line):
            run.append(line)
            continue
        out += sorted(run)
        run = []
        out.append(line)
    out += sorted(run)
    return "\n".join(out)


def split_entries(text: str) -> list[str]:
    """Split verbose output into 'Rev: ...' entries (plus any leading text)."""
    parts = re.split(r"(?m)^(?=Rev: )", text)
    return [p for p in parts if p]


def norm_listing(text: str, labels=(), *, dbpaths=()) -> str:
    """heads / branches / history / show: order is meaningful, set items are not."""
    text = norm_db(norm_paths(text), *dbpaths)
    text = sort_label_groups(text, labels)
    text = sort_list_lines(text)
    return sort_branch_children(text)


def norm_current(text: str, labels=(), *, dbpaths=()) -> str:
    """current [--verbose]: the order of revisions is arbitrary in Alembic."""
    text = norm_listing(text, labels, dbpaths=dbpaths)
    if "Rev: " in text:
        entries = split_entries(text)
        head = [e for e in entries if not e.startswith("Rev: ")]
        return "".join(head + sorted(e for e in entries if e.startswith("Rev: ")))
    return "\n".join(sorted(line for line in text.split("\n") if line)) + "\n"


# ---------------------------------------------------------------------------
# offline --sql output

_WS = re.compile(r"\s+")


def norm_ws(sql: str) -> str:
    s = _WS.sub(" ", sql).strip()
    s = re.sub(r"\(\s+", "(", s)
    s = re.sub(r"\s+([),;])", r"\1", s)
    return s.rstrip(";").rstrip()


def parse_sql_script(text: str) -> list[tuple[str, str]]:
    """Offline output → [('marker', '-- Running upgrade a -> b') | ('stmt', sql)]."""
    items: list[tuple[str, str]] = []
    buf = ""
    for line in text.splitlines(keepends=True):
        if not buf and line.lstrip().startswith("--"):
            stripped = line.strip()
            if stripped.startswith("-- Running "):
                items.append(("marker", norm_ws(stripped)))
            continue
        if not buf and not line.strip():
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            items.append(("stmt", norm_ws(buf)))
            buf = ""
    if buf.strip():
        items.append(("stmt", norm_ws(buf)))
    return items


def version_statements(text: str, version_table: str) -> list[tuple[str, list[str]]]:
    """[(marker or '', [version-table statements under it])] in output order."""
    vt = re.escape(version_table)
    pat = re.compile(
        rf"^(INSERT INTO|UPDATE|DELETE FROM|CREATE TABLE( IF NOT EXISTS)?|DROP TABLE( IF EXISTS)?)\s+[\"`]?{vt}\b",
        re.I,
    )
    steps: list[tuple[str, list[str]]] = [("", [])]
    for kind, val in parse_sql_script(text):
        if kind == "marker":
            steps.append((val, []))
        elif pat.match(val):
            steps[-1][1].append(val)
    return steps


_VAL = r"'((?:[^']|'')*)'"


def simulate(steps, initial=()) -> tuple[list[frozenset], list[str]]:
    """Apply the version-table statements; row set after each step + problems."""
    rows = set(initial)
    after: list[frozenset] = []
    problems: list[str] = []
    for marker, stmts in steps:
        for s in stmts:
            up = s.upper()
            if up.startswith("INSERT"):
                m = re.search(r"VALUES\s*\(\s*" + _VAL, s, re.I)
                v = m.group(1) if m else None
                if v in rows:
                    problems.append(f"{marker}: INSERT of existing row {v}: {s}")
                rows.add(v)
            elif up.startswith("UPDATE"):
                m = re.search(r"SET\s+version_num\s*=\s*" + _VAL + r".*=\s*" + _VAL, s, re.I)
                if not m:
                    problems.append(f"{marker}: unparsed UPDATE: {s}")
                    continue
                new, old = m.group(1), m.group(2)
                if old not in rows:
                    problems.append(f"{marker}: UPDATE of missing row {old}: {s}")
                rows.discard(old)
                rows.add(new)
            elif up.startswith("DELETE"):
                m = re.search(r"=\s*" + _VAL, s)
                old = m.group(1) if m else None
                if old not in rows:
                    problems.append(f"{marker}: DELETE of missing row {old}: {s}")
                rows.discard(old)
        after.append(frozenset(rows))
    return after, problems


def stmt_kinds(stmts) -> list[str]:
    return sorted(s.split()[0].upper() for s in stmts)


def offline_start(args) -> list[str]:
    """Rows an offline `upgrade/downgrade X:Y --sql` starts from: [X] (or none for base)."""
    target = next((a for a in args[1:] if not a.startswith("-")), "")
    start = target.split(":")[0] if ":" in target else ""
    return [start] if start and start != "base" else []


def _fmt_steps(steps) -> str:
    return "\n".join(
        f"{m or '<preamble>'}\n" + "".join(f"    {s}\n" for s in st) for m, st in steps
    )


def compare_offline(a_text: str, b_text: str, version_table: str, initial=(),
                    user_sql: bool = False):
    """Compare athanor's (a) and Alembic's (b) --sql output.

    Returns None when equivalent, else (what, a_formatted, b_formatted).
    '-- Running' lines must match in order.  Version-table statements must
    match exactly, or -- because Alembic picks which merge parent row to
    DELETE vs UPDATE (and the INSERT order when unmerging) from a set -- have
    the same statement kinds and the same resulting rows after every step.
    With user_sql, the other statements of every step must match too."""
    a = version_statements(a_text, version_table)
    b = version_statements(b_text, version_table)
    am, bm = [m for m, _ in a], [m for m, _ in b]
    if am != bm:
        return "'-- Running' lines", "\n".join(am), "\n".join(bm)
    if user_sql:
        au, bu = user_statements(a_text, version_table), user_statements(b_text, version_table)
        if au != bu:
            return "migration statements", _fmt_steps(au), _fmt_steps(bu)
    if a == b:
        return None
    a_rows, a_probs = simulate(a, initial)
    b_rows, b_probs = simulate(b, initial)
    if b_probs:  # Alembic's own statements don't apply cleanly either
        a_probs = []
    same_kinds = [stmt_kinds(s) for _, s in a] == [stmt_kinds(s) for _, s in b]
    if a_probs or a_rows != b_rows or not same_kinds:
        what = "version-table statements"
        if a_probs:
            what += f" (athanor's do not apply cleanly: {a_probs})"
        return what, _fmt_steps(a), _fmt_steps(b)
    return None


def user_statements(text: str, version_table: str) -> list[tuple[str, list[str]]]:
    vt = {s for _, st in version_statements(text, version_table) for s in st}
    steps: list[tuple[str, list[str]]] = [("", [])]
    for kind, val in parse_sql_script(text):
        if kind == "marker":
            steps.append((val, []))
        elif val not in vt:
            steps[-1][1].append(val)
    return steps
