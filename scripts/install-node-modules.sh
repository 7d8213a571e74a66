#!/bin/sh
# Runs `npm ci` when node_modules is missing or was installed from another package-lock.json, with
# the Node that scripts/with-node.sh put first on PATH (so npm runs on Node 24, not on a machine's
# older Node, which would warn about every package's engines). The lock's hash is kept beside the
# modules after a successful install, so an unchanged checkout costs one sha256sum.
set -eu
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
lock="$root/package-lock.json"
stamp="$root/node_modules/.package-lock.sha256"
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is not installed; install it with: sudo apt-get install -y npm" >&2
  exit 1
fi
want=$(sha256sum "$lock" | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
if [ -d "$root/node_modules" ]; then
  echo "node_modules is out of date with package-lock.json: running npm ci" >&2
else
  echo "No node_modules yet: running npm ci (once; about half a minute)" >&2
fi
if ! (cd "$root" && npm ci --loglevel=error --no-audit --no-fund >&2); then
  echo "npm ci failed (see above); nothing else was started" >&2
  exit 1
fi
printf '%s\n' "$want" > "$stamp"
