#!/usr/bin/env python3
"""Build and run an Alembic "twin" of an athanor migrations directory.

athanor keeps one ``<rev>_<slug>.sql`` file per revision.  ``build`` turns such a
directory into an ordinary Alembic project (alembic.ini, env.py, script.py.mako,
versions/<rev>_<slug>.py) whose revision graph, messages and SQL are the same, so
that real Alembic can be used as the oracle in differential tests.

CLI::

    python3 twin.py build SQLDIR OUTDIR [--version-table NAME]
    python3 twin.py run OUTDIR DBPATH -- <alembic args...>

Library::

    import twin
    twin.build(sqldir, outdir, version_table="alembic_version")
    res = twin.run_inprocess(outdir, dbpath, ["upgrade", "heads"])   # fast
    res = twin.run_subprocess(outdir, dbpath, ["upgrade", "heads"])  # faithful
    res.status, res.stdout, res.stderr
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import warnings
from pathlib import Path

HEADER_KEYS = {
    "revision id": "revision",
    "revises": "revises",
    "branch labels": "branch_labels",
    "depends on": "depends_on",
    "create date": "create_date",
    "message": "message",
}
_HEADER_RE = re.compile(r"^--\s*([A-Za-z][A-Za-z ]*?)\s*:(.*)$")
_SECTION_RE = re.compile(r"^--\s*migrate:(upgrade|downgrade)\s*$")


class ParseError(Exception):
    pass


@dataclasses.dataclass
class Revision:
    path: Path
    revision: str
    revises: list[str]
    branch_labels: list[str]
    depends_on: list[str]
    create_date: str
    message: str
    upgrade: list[str]
    downgrade: list[str] | None  # None = irreversible (no downgrade section)

    @property
    def stem(self) -> str:
        return self.path.stem


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def split_sql(text: str) -> list[str]:
    """Split a section into statements with sqlite3.complete_statement.

    Accumulates char by char and tests at each ';' (so two statements on one
    line are split too; a ';' inside a string, comment or trigger body is not
    an end).  Chunks holding only whitespace/comments are dropped; a trailing
    statement without ';' is kept.  The terminating ';' is removed because
    Alembic appends its own terminator in --sql mode."""
    out: list[str] = []
    buf: list[str] = []
    for c in text:
        buf.append(c)
        if c == ";":
            chunk = "".join(buf)
            if sqlite3.complete_statement(chunk):
                _emit(chunk[:-1], out)
                buf = []
    _emit("".join(buf), out)
    return out


def _strip_comments(sql: str) -> str:
    """SQL text with comments removed (string/identifier quotes respected)."""
    res, i, n = [], 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"`[":
            close = "]" if c == "[" else c
            j = i + 1
            while j < n:
                if sql[j] == close:
                    if close != "]" and j + 1 < n and sql[j + 1] == close:
                        j += 2
                        continue
                    break
                j += 1
            res.append(sql[i : j + 1])
            i = j + 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            i = n if j < 0 else j + 2
        else:
            res.append(c)
            i += 1
    return "".join(res)


def _emit(chunk: str, out: list[str]) -> None:
    if _strip_comments(chunk).strip():
        out.append(chunk.strip())


def parse_sql_file(path: Path) -> Revision:
    text = path.read_text(encoding="utf-8")
    headers: dict[str, str] = {}
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for lineno, line in enumerate(text.splitlines(keepends=True), 1):
        m = _SECTION_RE.match(line.strip())
        if m:
            if m.group(1) in sections:
                raise ParseError(f"{path}:{lineno}: duplicate section {m.group(1)}")
            current = m.group(1)
            sections[current] = []
            continue
        if current is None:
            h = _HEADER_RE.match(line.strip())
            if h and h.group(1).strip().lower() in HEADER_KEYS:
                headers[HEADER_KEYS[h.group(1).strip().lower()]] = h.group(2).strip()
            continue
        sections[current].append(line)
    if "revision" not in headers or not headers["revision"]:
        raise ParseError(f"{path}: missing '-- Revision ID:' header")
    if "upgrade" not in sections:
        raise ParseError(f"{path}: missing '-- migrate:upgrade' section")
    down = sections.get("downgrade")
    return Revision(
        path=path,
        revision=headers["revision"],
        revises=_csv(headers.get("revises", "")),
        branch_labels=_csv(headers.get("branch_labels", "")),
        depends_on=_csv(headers.get("depends_on", "")),
        create_date=headers.get("create_date", ""),
        message=headers.get("message", ""),
        upgrade=split_sql("".join(sections["upgrade"])),
        downgrade=None if down is None else split_sql("".join(down)),
    )


def load_sql_dir(sqldir: Path) -> list[Revision]:
    # sorted file-name order == Alembic's load order (sorted(os.listdir))
    return [parse_sql_file(p) for p in sorted(Path(sqldir).glob("*.sql"), key=lambda p: p.name)]


# --------------------------------------------------------------------------
# rendering

def _scalar_or_tuple(items: list[str]):
    # the shapes Alembic's own template writes: None, 'x', or ('x', 'y')
    if not items:
        return None
    if len(items) == 1:
        return items[0]
    return tuple(items)


def _docstring_literal(text: str) -> str:
    # a non-raw """ literal whose value is exactly `text`
    esc = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if esc.endswith('"'):
        esc = esc[:-1] + '\\"'
    return '"""' + esc + '"""'


