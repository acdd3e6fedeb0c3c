# The two commands of the README: `make demo` (main job) and `make test` (every test).
# Both install what they need first (scripts/setup.sh).

export CC_wasm32_unknown_unknown := clang-19
export AR_wasm32_unknown_unknown := llvm-ar-19

BIN := target/release/athanor
DEMO_DB := target/demo/notes.db
# A Node with node:sqlite (≥ 22.13), which the npm CLI and the JS API need for database
# files: the machine's, or the pinned 22 from npm (scripts/node.mjs; setup installs it).
NODE_SQLITE = $(shell node scripts/node.mjs)


.PHONY: setup build pkg demo www test lint test-rust test-wasm test-js test-alembic bench

setup:
	@scripts/setup.sh

build:
	cargo build --release --bin athanor

# The npm package in pkg/ (settings in wasm-pack.toml; fails over the size budget).
pkg: setup
	python3 scripts/build_pkg.py

# The npm package's CLI (what `npx athanor` runs) on the example app's database file,
# under a Node with node:sqlite.
demo: setup pkg
	@scripts/demo.sh "$(NODE_SQLITE) pkg/cli.cjs" example/migrations $(DEMO_DB)

# The demo web app (www/): built with Vite against the package, served on localhost.
www: setup pkg
	cd www && npm install --no-audit --no-fund && npx vite build && npx vite preview --host 127.0.0.1 --port 5173 --strictPort

test: setup lint test-rust test-wasm test-js test-alembic

# Formatting (rustfmt.toml) and every clippy warning as an error, tests and benches included.
lint:
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy --target wasm32-unknown-unknown --lib -- -D warnings

test-rust:
	cargo test

# The same crate built for wasm32, tested in Node under wasm-bindgen-test.
test-wasm:
	cargo test --target wasm32-unknown-unknown --test wasm_node --test wasm_node_vfs

# The built npm package: its JS API, and as a consumer installs it (npm pack).
test-js: pkg
	cargo build --bin athanor
	node --test tests/js/

test-alembic:
	cargo build --bin athanor
	ATHANOR_BIN=$(CURDIR)/target/debug/athanor .venv/bin/python -m pytest -q tests/alembic

bench: setup pkg
	cargo bench --bench engine
	$(NODE_SQLITE) benches/js_bench.mjs
	node benches/browser_bench.mjs
	node benches/workerd_bench.mjs
	cargo bench --bench autogen
