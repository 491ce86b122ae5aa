#!/usr/bin/env bash
# Builds the original Node server (xevrion/flock, packages/server) outside our repository, for same-run
# comparisons in bench/run-storm.sh (docs/BENCHMARKS.md, "Storm"). None of its code is committed here.
# Exports packages/server and the root tsconfig.base.json it extends (git archive of a bare mirror) into
# $ORIGINAL_DIR, installs its npm dependencies from the npm registry (without the workspace-only devDependency
# @xevrion/flock-core, which npm cannot resolve, and without vitest, which the build does not need) and compiles it
# with tsc.
#
#   bench/original.sh [mirror-git-dir]      (default: $ORIGINAL_REPO, else /work/.mirror/xevrion+flock/repo)
#   env: ORIGINAL_DIR, where to build (/tmp/flock-original); ORIGINAL_REF, the commit or branch (HEAD)
#   then: FLOCK_PORT=8787 [FLOCK_REDIS_URL=redis://127.0.0.1:6390] node $ORIGINAL_DIR/packages/server/dist/cli.js
set -euo pipefail

REPO=${1:-${ORIGINAL_REPO:-/work/.mirror/xevrion+flock/repo}}
DIR=${ORIGINAL_DIR:-/tmp/flock-original}
REF=${ORIGINAL_REF:-HEAD}
command -v node >/dev/null && command -v npm >/dev/null || { echo "node and npm are needed" >&2; exit 2; }
git --git-dir="$REPO" rev-parse --verify -q "$REF^{commit}" >/dev/null \
  || { echo "$REPO: not a git directory with $REF (give the mirror's path)" >&2; exit 2; }

rm -rf "$DIR"
mkdir -p "$DIR"
git --git-dir="$REPO" archive "$REF" packages/server tsconfig.base.json | tar -x -C "$DIR"
SERVER="$DIR/packages/server"
node -e '
  const fs = require("fs"), f = process.argv[1], p = JSON.parse(fs.readFileSync(f, "utf8"));
  for (const d of ["@xevrion/flock-core", "vitest"]) delete p.devDependencies[d];
  fs.writeFileSync(f, JSON.stringify(p, null, 2));' "$SERVER/package.json"
(cd "$SERVER" && npm install --no-audit --no-fund --loglevel=error && npx tsc -p tsconfig.json)
[ -f "$SERVER/dist/cli.js" ] || { echo "no $SERVER/dist/cli.js after the build" >&2; exit 1; }
echo "built the original $(git --git-dir="$REPO" rev-parse --short "$REF") in $SERVER"
echo "start it: FLOCK_PORT=8787 [FLOCK_REDIS_URL=redis://127.0.0.1:PORT] FLOCK_LOG_LEVEL=warn node $SERVER/dist/cli.js"