def _escape_binds(sql: str) -> str:
    # sa.text() treats ':name' as a bind parameter; '\:' is its escape.
    return re.sub(r"(?<![:\w\\]):(?=\w)", r"\\:", sql)


def _body(stmts: list[str] | None, irreversible_rev: str | None = None) -> str:
    if stmts is None:
        return (
            "    raise NotImplementedError(\n"
            f"        {('revision %s is irreversible (no downgrade section)' % irreversible_rev)!r}\n"
            "    )\n"
        )
    if not stmts:
        return "    pass\n"
    return "".join(f"    op.execute(sa.text({_escape_binds(s)!r}))\n" for s in stmts)


def render_script(rev: Revision) -> str:
    # Same docstring layout as Alembic's generic script.py.mako:
    #   ${message}\n\nRevision ID: ..\nRevises: ${down_revision | comma,n}\nCreate Date: ..\n\n
    # (Revises is empty -- with a trailing space -- for a base.)
    doc = (
        f"{rev.message}\n\n"
        f"Revision ID: {rev.revision}\n"
        f"Revises: {', '.join(rev.revises)}\n"
        f"Create Date: {rev.create_date}\n\n"
    )
    return (
        f"{_docstring_literal(doc)}\n"
        "from typing import Sequence, Union\n\n"
        "from alembic import op\n"
        "import sqlalchemy as sa\n\n\n"
        "# revision identifiers, used by Alembic.\n"
        f"revision: str = {rev.revision!r}\n"
        f"down_revision: Union[str, Sequence[str], None] = {_scalar_or_tuple(rev.revises)!r}\n"
        # `alembic revision --branch-label` writes a tuple even for one label
        f"branch_labels: Union[str, Sequence[str], None] = {tuple(rev.branch_labels) or None!r}\n"
        f"depends_on: Union[str, Sequence[str], None] = {_scalar_or_tuple(rev.depends_on)!r}\n\n\n"
        "def upgrade() -> None:\n"
        '    """Upgrade schema."""\n'
        f"{_body(rev.upgrade)}\n\n"
        "def downgrade() -> None:\n"
        '    """Downgrade schema."""\n'
        f"{_body(rev.downgrade, rev.revision)}"
    )


ALEMBIC_INI = """\
# Generated by tests/alembic/twin.py from an athanor migrations directory.
[alembic]
script_location = {script_location}
path_separator = os
# read by env.py (athanor's --version-table); `-x version_table=NAME` overrides
version_table = {version_table}
# env.py uses `-x db=PATH` when given, this otherwise
sqlalchemy.url = sqlite:///{default_db}

[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console
qualname =

[logger_sqlalchemy]
level = WARNING
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
datefmt = %H:%M:%S
"""

ENV_PY = '''\
"""env.py of an athanor twin (generated by tests/alembic/twin.py)."""
from logging.config import fileConfig

from sqlalchemy import create_engine, pool

from alembic import context

config = context.config
# in-process runs set configure_logger=False and capture logging themselves
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

x = context.get_x_argument(as_dictionary=True)
url = "sqlite:///" + x["db"] if x.get("db") else config.get_main_option("sqlalchemy.url")
version_table = x.get("version_table") or config.get_main_option("version_table") or "alembic_version"


def run_migrations_offline() -> None:
    context.configure(
        url=url,
        target_metadata=None,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        version_table=version_table,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = create_engine(url, poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=None,
            version_table=version_table,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
'''


def _template_mako() -> str:
    import alembic

    p = Path(alembic.__file__).parent / "templates" / "generic" / "script.py.mako"
    return p.read_text(encoding="utf-8")


def build(sqldir, outdir, version_table: str = "alembic_version") -> list[Revision]:
    """Write the Alembic twin of `sqldir` into `outdir` (replacing versions/)."""
    sqldir, outdir = Path(sqldir), Path(outdir).resolve()
    revs = load_sql_dir(sqldir)
    outdir.mkdir(parents=True, exist_ok=True)
    versions = outdir / "versions"
    if versions.exists():
        shutil.rmtree(versions)
    versions.mkdir()
    (outdir / "alembic.ini").write_text(
        ALEMBIC_INI.format(
            script_location=str(outdir).replace("%", "%%"),
            version_table=version_table,
            default_db=str(outdir / "twin.db").replace("%", "%%"),
        ),
        encoding="utf-8",
    )
    (outdir / "env.py").write_text(ENV_PY, encoding="utf-8")
    (outdir / "script.py.mako").write_text(_template_mako(), encoding="utf-8")
    for rev in revs:
        # same stem as the .sql file, so sorted load order is identical
        (versions / f"{rev.stem}.py").write_text(render_script(rev), encoding="utf-8")
    return revs


