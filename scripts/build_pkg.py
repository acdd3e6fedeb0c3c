#!/usr/bin/env python3
"""Builds the npm package into pkg/ as wasm-pack.toml says: cargo (wasm32) ->
wasm-bindgen -> wasm-opt -> the pkg-template files; fails over the size budget."""
import json
import re
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*cmd, **kw):
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, **kw)


def npm_tool(package: str, exe_name: str) -> Path:
    """A build tool from npm (pinned), installed once under target/npm-tools."""
    tools = ROOT / "target" / "npm-tools"
    exe = tools / "node_modules" / ".bin" / exe_name
    if not exe.exists():
        tools.mkdir(parents=True, exist_ok=True)
        run("npm", "install", "--prefix", tools, "--no-audit", "--no-fund", "--silent", "--save-exact", package)
    return exe


def gzip_size(path: Path) -> int:
    """Bytes after `gzip -9` (the CLI: zlib builds differ by a few KiB on the wasm, and
    the benchmarks measure with the same command)."""
    return len(subprocess.run(["gzip", "-9", "-c", path], check=True, capture_output=True).stdout)


def sqlite_flags() -> str:
    """The SQLite flags every wasm is built with (.cargo/config.toml [env])."""
    value = tomllib.loads((ROOT / ".cargo" / "config.toml").read_text())["env"]["SQLITE_WASM_RS_FLAGS"]
    return value["value"] if isinstance(value, dict) else value


def build_artifact(art: dict, cfg: dict, out: Path, env: dict) -> None:
    """One wasm: cargo with the artifact's features -> wasm-bindgen (its own out-name) -> wasm-opt."""
    name, profile = art["out-name"], art.get("profile", cfg["build"]["profile"])
    features = ["--no-default-features"] + (["--features", ",".join(art["features"])] if art["features"] else [])
    if "sqlite-flags" in art:
        # Its own SQLite flags: an environment variable wins over config.toml's [env].
        env = dict(env, SQLITE_WASM_RS_FLAGS=f"{sqlite_flags()} {art['sqlite-flags']}")
    run("cargo", "build", "--lib", "--target", "wasm32-unknown-unknown", "--profile", profile, *features, cwd=ROOT, env=env)
    built = ROOT / "target" / "wasm32-unknown-unknown" / profile / "athanor.wasm"
    # An artifact served by another's glue is bound under that one's name (the wasm
    # imports its glue by name), aside, and only its .wasm is kept.
    bound, bind_dir = (art["glue"], out / f".{name}") if "glue" in art else (name, out)
    run("wasm-bindgen", built, "--out-dir", bind_dir, "--out-name", bound, "--target", cfg["build"]["target"], "--typescript")
    # A C symbol the link could not find becomes an import from "env", which no runtime
    # provides: the module would build and then fail to instantiate everywhere. (An
    # SQLITE_OMIT_* flag that removes an API a Rust crate calls does this.)
    missing = re.findall(r'import \* as \w+ from "env"', (bind_dir / f"{bound}.js").read_text())
    if missing:
        raise SystemExit(f"error: {name}: the wasm imports {len(missing)} undefined symbol(s) from \"env\" (see {built})")
    if "glue" in art:
        # The same Rust gives the same glue, but for its comments (closure indices).
        code = lambda f: [l for l in f.read_text().splitlines() if not l.lstrip().startswith("//")]
        if code(bind_dir / f"{bound}.js") != code(out / f"{bound}.js"):
            raise SystemExit(f"error: {name}: its wasm-bindgen glue differs from {bound}.js, which is to serve it")
        (bind_dir / f"{bound}_bg.wasm").replace(out / f"{name}_bg.wasm")
        shutil.rmtree(bind_dir)
    # wasm-bindgen declares `[Symbol.dispose]()` on each class, which only TypeScript's
    # esnext lib knows: without skipLibCheck, a project on the default libs fails with
    # TS2550. The method stays at run time; the package's API never exposes these classes.
    dts = out / f"{name}.d.ts"
    if dts.exists():
        dts.write_text(re.sub(r"\n *\[Symbol\.dispose\]\(\): void;", "", dts.read_text()))
    wasm = out / f"{name}_bg.wasm"
    passes = cfg["build"].get("wasm-opt", [])
    if passes:
        # An artifact's own features for wasm-opt (SIMD only where its code has it:
        # enabled, wasm-opt may turn 16-byte copies into v128 loads in any wasm).
        passes = passes + art.get("wasm-opt-features", [])
        run(npm_tool("binaryen@132.0.0", "wasm-opt"), wasm, "-o", wasm, *passes)


