"""Differential tests: athanor vs REAL Alembic on seeded random revision graphs.

    ATHANOR_BIN=target/debug/athanor python3 -m pytest tests/alembic/test_differential.py

Environment:
  ATHANOR_BIN           athanor command (shlex-split, so "node pkg/bin.js" works).
                        Unset → this module is skipped (and says so).
  ATHANOR_DIFF_GRAPHS   number of random graphs (default 25)
  ATHANOR_DIFF_SEED     first seed (default 0); seeds are SEED..SEED+N-1
  ATHANOR_DIFF_FAILDIR  where failing cases are saved (default /tmp/athanor-diff-failures)
  ATHANOR_DIFF_SIZE     revisions per graph (default: 6-16, chosen by the seed)
  ATHANOR_DIFF_EXTRA    how many of the extra commands (relative targets such as
                        base+1 / head-1 / rev-1, label@base, several stamp targets,
                        `history -r` ranges, `show heads`, `stamp --sql`, errors...)
                        each test runs per graph, chosen per seed (default 4, so
                        that the CI run stays about as long; "all" = every one)

athanor is invoked as `$ATHANOR_BIN --dir SQLDIR --db DBPATH [--version-table N] CMD...`;
Alembic runs in-process on the twin built by twin.py (≈10-40 ms per command
instead of ≈0.6 s for a fresh interpreter, which is what keeps 25 graphs
well under the time budget).

Each failure message names the seed, the command, both outputs and a diff, and
the case (sql dir, Alembic twin, the starting database, REPRO.txt with the
exact commands) is copied under ATHANOR_DIFF_FAILDIR/seed-<n>-<test>/.

What is compared, and why some things are normalised: see normalize.py.  In
short, orders that Alembic takes from Python sets (labels, branch children,
`current` lines, which merge parent row is DELETEd vs UPDATEd) are compared as
sets; everything else is compared in order.  When both tools fail, the error
messages are compared (Alembic's must be a prefix of athanor's); in
test_targets, each command's `Running upgrade/downgrade/stamp_revision`
log lines are compared in order too.  When Alembic itself crashes (an
internal exception, not a clean "FAILED:" error, e.g. a KeyError in its
version-table bookkeeping on some merge+depends_on graphs) there is no oracle
for that command: it is reported as a warning and not compared.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import random
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import graphs  # noqa: E402
import normalize as N  # noqa: E402
import twin  # noqa: E402

ATHANOR_BIN = os.environ.get("ATHANOR_BIN")
if not ATHANOR_BIN:
    pytest.skip(
        "ATHANOR_BIN is unset, so there is no athanor to compare with Alembic; "
        "set ATHANOR_BIN=/path/to/athanor to run the differential tests",
        allow_module_level=True,
    )

N_GRAPHS = int(os.environ.get("ATHANOR_DIFF_GRAPHS", "25"))
SEED0 = int(os.environ.get("ATHANOR_DIFF_SEED", "0"))
FAIL_ROOT = Path(os.environ.get("ATHANOR_DIFF_FAILDIR", "/tmp/athanor-diff-failures"))
SEEDS = list(range(SEED0, SEED0 + N_GRAPHS))
SIZE = int(os.environ["ATHANOR_DIFF_SIZE"]) if os.environ.get("ATHANOR_DIFF_SIZE") else None
_EXTRA = os.environ.get("ATHANOR_DIFF_EXTRA", "4")
N_EXTRA = None if _EXTRA == "all" else int(_EXTRA)
TIMEOUT = 120

# tables the generated migrations create; anything else (sqlite_*, athanor's
# own bookkeeping tables) is not part of the comparison
_USER_TABLE = re.compile(r"^(t_[0-9a-f]+|log)$")


# ---------------------------------------------------------------------------
# cases


@dataclasses.dataclass
class Case:
    seed: int
    graph: graphs.Graph
    root: Path
    sqldir: Path
    twindir: Path
    version_table: str
    pass_version_table: bool
    labels: dict[str, str]

    def scratch(self, name: str) -> Path:
        d = self.root / "scratch" / name
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        return d


_CASES: dict[int, Case] = {}


@pytest.fixture(scope="session")
def diff_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("athanor-diff")


def get_case(seed: int, root: Path) -> Case:
    if seed not in _CASES:
        # a few graphs have irreversible revisions, a few a custom version table
        g = graphs.generate(seed, SIZE, irreversible_p=0.2 if seed % 4 == 1 else 0.0)
        custom = seed % 5 == 3
        vt = "schema_version" if custom else "alembic_version"
        croot = root / f"seed-{seed}"
        sqldir = g.write(croot / "migrations")
        twindir = croot / "alembic_twin"
        twin.build(sqldir, twindir, version_table=vt)
        _CASES[seed] = Case(seed, g, croot, sqldir, twindir, vt, custom, g.labels())
    return _CASES[seed]


# ---------------------------------------------------------------------------
# running the tools


@dataclasses.dataclass
class Run:
    tool: str
    argv: list[str]
    db: Path | None
    res: twin.Result

    @property
    def ok(self) -> bool:
        return self.res.status == 0

    @property
    def crashed(self) -> bool:
        """Alembic died of an internal exception: no oracle for this command.

        Clean errors are CommandError → "FAILED:" and exit 255, argparse → 2,
        and our twin's irreversible downgrade (NotImplementedError)."""
        if self.tool != "alembic" or self.res.status in (0, 2, 255):
            return False
        return "NotImplementedError" not in self.res.stderr

    def cmdline(self, case: Case) -> str:
        if self.tool == "alembic":
            return "python3 {} run {} {} -- {}".format(
                HERE / "twin.py", case.twindir, self.db, shlex.join(self.argv)
            )
        return shlex.join(athanor_argv(case, self.db, self.argv))