# --------------------------------------------------------------------------
# running

@dataclasses.dataclass
class Result:
    status: int
    stdout: str
    stderr: str


def alembic_argv(outdir, dbpath, args, version_table: str | None = None) -> list[str]:
    argv = ["-c", str(Path(outdir) / "alembic.ini")]
    if dbpath is not None:
        argv += ["-x", f"db={dbpath}"]
    if version_table:
        argv += ["-x", f"version_table={version_table}"]
    return argv + list(args)


def run_subprocess(outdir, dbpath, args, version_table=None, env=None) -> Result:
    """Run `python3 -m alembic` (the real CLI) in a child process."""
    p = subprocess.run(
        [sys.executable, "-m", "alembic", *alembic_argv(outdir, dbpath, args, version_table)],
        stdin=subprocess.DEVNULL,  # no tty: Alembic would wrap messages to the tty width
        capture_output=True,
        text=True,
        env=env,
    )
    return Result(p.returncode, p.stdout, p.stderr)


class _Utf8StringIO(io.StringIO):
    # Alembic's write_outstream encodes with stream.encoding, "ascii" when it
    # is None (a plain StringIO), which would turn non-ASCII messages into '?'
    encoding = "utf-8"


def run_inprocess(outdir, dbpath, args, version_table=None) -> Result:
    """Run Alembic's CommandLine in this process, capturing stdout/stderr.

    Mirrors alembic.config.CommandLine.main (argparse, Config, run_cmd) but
    hands the Config our buffers: Config's `stdout=sys.stdout` default is
    bound at import time, so redirect_stdout alone would not catch
    print_stdout.  An Alembic CommandError ends in sys.exit(-1) → status 255,
    as in a subprocess; any other exception → status 1 with its traceback."""
    import logging
    import traceback

    from alembic import config as alembic_config

    out, err = _Utf8StringIO(), _Utf8StringIO()
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("%(levelname)-5.5s [%(name)s] %(message)s"))
    alog = logging.getLogger("alembic")
    old_level, old_prop = alog.level, alog.propagate
    alog.addHandler(handler)
    alog.setLevel(logging.INFO)
    alog.propagate = False
    status = 0
    try:
        # warnings go to the captured stderr, as the CLI would print them
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                warnings.catch_warnings():
            warnings.simplefilter("default")
            warnings.showwarning = lambda m, c, f, lno, file=None, line=None: err.write(
                warnings.formatwarning(m, c, f, lno, line))
            cl = alembic_config.CommandLine(prog="alembic")
            try:
                options = cl.parser.parse_args(alembic_argv(outdir, dbpath, args, version_table))
                if not hasattr(options, "cmd"):
                    cl.parser.error("too few arguments")
                toml, ini = cl._inis_from_config(options)
                cfg = alembic_config.Config(
                    file_=ini,
                    toml_file=toml,
                    ini_section=options.name,
                    cmd_opts=options,
                    stdout=out,
                    output_buffer=out,
                )
                cfg.attributes["configure_logger"] = False
                cl.run_cmd(cfg, options)
            except SystemExit as e:
                code = e.code
                status = code if isinstance(code, int) else (0 if code is None else 1)
                status &= 0xFF
            except KeyboardInterrupt:
                raise
            except BaseException:
                traceback.print_exc(file=err)
                status = 1
    finally:
        alog.removeHandler(handler)
        alog.setLevel(old_level)
        alog.propagate = old_prop
    return Result(status, out.getvalue(), err.getvalue())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="twin.py", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="convert an athanor SQL dir into an Alembic project")
    b.add_argument("sqldir")
    b.add_argument("outdir")
    b.add_argument("--version-table", default="alembic_version")
    r = sub.add_parser("run", help="run real Alembic on OUTDIR against DBPATH")
    r.add_argument("outdir")
    r.add_argument("dbpath")
    r.add_argument("alembic_args", nargs=argparse.REMAINDER)
    ns = ap.parse_args(argv)
    if ns.cmd == "build":
        try:
            revs = build(ns.sqldir, ns.outdir, ns.version_table)
        except ParseError as e:
            print(f"twin.py: {e}", file=sys.stderr)
            return 2
        print(f"wrote {len(revs)} revisions to {Path(ns.outdir) / 'versions'}", file=sys.stderr)
        return 0
    args = ns.alembic_args
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        ap.error("run: give the alembic arguments after --")
    sys.stdout.flush()
    # stdout/stderr inherited (streamed); stdin not a tty, as in run_subprocess
    return subprocess.call(
        [sys.executable, "-m", "alembic",
         *alembic_argv(ns.outdir, os.path.abspath(ns.dbpath), args)],
        stdin=subprocess.DEVNULL,
    )


if __name__ == "__main__":
    sys.exit(main())