def main() -> int:
    cfg = tomllib.loads((ROOT / "wasm-pack.toml").read_text())
    out = ROOT / cfg["package"]["out-dir"]
    template = ROOT / cfg["package"]["template"]
    artifacts = cfg["artifact"]
    # -mbulk-memory: SQLite's memcpy/memset become memory.copy/memory.fill instead of
    # calls into compiler_builtins' loops (9% of an autogenerate through the npm CLI,
    # and 1.5 KiB gzip smaller); wasm-opt already assumes bulk memory (wasm-pack.toml).
    env = dict(os.environ, CC_wasm32_unknown_unknown="clang-19", AR_wasm32_unknown_unknown="llvm-ar-19", CFLAGS_wasm32_unknown_unknown="-mbulk-memory")

    # --js-only: the package's JS again over the wasms already in pkg/ (a JS change
    # needs no wasm build).
    if "--js-only" in sys.argv[1:]:
        for art in artifacts:
            if not (out / f"{art['out-name']}_bg.wasm").exists():
                raise SystemExit(f"error: --js-only needs {art['out-name']}_bg.wasm in {out} (run a full build first)")
    else:
        if out.exists():
            shutil.rmtree(out)
        for art in artifacts:
            build_artifact(art, cfg, out, env)

    for f in template.iterdir():
        shutil.copy(f, out / f.name)
    # The package's version where its JS asks for it (heads.js: remembered heads are
    # only trusted from the version that parsed them).
    version = json.loads((template / "package.json").read_text())["version"]
    # The query of the default version table's rows, from the wasm itself (heads.js: the
    # check at head then makes no call into the wasm).
    rows_sql = subprocess.run(["node", "--input-type=module", "-e",
        'import * as g from "./athanor_adapter.js"; import { readFileSync } from "node:fs";'
        'g.initSync({ module: readFileSync("./athanor_adapter_bg.wasm") }); process.stdout.write(g.versionRowsSql(null));'],
        cwd=out, check=True, capture_output=True, text=True).stdout
    for f in out.glob("*.js"):
        text = original = f.read_text()
        for placeholder, value in (("__ATHANOR_VERSION__", version), ('"__ATHANOR_ROWS_SQL__"', json.dumps(rows_sql))):
            text = text.replace(placeholder, value)
        if text != original:
            f.write_text(text)
    # wasm-bindgen's own package.json would replace ours: ours is in the template.
    (out / ".gitignore").unlink(missing_ok=True)
    glues = {out / f"{a['out-name']}.js" for a in artifacts if "glue" not in a}
    if cfg["build"].get("minify-js", False):
        # Each module on its own (no bundling): names, imports and `new URL(..., import.meta.url)`
        # stay as bundlers expect them; comments and whitespace go (the template keeps them).
        for ext in (".js", ".mjs"):
            scripts = sorted(p for p in out.iterdir() if p.suffix == ext)
            run(npm_tool("esbuild@0.28.2", "esbuild"), *scripts, "--minify-whitespace", "--minify-syntax",
                "--format=esm", "--log-level=warning", f"--outdir={out}", f"--out-extension:.js={ext}", "--allow-overwrite")
        # wasm-bindgen's glue has no names a stack trace needs (`__wbg_…` imports): its
        # identifiers are minified too (0.6 KiB gzip).
        for glue in sorted(glues):
            run(npm_tool("esbuild@0.28.2", "esbuild"), glue, "--minify", "--format=esm", "--log-level=warning",
                f"--outfile={glue}", "--allow-overwrite")

    # The OPFS worker in one file with its imports (the embedded wasm's glue included): a
    # module worker discovers its imports only as each module arrives, and those rounds
    # delayed a warm reload's ready by about 10 ms (issue 14). Its modules are counted in
    # the package's JS once, as the separate files the page loads.
    worker = out / "opfs-worker.js"
    bundled_source_gz = {worker: gzip_size(worker)}
    run(npm_tool("esbuild@0.28.2", "esbuild"), worker, "--bundle", "--format=esm", "--minify-whitespace", "--minify-syntax",
        "--log-level=warning", f"--outfile={worker}", "--allow-overwrite")
    # The browsers' two entries the same way, each with what it imports (the embedded
    # wasm's glue included, so each has its own instance): loaded unbundled, a page's
    # import of web.js found its modules in four rounds, 6 ms of a warm reload (issue
    # 14). The modules only these bundles use (web-api.js, opfs*.js, worker-client.js)
    # stay in pkg/ for the tests, but package.json's `files` leaves them out. errors.js
    # stays a module of its own, so that MigrationError is one class for athanor,
    # athanor/extended and athanor/safety; the adapter wasm's glue stays a dynamic
    # import, fetched only for adapters.
    for entry in (out / "web.js", out / "web-extended.js"):
        bundled_source_gz[entry] = gzip_size(entry)
        run(npm_tool("esbuild@0.28.2", "esbuild"), entry, "--bundle", "--format=esm", "--minify-whitespace", "--minify-syntax",
            "--external:./errors.js", "--external:./athanor_adapter.js", "--log-level=warning", f"--outfile={entry}", "--allow-overwrite")

    # The CLI (package.json's bin) as one CommonJS file with what it imports, the lean
    # wasm's glue included: Node starts a CommonJS entry about 3 ms sooner than an ES
    # module and reads one file, not six. `import.meta.url` becomes the file's URL; the
    # full wasm's glue stays an ES module, imported only by the commands that need it.
    cli_source = out / "cli.mjs"
    run(npm_tool("esbuild@0.28.2", "esbuild"), cli_source, "--bundle", "--platform=node", "--format=cjs", "--minify",
        "--external:./athanor_full.js", "--define:import.meta.url=__athanor_url",
        '--banner:js=const __athanor_url = require("node:url").pathToFileURL(__filename).href;',
        "--log-level=warning", f"--outfile={out / 'cli.cjs'}")
    cli_source.unlink()

    # Each artifact against its own budget (its .wasm and wasm-bindgen glue: what a host
    # loading it downloads besides the package's own JS), and the package's own JS.
    kib = lambda n: f"{n / 1024:.1f} KiB"
    over = []
    for art in artifacts:
        name, budget = art["out-name"], art["max-gzip-kib"]
        wasm, glue = out / f"{name}_bg.wasm", out / f"{art.get('glue', name)}.js"
        gz = gzip_size(wasm) + gzip_size(glue)
        print(f"size: {name}_bg.wasm {kib(wasm.stat().st_size)} raw, {kib(gzip_size(wasm))} gzip -9; "
              f"with {glue.name} {kib(gz)} gzip -9 (budget {budget} KiB)")
        if gz > budget * 1024:
            over.append(f"{name} is {kib(gz)} gzip, over its {budget} KiB budget")
    # A bundled file counts as its own module: what it bundles is counted as the files it was.
    own = sorted(p for p in out.iterdir() if p.suffix in (".js", ".mjs") and p not in glues and p not in bundled_source_gz)
    own_gz, js_budget = sum(gzip_size(p) for p in own) + sum(bundled_source_gz.values()), cfg["budget"]["max-js-gzip-kib"]
    for f, source_gz in bundled_source_gz.items():
        print(f"size: {f.name} bundled {kib(f.stat().st_size)} raw, {kib(gzip_size(f))} gzip -9 "
              f"(counted below as its own module, {kib(source_gz)})")
    print(f"size: cli.cjs (the CLI bundled, its wasm's glue included) {kib((out / 'cli.cjs').stat().st_size)} raw, "
          f"{kib(gzip_size(out / 'cli.cjs'))} gzip -9")
    print(f"size: the package's own JS {kib(sum(p.stat().st_size for p in own))} raw (and the bundled entries'), {kib(own_gz)} gzip -9 (budget {js_budget} KiB)")
    if own_gz > js_budget * 1024:
        over.append(f"the package's own JS is {kib(own_gz)} gzip, over its {js_budget} KiB budget")
    for o in over:
        print(f"error: {o}", file=sys.stderr)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