def athanor_argv(case: Case, db, args) -> list[str]:
    argv = shlex.split(ATHANOR_BIN) + ["--dir", str(case.sqldir), "--db", str(db)]
    if case.pass_version_table:
        argv += ["--version-table", case.version_table]
    return argv + list(args)


def run_athanor(case: Case, db: Path, args) -> Run:
    try:
        p = subprocess.run(
            athanor_argv(case, db, args),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        res = twin.Result(p.returncode, p.stdout, p.stderr)
    except subprocess.TimeoutExpired as e:
        res = twin.Result(-9, e.stdout or "", f"TIMEOUT after {TIMEOUT}s\n{e.stderr or ''}")
    return Run("athanor", list(args), db, res)


def run_alembic(case: Case, db: Path | None, args) -> Run:
    return Run("alembic", list(args), db, twin.run_inprocess(case.twindir, db, args))


# ---------------------------------------------------------------------------
# database state


def db_state(db: Path, version_table: str):
    """(version rows as a set, user tables as a set, log entries in order)."""
    if not db.exists():
        return frozenset(), frozenset(), []
    con = sqlite3.connect(db)
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        rows = (
            frozenset(r[0] for r in con.execute(f'SELECT version_num FROM "{version_table}"'))
            if version_table in tables
            else frozenset()
        )
        log = [r[0] for r in con.execute("SELECT rev FROM log ORDER BY rowid")] if "log" in tables else []
        return rows, frozenset(t for t in tables if _USER_TABLE.match(t)), log
    finally:
        con.close()


def copy_db(src: Path | None, dst: Path) -> Path:
    if dst.exists():
        dst.unlink()
    if src is not None and src.exists():
        shutil.copyfile(src, dst)
    return dst


# ---------------------------------------------------------------------------
# reporting


class Report:
    """Collects mismatches for one (test, seed); fails once with all of them."""

    def __init__(self, case: Case, test: str):
        self.case, self.test = case, test
        self.problems: list[str] = []
        self.saved_dbs: dict[str, Path] = {}
        self.repro: list[str] = []

    def keep_db(self, label: str, db: Path | None):
        if db is not None and db.exists():
            self.saved_dbs[label] = db

    def crash_note(self, r: Run):
        last = (r.res.stderr.strip().splitlines() or ["?"])[-1]
        warnings.warn(
            f"seed {self.case.seed}: Alembic crashed on `{shlex.join(r.argv)}` ({last}); "
            "no oracle, not compared",
            stacklevel=2,
        )

    def mismatch(self, what: str, ath: Run, alem: Run, a_text: str, b_text: str, start: str = ""):
        diff = "\n".join(
            difflib.unified_diff(
                b_text.splitlines(), a_text.splitlines(), "alembic", "athanor", lineterm=""
            )
        )
        self.problems.append(
            f"--- seed {self.case.seed}: {what}"
            + (f" (starting state: {start})" if start else "")
            + f"\n  athanor: {ath.cmdline(self.case)}\n    exit {ath.res.status}"
            + f"\n  alembic: {alem.cmdline(self.case)}\n    exit {alem.res.status}"
            + f"\n  athanor stdout:\n{_indent(ath.res.stdout)}"
            + (f"\n  athanor stderr:\n{_indent(ath.res.stderr)}" if ath.res.stderr.strip() else "")
            + f"\n  alembic stdout:\n{_indent(alem.res.stdout)}"
            + (f"\n  alembic stderr (tail):\n{_indent(_tail(alem.res.stderr))}" if not alem.ok else "")
            + (f"\n  compared (normalised) diff alembic→athanor:\n{_indent(diff)}" if diff else "")
        )
        self.repro += [ath.cmdline(self.case), alem.cmdline(self.case)]
        for r in (ath, alem):
            if r.db is not None and r.db.exists():
                self.saved_dbs.setdefault(r.db.stem, r.db)

    def compare_status(self, what, ath: Run, alem: Run, start="") -> bool:
        """True when both succeeded (so outputs/state can be compared)."""
        if alem.crashed:
            self.crash_note(alem)
            return False
        if ath.ok != alem.ok:
            self.mismatch(f"{what}: exit status differs (zero vs non-zero)", ath, alem,
                          f"exit {ath.res.status}", f"exit {alem.res.status}", start)
            return False
        if not ath.ok:
            # both failed: the same error.  athanor may add detail after Alembic's
            # message (`Can't locate revision identified by 'x': No such revision
            # or branch 'x'`), so Alembic's must be a prefix of athanor's
            a, b = _failed_message(ath), _failed_message(alem)
            if not a.startswith(b):
                self.mismatch(f"{what}: error message", ath, alem, a, b, start)
        return ath.ok

    def compare_text(self, what, ath: Run, alem: Run, a: str, b: str, start=""):
        if a != b:
            self.mismatch(what, ath, alem, a, b, start)

    def finish(self):
        if not self.problems:
            return
        dest = FAIL_ROOT / f"seed-{self.case.seed}-{self.test}"
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        shutil.copytree(self.case.sqldir, dest / "migrations")
        twin.build(dest / "migrations", dest / "alembic_twin", version_table=self.case.version_table)
        for label, db in self.saved_dbs.items():
            shutil.copyfile(db, dest / f"{label}.db")

        def here(text: str) -> str:
            # point the commands at the saved copy instead of pytest's tmp dir
            for a, b in ((self.case.sqldir, dest / "migrations"),
                         (self.case.twindir, dest / "alembic_twin")):
                text = text.replace(str(a), str(b))
            return re.sub(re.escape(str(self.case.root / "scratch")) + r"/[^/\s]+/", str(dest) + "/", text)

        problems = [here(p) for p in self.problems]
        (dest / "REPRO.txt").write_text(
            f"# graph: python3 {HERE / 'graphs.py'} {self.case.seed} OUT "
            + (f"--size {SIZE} " if SIZE else "") +
            f"(irreversible_p={'0.2' if self.case.seed % 4 == 1 else '0.0'}); "
            f"version table: {self.case.version_table}\n"
            "# *_athanor.db / *_alembic.db hold each tool's database AFTER the command; to\n"
            "# rerun one, first copy the starting state named in the message over it\n"
            "# (start_heads.db / start_mid.db; 'no database' = delete it).\n\n"
            + self.case.graph.describe() + "\n\n"
            + "\n".join(here(c) for c in dict.fromkeys(self.repro)) + "\n\n"
            + "\n\n".join(problems) + "\n",
            encoding="utf-8",
        )
        pytest.fail(
            f"{len(problems)} mismatch(es) between athanor and Alembic, seed {self.case.seed}; "
            f"case saved in {dest} (see REPRO.txt)\n{self.case.graph.describe()}\n\n"
            + "\n\n".join(problems),
            pytrace=False,
        )


def _indent(s: str, pad: str = "    | ") -> str:
    return "\n".join(pad + line for line in (s.rstrip("\n").split("\n") if s else ["<empty>"]))


def _tail(s: str, n: int = 6) -> str:
    return "\n".join(s.strip().splitlines()[-n:])


# ---------------------------------------------------------------------------
# choosing revisions and targets (deterministic per seed)


def _rng(case: Case, salt: int) -> random.Random:
    return random.Random(case.seed * 1_000_003 + salt)


def _mid_revision(case: Case) -> str:
    heads = set(case.graph.heads())
    inner = [r.revision for r in case.graph.revs if r.revision not in heads]
    return _rng(case, 1).choice(inner or [r.revision for r in case.graph.revs])


def _pick(case: Case, salt: int, items):
    items = list(items)
    return _rng(case, salt).choice(items) if items else None


def _some_extras(case: Case, salt: int, extras: list) -> list:
    """ATHANOR_DIFF_EXTRA of `extras` (all of them when "all"), in their order."""
    if N_EXTRA is None or N_EXTRA >= len(extras):
        return extras
    keep = set(_rng(case, salt).sample(range(len(extras)), N_EXTRA))
    return [x for i, x in enumerate(extras) if i in keep]


def _with_ancestor(case: Case) -> list[str]:
    """Revisions that have a parent (so `rev-1` exists)."""
    return [r.revision for r in case.graph.revs if r.revises]


def _failed_message(r: Run) -> str:
    """The message of a clean error: Alembic's `FAILED: msg` (stdout), athanor's
    `FAILED [CODE]: msg` (stderr); the code is athanor's own addition."""
    for line in (r.res.stdout + "\n" + r.res.stderr).splitlines():
        m = re.match(r"^FAILED(?: \[[A-Z_]+\])?: (.*)$", line)
        if m:
            return m.group(1)
    return ""


def _running_lines(text: str) -> list[str]:
    """`Running upgrade a -> b, msg` / `Running stamp_revision a -> b` log lines (stderr)."""
    return re.findall(r"(?m)^INFO\s+\[[\w.]+\] (Running (?:upgrade|downgrade|stamp_revision) .*)$", text)


# ---------------------------------------------------------------------------
# tests


@pytest.mark.parametrize("seed", SEEDS)
def test_listing_commands(seed, diff_root):
    """heads / branches / history / show: same text after set-order normalisation."""
    case = get_case(seed, diff_root)
    rep = Report(case, "listing")
    db = case.scratch("listing") / "none.db"  # not created by these commands
    revs = [r.revision for r in case.graph.revs]
    mid = _mid_revision(case)
    commands = [
        ["heads"], ["heads", "--verbose"],
        ["branches"], ["branches", "--verbose"],
        ["history"], ["history", "--verbose"],
        ["history", "-r", f"{mid}:"], ["history", "-r", f"base:{mid}"],
        ["show", _pick(case, 2, revs)], ["show", mid],
    ]
    label = _pick(case, 3, sorted(case.labels))
    if label:
        commands.append(["show", f"{label}@head"])
    rng = _rng(case, 11)
    child = rng.choice(_with_ancestor(case) or revs)
    extras = [
        ["heads", "--resolve-dependencies"], ["heads", "--verbose", "--resolve-dependencies"],
        ["history", "-r", f":{mid}"], ["history", "-r", f"{mid}:heads"],
        ["history", "-r", f"{child}-1:{child}"], ["history", "-r", f"{mid}:{mid}+1"],
        ["history", "-r", "base:"], ["history", "--verbose", "-r", f"{mid}:"],
        ["show", "head"], ["show", "heads"], ["show", "base"], ["show", f"{child}-1"],
        ["show", rng.choice(revs)[: rng.randint(1, 4)]],
    ]
    if label:
        extras += [["history", "-r", f"{label}@base:{label}@head"], ["show", f"{label}@base"],
                   ["history", "-r", f"{label}@head:"]]
    for args in commands + _some_extras(case, 12, extras):
        ath, alem = run_athanor(case, db, args), run_alembic(case, db, args)
        if rep.compare_status(shlex.join(args), ath, alem):
            rep.compare_text(
                shlex.join(args), ath, alem,
                N.norm_listing(ath.res.stdout, case.labels),
                N.norm_listing(alem.res.stdout, case.labels),
            )
    rep.finish()


def _compare_offline(rep: Report, case: Case, args, db: Path):
    ath, alem = run_athanor(case, db, args), run_alembic(case, db, args)
    what = shlex.join(args)
    if not rep.compare_status(what, ath, alem):
        return
    bad = N.compare_offline(ath.res.stdout, alem.res.stdout, case.version_table,
                            N.offline_start(args))
    if bad:
        rep.compare_text(f"{what}: {bad[0]}", ath, alem, bad[1], bad[2])


@pytest.mark.parametrize("seed", SEEDS)
def test_offline_sql(seed, diff_root):
    """`upgrade heads --sql`, `upgrade MID:heads --sql`, `downgrade HEAD:MID --sql`:
    same steps, same version-table SQL."""
    case = get_case(seed, diff_root)
    rep = Report(case, "offline")
    db = case.scratch("offline") / "none.db"
    _compare_offline(rep, case, ["upgrade", "heads", "--sql"], db)
    mid = _mid_revision(case)
    _compare_offline(rep, case, ["upgrade", f"{mid}:heads", "--sql"], db)
    # offline downgrade needs a range: from a head above MID down to MID
    above = [h for h in case.graph.heads() if mid in case.graph.ancestors(h)]
    if above:
        _compare_offline(rep, case, ["downgrade", f"{_pick(case, 4, above)}:{mid}", "--sql"], db)
    rng = _rng(case, 13)
    head = rng.choice(case.graph.heads())
    labels = sorted(case.labels)
    extras = [
        ["upgrade", f"base:{mid}", "--sql"], ["upgrade", f"{mid}:{head}", "--sql"],
        ["downgrade", f"{head}:base", "--sql"], ["stamp", "heads", "--sql"],
        ["stamp", mid, "--sql"], ["stamp", f"{mid}:heads", "--sql"], ["stamp", f"{head}:{mid}", "--sql"],
        ["upgrade", "head", "--sql"], ["downgrade", "base", "--sql"], ["stamp", "--purge", "heads", "--sql"],
    ]
    if labels:
        lab = rng.choice(labels)
        extras += [["upgrade", f"{lab}@head", "--sql"], ["downgrade", f"heads:{lab}@base", "--sql"],
                   ["upgrade", f"{mid}:{lab}@head", "--sql"]]
    for args in _some_extras(case, 14, extras):
        _compare_offline(rep, case, args, db)
    rep.finish()


@pytest.mark.parametrize("seed", SEEDS)
def test_online_upgrade_heads(seed, diff_root):
    """`upgrade heads` on real files: same rows, tables, step order (log), `current`."""
    case = get_case(seed, diff_root)
    rep = Report(case, "online")
    d = case.scratch("online")
    db_a, db_b = d / "athanor.db", d / "alembic.db"
    ath, alem = run_athanor(case, db_a, ["upgrade", "heads"]), run_alembic(case, db_b, ["upgrade", "heads"])
    if rep.compare_status("upgrade heads", ath, alem, "empty"):
        _compare_state(rep, case, "upgrade heads", ath, alem, db_a, db_b, [], "empty")
        for args in (["current"], ["current", "--verbose"]):
            a, b = run_athanor(case, db_a, args), run_alembic(case, db_b, args)
            if rep.compare_status(shlex.join(args), a, b):
                rep.compare_text(shlex.join(args), a, b,
                                 N.norm_current(a.res.stdout, case.labels, dbpaths=[db_a]),
                                 N.norm_current(b.res.stdout, case.labels, dbpaths=[db_b]))
        args = ["history", "--indicate-current"]
        a, b = run_athanor(case, db_a, args), run_alembic(case, db_b, args)
        if rep.compare_status(shlex.join(args), a, b):
            rep.compare_text(shlex.join(args), a, b,
                             N.norm_listing(a.res.stdout, case.labels),
                             N.norm_listing(b.res.stdout, case.labels))
    rep.finish()


def _compare_state(rep, case, what, ath, alem, db_a, db_b, start_log, start):
    ra, ta, la = db_state(db_a, case.version_table)
    rb, tb, lb = db_state(db_b, case.version_table)
    if ra != rb:
        rep.compare_text(f"{what}: {case.version_table} rows", ath, alem,
                         "\n".join(sorted(ra)), "\n".join(sorted(rb)), start)
    if ta != tb:
        rep.compare_text(f"{what}: tables", ath, alem,
                         "\n".join(sorted(ta)), "\n".join(sorted(tb)), start)
    # the log table records the order the steps ran in
    na, nb = la[len(start_log):], lb[len(start_log):]
    if na != nb:
        rep.compare_text(f"{what}: steps run, in order (log table)", ath, alem,
                         "\n".join(na), "\n".join(nb), start)


def _target_ops(case: Case) -> list[tuple[str, list[str]]]:
    """(starting state, argv) pairs; states: empty, heads, mid."""
    revs = [r.revision for r in case.graph.revs]
    labels = sorted(case.labels)
    mid = _mid_revision(case)
    rng = _rng(case, 7)
    ops: list[tuple[str, list[str]]] = []
    for lab in rng.sample(labels, min(2, len(labels))):
        ops.append(("empty", ["upgrade", f"{lab}@head"]))
    if labels:
        lab = rng.choice(labels)
        ops += [("mid", ["upgrade", f"{lab}@head"]),
                ("mid", ["upgrade", f"{lab}@+1"]),
                ("heads", ["downgrade", f"{lab}@-1"]),
                ("heads", ["stamp", f"{lab}@base"])]
    some_rev = rng.choice(revs)
    prefix = rng.choice(revs)[: rng.randint(1, 4)]
    ops += [
        ("heads", ["downgrade", "-1"]),
        ("heads", ["downgrade", "-2"]),
        ("mid", ["downgrade", "-1"]),
        ("mid", ["upgrade", "+1"]),
        ("mid", ["upgrade", "+2"]),
        ("heads", ["stamp", "--purge", rng.choice(revs)]),
        ("empty", ["upgrade", "+1"]),
        ("mid", ["upgrade", "heads"]),
        ("heads", ["downgrade", rng.choice(revs)]),
        ("heads", ["downgrade", "base"]),
        ("mid", ["stamp", some_rev]),
        ("empty", ["stamp", "heads"]),
        ("empty", ["upgrade", "head"]),
        ("empty", ["upgrade", prefix]),
        ("mid", ["upgrade", f"{mid}+1"]),
    ]
    heads = case.graph.heads()
    child = rng.choice(_with_ancestor(case) or revs)
    extras = [
        ("heads", ["downgrade", "base+1"]), ("heads", ["downgrade", "base+2"]),
        ("mid", ["downgrade", "base+1"]), ("empty", ["upgrade", "base+1"]),
        ("heads", ["downgrade", "head-1"]), ("heads", ["downgrade", "heads-1"]),
        ("mid", ["upgrade", f"{child}-1"]), ("heads", ["downgrade", f"{child}-1"]),
        ("mid", ["downgrade", f"{child}+1"]), ("heads", ["downgrade", f"{rng.choice(heads)}-1"]),
        ("heads", ["downgrade", "-3"]), ("mid", ["downgrade", "-2"]), ("mid", ["upgrade", "+3"]),
        ("mid", ["downgrade", "+1"]), ("mid", ["upgrade", "-1"]), ("heads", ["upgrade", "+1"]),
        ("mid", ["downgrade", mid]), ("mid", ["downgrade", rng.choice(heads)]),
        ("heads", ["upgrade", rng.choice(revs)]), ("heads", ["upgrade", "heads"]),
        ("mid", ["stamp", rng.choice(revs), rng.choice(revs)]), ("heads", ["stamp", "base"]),
        ("mid", ["stamp", "--purge", "heads"]), ("mid", ["stamp", "heads"]),
        ("mid", ["upgrade", prefix]), ("mid", ["downgrade", prefix]),
        ("mid", ["upgrade", f"{mid}:heads"]), ("mid", ["upgrade", "heads", "--sql"]),
    ]
    for lab in labels[:1] + labels[-1:]:
        extras += [
            ("heads", ["downgrade", f"{lab}@base"]), ("mid", ["upgrade", f"{lab}@{rng.choice(revs)[:6]}"]),
            ("mid", ["stamp", f"{lab}@head"]), ("mid", ["downgrade", f"{lab}@-2"]),
            ("empty", ["upgrade", f"{lab}@+2"]), ("mid", ["downgrade", f"{lab}@base"]),
            ("heads", ["stamp", f"{lab}@base", rng.choice(heads)]),
        ]
    return ops + _some_extras(case, 15, extras)


@pytest.mark.parametrize("seed", SEEDS)
def test_targets(seed, diff_root):
    """Relative / labelled / prefix targets and stamp, from the same starting DB.

    Starting states are made once with Alembic (`upgrade heads`, `upgrade MID`)
    and copied for each tool, so both see the same rows in the same rowid
    order (`downgrade -N` with several heads starts from the first row)."""
    case = get_case(seed, diff_root)
    rep = Report(case, "targets")
    d = case.scratch("targets")
    mid = _mid_revision(case)
    starts: dict[str, Path | None] = {"empty": None}
    for name, target in (("heads", "heads"), ("mid", mid)):
        db = d / f"start_{name}.db"
        r = run_alembic(case, db, ["upgrade", target])
        if r.ok:
            starts[name] = db
            rep.keep_db(f"start_{name}", db)
        elif r.crashed:
            rep.crash_note(r)
        else:
            pytest.fail(f"seed {seed}: Alembic could not build starting state `upgrade {target}`:\n"
                        f"{r.res.stdout}{_tail(r.res.stderr)}")
    for i, (start, args) in enumerate(_target_ops(case)):
        if start not in starts:
            continue  # its starting state could not be built (Alembic crashed)
        src = starts[start]
        db_a, db_b = copy_db(src, d / f"{i}_athanor.db"), copy_db(src, d / f"{i}_alembic.db")
        start_log = db_state(db_b, case.version_table)[2]
        start_desc = f"{start} = " + (
            "no database" if src is None else
            f"rows {sorted(db_state(src, case.version_table)[0])} (copy of {src.name})")
        ath, alem = run_athanor(case, db_a, args), run_alembic(case, db_b, args)
        what = shlex.join(args)
        if rep.compare_status(what, ath, alem, start_desc):
            _compare_state(rep, case, what, ath, alem, db_a, db_b, start_log, start_desc)
            # --sql too: both log each step beside the SQL
            rep.compare_text(f"{what}: 'Running' log lines", ath, alem,
                             "\n".join(_running_lines(ath.res.stderr)),
                             "\n".join(_running_lines(alem.res.stderr)), start_desc)
    # commands that read the current revisions, on the mid database (not changed by them)
    if "mid" in starts:
        extras = [["current"], ["current", "--verbose"], ["show", "current"], ["history", "--indicate-current"],
                  ["history", "-r", "current:"], ["history", "-r", ":current"],
                  ["history", "-r", "current:heads", "--indicate-current"],
                  ["history", "-r", "base:current", "--verbose"]]
        for args in _some_extras(case, 16, extras):
            db = copy_db(starts["mid"], d / "listing_mid.db")
            ath, alem = run_athanor(case, db, args), run_alembic(case, db, args)
            if rep.compare_status(shlex.join(args), ath, alem, "mid"):
                rep.compare_text(shlex.join(args), ath, alem,
                                 N.norm_current(ath.res.stdout, case.labels, dbpaths=[db])
                                 if args[0] == "current" else
                                 N.norm_listing(ath.res.stdout, case.labels, dbpaths=[db]),
                                 N.norm_current(alem.res.stdout, case.labels, dbpaths=[db])
                                 if args[0] == "current" else
                                 N.norm_listing(alem.res.stdout, case.labels, dbpaths=[db]), "mid")
    rep.finish()


@pytest.mark.parametrize("seed", SEEDS)
def test_mixed_tools_on_one_database(seed, diff_root):
    """Alembic upgrades part-way, athanor continues to heads (and the reverse);
    both tools then agree on `current`, and the result equals a plain upgrade."""
    case = get_case(seed, diff_root)
    rep = Report(case, "mixed")
    d = case.scratch("mixed")
    mid = _mid_revision(case)
    ref = d / "reference.db"
    r = run_alembic(case, ref, ["upgrade", "heads"])
    if not r.ok:
        if r.crashed:
            rep.crash_note(r)
            pytest.skip(f"Alembic crashed on upgrade heads for seed {seed}")
        pytest.fail(f"Alembic: upgrade heads failed for seed {seed}:\n{r.res.stdout}{_tail(r.res.stderr)}")
    ref_rows, ref_tables, _ = db_state(ref, case.version_table)

    for first, second, name in ((run_alembic, run_athanor, "alembic_then_athanor"),
                                (run_athanor, run_alembic, "athanor_then_alembic")):
        db = d / f"{name}.db"
        r1 = first(case, db, ["upgrade", mid])
        if not r1.ok and r1.tool == "athanor":
            # athanor fails cleanly (VERSION_TABLE) where Alembic's version-table
            # bookkeeping crashes (KeyError); Alembic on the same command from the
            # same empty database says whether there is an oracle
            r1_alem = run_alembic(case, copy_db(None, d / f"{name}_alembic_check.db"), ["upgrade", mid])
            if r1_alem.crashed:
                rep.crash_note(r1_alem)
                continue
        if not r1.ok:
            if r1.crashed:
                rep.crash_note(r1)
                continue
            rep.problems.append(f"--- seed {seed}: {name}: `upgrade {mid}` failed in {r1.tool} "
                                f"(exit {r1.res.status}):\n{_indent(r1.res.stdout + r1.res.stderr)}")
            continue
        mid_copy = d / f"{name}_after_{r1.tool}_upgrade_mid.db"
        shutil.copyfile(db, mid_copy)
        rep.keep_db(mid_copy.stem, mid_copy)
        r2 = second(case, db, ["upgrade", "heads"])
        if not r2.ok and r2.tool == "athanor":
            # as above, from the same database that Alembic upgraded to MID
            r2_alem = run_alembic(case, copy_db(mid_copy, d / f"{name}_alembic_check.db"), ["upgrade", "heads"])
            if r2_alem.crashed:
                rep.crash_note(r2_alem)
                continue
        if not r2.ok:
            if r2.crashed:
                rep.crash_note(r2)
                continue
            rep.problems.append(f"--- seed {seed}: {name}: `upgrade heads` failed in {r2.tool} "
                                f"(exit {r2.res.status}) on a database that {r1.tool} upgraded to {mid}:\n"
                                f"{_indent(r2.res.stdout + r2.res.stderr)}")
            continue
        rows, tables, _ = db_state(db, case.version_table)
        if (rows, tables) != (ref_rows, ref_tables):
            rep.problems.append(f"--- seed {seed}: {name}: state after continuing differs from a plain "
                                f"Alembic `upgrade heads`:\n    rows {sorted(rows)} vs {sorted(ref_rows)}\n"
                                f"    tables only in one: {sorted(tables ^ ref_tables)}")
        ca, cb = run_athanor(case, db, ["current"]), run_alembic(case, db, ["current"])
        if rep.compare_status(f"{name}: current", ca, cb):
            rep.compare_text(f"{name}: current", ca, cb,
                             N.norm_current(ca.res.stdout, case.labels),
                             N.norm_current(cb.res.stdout, case.labels))
    rep.finish()


# ---------------------------------------------------------------------------
# the small hand-written fixture against the goldens recorded from Alembic


def test_small_fixture_matches_goldens(tmp_path):
    """athanor on fixtures/small prints what Alembic printed (golden/*.txt),
    character for character except: `Path:` lines (file stem only), the
    database path, and the set-ordered items listed in normalize.py."""
    import json

    meta = json.loads((HERE / "golden" / "COMMANDS.json").read_text())
    fixture = HERE / "fixtures" / "small"
    labels = {lab for r in twin.load_sql_dir(fixture) for lab in r.branch_labels}
    db = tmp_path / "small.db"
    case = Case(-1, None, tmp_path, fixture, Path(meta["alembic_twin_dir"]), "alembic_version",
                False, {lab: "" for lab in labels})
    problems = []
    for entry in meta["commands"]:
        argv = entry["argv"]
        golden = (HERE / "golden" / entry["file"]).read_text(encoding="utf-8")
        r = run_athanor(case, db, argv)
        if "--sql" in argv:
            # '-- Running' lines, version-table SQL and migration SQL per step,
            # whitespace-normalised (comment lines inside migration SQL are
            # dropped: how the twin renders user SQL is not Alembic behaviour)
            bad = N.compare_offline(r.res.stdout, golden, "alembic_version",
                                    N.offline_start(argv), user_sql=True)
            a, b = (bad[1], bad[2]) if bad else ("", "")
        else:
            norm = N.norm_current if argv[0] == "current" else N.norm_listing
            a = norm(r.res.stdout, labels, dbpaths=[db])
            b = norm(golden, labels, dbpaths=[meta["database"]])
        if r.res.status != 0 or a != b:
            diff = "\n".join(difflib.unified_diff(b.splitlines(), a.splitlines(),
                                                  "golden (alembic)", "athanor", lineterm=""))
            problems.append(f"--- {shlex.join(argv)} (db state: {entry['db_state']}), exit {r.res.status}\n"
                            f"  athanor stderr: {r.res.stderr.strip()}\n{_indent(diff or a)}")
    if problems:
        pytest.fail(f"athanor differs from golden/ on fixtures/small (fixture at {fixture}):\n\n"
                    + "\n\n".join(problems), pytrace=False)
