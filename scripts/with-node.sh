#!/bin/sh
# Runs a command with a Node.js new enough for this project (22.12 or later) first on PATH.
# Where the machine's own node is older, a Node 24 binary comes from the npm registry's `node`
# package into .cache/node, once; the registry is the only place this machine may download from.
set -eu
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
local_node_dir="$root/.cache/node/node_modules/node/bin"

node_is_new_enough() {
  "$1" -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=12)?0:1)' 2>/dev/null
}

if command -v node >/dev/null 2>&1 && node_is_new_enough node; then
  :
elif [ -x "$local_node_dir/node" ] && node_is_new_enough "$local_node_dir/node"; then
  PATH="$local_node_dir:$PATH"
elif ! command -v npm >/dev/null 2>&1; then
  echo "This project needs Node.js 22.12 or later, and npm to fetch it with; install npm with: sudo apt-get install -y nodejs npm" >&2
  exit 1
else
  echo "with-node: $(node --version 2>/dev/null || echo 'no node') is older than 22.12; fetching Node 24 from the npm registry into .cache/node" >&2
  mkdir -p "$root/.cache/node"
  npm install --prefix "$root/.cache/node" --no-save --no-package-lock --loglevel=error node@24 >&2
  if ! node_is_new_enough "$local_node_dir/node"; then
    echo "with-node: could not install Node 24 into $root/.cache/node (see npm's output above); nothing else was started" >&2
    exit 1
  fi
  PATH="$local_node_dir:$PATH"
fi
export PATH
exec "$@"
