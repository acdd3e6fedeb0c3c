#!/usr/bin/env bash
# The main job: migrate the example app's database with the CLI and show what a
# user sees. Usage: scripts/demo.sh "CLI COMMAND" MIGRATIONS_DIR DB
set -euo pipefail
read -r -a bin <<<"$1"
dir=$2 db=$3
mkdir -p "$(dirname "$db")"
rm -f "$db"
run() {
  echo
  echo "\$ athanor --dir $dir --db $db $*"
  "${bin[@]}" --dir "$dir" --db "$db" "$@"
}
run upgrade head
run current
run history --verbose
run downgrade -1
run current
run upgrade head
run current
run history --indicate-current
echo
echo "\$ sqlite3 $db .tables 'PRAGMA integrity_check' 'SELECT * FROM alembic_version'"
sqlite3 "$db" .tables 'PRAGMA integrity_check' 'SELECT * FROM alembic_version'
