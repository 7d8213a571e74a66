#!/bin/sh
# Everything a fresh clone needs before `npm start` or `npm test` (PURPOSE lab or test): the
# Debian packages, a Node.js new enough (scripts/with-node.sh), and node_modules as
# package-lock.json says. Each step does nothing when its part is already in place.
#   sh scripts/prepare.sh lab|test
set -eu
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
sh "$root/scripts/install-system-packages.sh" "${1:-lab}"
sh "$root/scripts/with-node.sh" sh "$root/scripts/install-node-modules.sh"
