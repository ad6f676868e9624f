#!/usr/bin/env bash
# CI: a plain `pip install accountree` (no extras) runs the README's main job, and an optional part
# that is not installed fails with the exact pip line, never a traceback (issue 17, item 11).
# Throwaway venv in a temp dir, small demo (1,000 accounts: enough best customers to train the model).
set -euo pipefail
SECONDS=0
cd "$(dirname "$0")/.."
repo=$PWD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install -q --no-compile "$repo"   # the package alone: no extras
bin=$tmp/venv/bin
echo "installed in $SECONDS s"
ws=$tmp/x.duckdb
cd "$tmp"
ACCOUNTREE_ADMIN_PASSWORD=ci-demo-password "$bin/accountree" demo --accounts 1000 --workspace "$ws" --out "$tmp/demo" >/dev/null
"$bin/accountree" resolve --dry-run --workspace "$ws" >/dev/null
"$bin/accountree" score train --workspace "$ws" >/dev/null
"$bin/python" -c "import accountree.api, accountree.api.auth, uvicorn; from accountree.store import open_workspace; \
from accountree.api import create_app; create_app(open_workspace('$ws'))"
# CRM push without the crm extra: a clear error with the pip line, exit code 1, no traceback
set +e
out=$("$bin/accountree" score export-crm --target hubspot --push --token x --workspace "$ws" 2>&1)
code=$?
set -e
if [ "$code" -eq 0 ] || ! grep -qF "pip install 'accountree[crm]'" <<<"$out" || grep -q Traceback <<<"$out"; then
    echo "CRM push without the crm extra did not fail cleanly (exit $code):"; echo "$out"; exit 1
fi
echo "plain install ($SECONDS s): demo, resolve, score train, server app OK; CRM push says: pip install 'accountree[crm]'"
