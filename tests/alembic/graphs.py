#!/usr/bin/env python3
"""Deterministic random revision graphs, written as athanor `.sql` migration dirs.

    python3 graphs.py SEED OUTDIR [--size N]        # write one graph
    python3 graphs.py SEED --describe               # print it

`generate(seed)` returns a `Graph` (same seed → same graph, byte for byte).  A
graph has linear chains, branch points, merges (merges of merges too), 1-3
bases, branch labels on branch roots and `depends_on` across branches.  Each
revision's upgrade creates `t_<rev>` and appends '<rev>' to a `log` table (the
log is created IF NOT EXISTS by every revision, since a dependency on another
base can run first); its downgrade drops `t_<rev>` and logs '-<rev>'.  So the
log table records the order steps ran in, and the set of `t_*` tables records
which revisions are applied.

Revision ids are 12 random hex chars; about a quarter copy a 1-6 char prefix of
an existing id so that prefix resolution (unique and ambiguous) is exercised.

Deliberate restriction: a revision gets at most ONE `depends_on`.  With two or
more (not implied by its ancestors) Alembic keeps them in a set and its step
and history order depend on Python's hash seed (ALEMBIC_NOTES.md), so it could
not serve as an oracle.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import random
import re
import sys
from pathlib import Path

LABEL_WORDS = [
    "billing", "shop", "shopping", "auth", "audit", "search", "media",
    "reports", "mail", "feature_x", "geo", "sync",
]
VERBS = ["add", "create", "alter", "backfill", "index", "drop unused", "rename", "extend"]
NOUNS = ["account table", "invoice lines", "user email", "cart", "audit trail",
         "search index", "tags", "settings", "media blobs", "sessions", "orders"]


@dataclasses.dataclass
class Rev:
    revision: str
    revises: list[str]
    branch_labels: list[str]
    depends_on: list[str]
    message: str
    create_date: str
    irreversible: bool = False

    @property
    def slug(self) -> str:
        # Alembic's slug rule (ScriptDirectory._rev_path), truncated at 40
        slug = "_".join(re.findall(r"\w+", self.message)).lower()
        if len(slug) > 40:
            slug = slug[:40].rsplit("_", 1)[0] + "_"
        return slug

    @property
    def filename(self) -> str:
        return f"{self.revision}_{self.slug}.sql"

    def render(self) -> str:
        lines = [f"-- Revision ID: {self.revision}", f"-- Revises: {', '.join(self.revises)}"]
        if self.branch_labels:
            lines.append(f"-- Branch Labels: {', '.join(self.branch_labels)}")
        if self.depends_on:
            lines.append(f"-- Depends On: {', '.join(self.depends_on)}")
        lines += [
            f"-- Create Date: {self.create_date}",
            f"-- Message: {self.message}",
            "",
            "-- migrate:upgrade",
            "CREATE TABLE IF NOT EXISTS log (rev TEXT NOT NULL);",
            f"CREATE TABLE t_{self.revision} (id INTEGER PRIMARY KEY);",
            f"INSERT INTO log(rev) VALUES ('{self.revision}');",
            "",
        ]
        if not self.irreversible:
            lines += [
                "-- migrate:downgrade",
                f"DROP TABLE t_{self.revision};",
                f"INSERT INTO log(rev) VALUES ('-{self.revision}');",
                "",
            ]
        return "\n".join(lines)


@dataclasses.dataclass
class Graph:
    seed: int
    revs: list[Rev]  # in creation (topological) order

    def by_id(self) -> dict[str, Rev]:
        return {r.revision: r for r in self.revs}

    def children(self) -> dict[str, list[str]]:
        ch: dict[str, list[str]] = {r.revision: [] for r in self.revs}
        for r in self.revs:
            for p in r.revises:
                ch[p].append(r.revision)
        return ch

    def heads(self) -> list[str]:
        ch = self.children()
        return [r.revision for r in self.revs if not ch[r.revision]]

    def ancestors(self, rev: str, deps: bool = True) -> set[str]:
        """Ancestors of `rev` (exclusive), following depends_on when deps."""
        m = self.by_id()
        seen: set[str] = set()
        todo = list(m[rev].revises) + (list(m[rev].depends_on) if deps else [])
        while todo:
            x = todo.pop()
            if x not in seen:
                seen.add(x)
                todo += m[x].revises + (m[x].depends_on if deps else [])
        return seen

    def labels(self) -> dict[str, str]:
        return {lab: r.revision for r in self.revs for lab in r.branch_labels}

    def write(self, outdir) -> Path:
        out = Path(outdir)
        out.mkdir(parents=True, exist_ok=True)
        for r in self.revs:
            (out / r.filename).write_text(r.render(), encoding="utf-8")
        return out

    def describe(self) -> str:
        lines = [f"# graph seed={self.seed}: {len(self.revs)} revisions, heads={self.heads()}"]
        for r in self.revs:
            extra = ""
            if r.branch_labels:
                extra += f" labels={r.branch_labels}"
            if r.depends_on:
                extra += f" depends_on={r.depends_on}"
            if r.irreversible:
                extra += " IRREVERSIBLE"
            lines.append(f"{r.revision} <- {r.revises or 'base'}{extra}  ({r.message})")
        return "\n".join(lines)


def generate(seed: int, size: int | None = None, irreversible_p: float = 0.0) -> Graph:
    rng = random.Random(seed)
    n = size if size is not None else rng.randint(6, 16)
    max_bases = rng.choice([1, 1, 2, 2, 3])
    revs: list[Rev] = []
    ids: list[str] = []
    labels_left = LABEL_WORDS[:]
    rng.shuffle(labels_left)
    t0 = datetime.datetime(2026, 11, 27, 10, 0, 0)

    def new_id() -> str:
        while True:
            if ids and rng.random() < 0.25:
                prefix = rng.choice(ids)[: rng.randint(1, 6)]
            else:
                prefix = ""
            rid = prefix + "".join(rng.choice("0123456789abcdef") for _ in range(12 - len(prefix)))
            if rid not in ids:
                return rid

    def heads() -> list[str]:
        has_child = {p for r in revs for p in r.revises}
        return [r for r in ids if r not in has_child]

    def anc(rev: str) -> set[str]:
        return Graph(seed, revs).ancestors(rev) | {rev}

    nbases = 0
    for i in range(n):
        hs = heads()
        roll = rng.random()
        revises: list[str]
        is_root = False  # root of a new branch/base → may get a label
        if not revs or (nbases < max_bases and roll < 0.12):
            revises, is_root = [], True
            nbases += 1
        elif len(hs) >= 2 and roll < 0.35:
            k = 3 if len(hs) >= 3 and rng.random() < 0.2 else 2
            revises = rng.sample(hs, k)
            # a merge parent must not be an ancestor of another parent
            revises = [p for p in revises if not any(p in anc(q) - {q} for q in revises if q != p)]
            if len(revises) < 2:
                revises = [rng.choice(hs)]
        elif roll < 0.55:
            # branch point: a new child of a revision that already has one
            non_heads = [r for r in ids if r not in hs]
            parent = rng.choice(non_heads) if non_heads and rng.random() < 0.7 else rng.choice(ids)
            revises, is_root = [parent], parent not in hs
        else:
            revises = [rng.choice(hs)]

        rid = new_id()
        branch_labels: list[str] = []
        if is_root and labels_left and rng.random() < 0.6:
            branch_labels = [labels_left.pop()]
            if labels_left and rng.random() < 0.1:
                branch_labels.append(labels_left.pop())

        depends_on: list[str] = []
        if revs and rng.random() < 0.2:
            ancestors = set().union(*(anc(p) for p in revises)) if revises else set()
            candidates = [r for r in ids if r not in ancestors]
            if candidates:
                depends_on = [rng.choice(candidates)]

        verb, noun = rng.choice(VERBS), rng.choice(NOUNS)
        message = f"{verb} {noun} {i}" if len(revises) < 2 else f"merge {len(revises)} heads {i}"
        create_date = (t0 + datetime.timedelta(minutes=7 * i, seconds=rng.randint(0, 59))).strftime(
            "%Y-%m-%d %H:%M:%S.%f"
        )
        revs.append(
            Rev(rid, revises, branch_labels, depends_on, message, create_date,
                irreversible=rng.random() < irreversible_p)
        )
        ids.append(rid)
    return Graph(seed, revs)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("seed", type=int)
    ap.add_argument("outdir", nargs="?")
    ap.add_argument("--size", type=int)
    ap.add_argument("--irreversible-p", type=float, default=0.0)
    ap.add_argument("--describe", action="store_true")
    ns = ap.parse_args(argv)
    g = generate(ns.seed, ns.size, ns.irreversible_p)
    if ns.describe or not ns.outdir:
        print(g.describe())
    if ns.outdir:
        g.write(ns.outdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
