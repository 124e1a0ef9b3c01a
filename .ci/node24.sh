#!/usr/bin/env bash
# Runs a command (default: `npm test`) on Node 24 LTS, taken from the npm registry's `node`
# package (`npx -p node@24`), in a copy of the repository. Why a copy: better-sqlite3 is a
# native addon, built by `npm install` for the Node that ran it (20 here). Node 24 needs its
# own build, and the two must not overwrite each other, since CI runs the suite on both.
#
# The copy keeps its Node 24 build between runs; everything else is synced from the
# repository each time. The build needs Node 24's C headers, which node-gyp would download
# from nodejs.org: they come instead from the npm package `node-<platform>-<arch>` of the
# same version (its include/node holds the headers and common.gypi), so only the npm
# registry is needed.
#
# The headers are 24.18.1's, whatever 24.x runs: from 24.19.0 on, node_object_wrap.h (compiled
# into the addon) removes a cleanup hook in ObjectWrap's destructor, which aborts the process
# ("Assertion failed: (env) != nullptr" in RemoveEnvironmentCleanupHook) when a garbage
# collection outside JavaScript finalizes a better-sqlite3 Statement (nodejs/node#65446).
# better-sqlite3 13 no longer uses ObjectWrap, but declares Node >= 22. Node ABI 137 is the
# same for every 24.x, so a build against 24.18.1 runs on all of them.
#
#   bash .ci/node24.sh                      # npm test on Node 24
#   bash .ci/node24.sh npx vitest run packages/server/test/cli.test.ts
#
# ORDERCAST_NODE24 picks another package spec (default node@24), ORDERCAST_NODE24_HEADERS
# the headers' version (default 24.18.1); ORDERCAST_NODE24_DIR
# where the copy lives (default $TMPDIR/ordercast-node24). After the run, the copy's
# test-output/ is copied to test-output/node24/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SPEC="${ORDERCAST_NODE24:-node@24}"
COPY="${ORDERCAST_NODE24_DIR:-${TMPDIR:-/tmp}/ordercast-node24}"
HEADERS_VERSION="${ORDERCAST_NODE24_HEADERS:-24.18.1}"

log() { printf '\n[node24] %s\n' "$*"; }
on24() { npx --yes --package "$SPEC" -- "$@"; }

VERSION=$(on24 node -p 'process.versions.node')
PLATFORM_PACKAGE=$(on24 node -p '`node-${process.platform}-${process.arch}`')
log "Node $VERSION ($SPEC), copy at $COPY"

HEADERS="$COPY.headers/$HEADERS_VERSION"
if [ ! -f "$HEADERS/include/node/common.gypi" ]; then
  log "Headers from $PLATFORM_PACKAGE@$HEADERS_VERSION (npm registry)"
  rm -rf "$HEADERS" && mkdir -p "$HEADERS"
  tarball=$(cd "$HEADERS" && npm pack --silent "$PLATFORM_PACKAGE@$HEADERS_VERSION")
  tar xzf "$HEADERS/$tarball" -C "$HEADERS" --strip-components=1 package/include
  rm "$HEADERS/$tarball"
fi

log "Syncing the repository into the copy"
mkdir -p "$COPY"
# Excluded paths are also spared by --delete: the copy's better-sqlite3 build survives.
rsync -a --delete \
  --exclude /.git --exclude /test-output --exclude /.ordercast \
  --exclude /node_modules/better-sqlite3/build \
  "$ROOT/" "$COPY/"

cd "$COPY"
# The build is redone when better-sqlite3 or the headers change, or when it does not load.
BUILT_WITH=node_modules/better-sqlite3/build/ordercast-built-with
WANTED="better-sqlite3 $(node -p 'require("./node_modules/better-sqlite3/package.json").version'), headers $HEADERS_VERSION"
if [ "$(cat "$BUILT_WITH" 2>/dev/null)" != "$WANTED" ] ||
  ! on24 node -e 'new (require("better-sqlite3"))(":memory:").close()' >/dev/null 2>&1; then
  log "Building better-sqlite3 for Node $VERSION with the headers of $HEADERS_VERSION"
  # build-from-source: prebuild-install (better-sqlite3's install step) then does not try to
  # download a prebuilt binary (no internet but npm). npm warns that it does not know the
  # setting; prebuild-install reads it.
  npm_config_build_from_source=true on24 npm rebuild better-sqlite3 --nodedir="$HEADERS"
  on24 node -e 'new (require("better-sqlite3"))(":memory:").close()'
  echo "$WANTED" >"$BUILT_WITH"
fi

log "Running on Node $VERSION: ${*:-npm test}"
status=0
if [ $# -eq 0 ]; then on24 npm test || status=$?; else on24 "$@" || status=$?; fi

if [ -d test-output ]; then
  rm -rf "$ROOT/test-output/node24" && mkdir -p "$ROOT/test-output/node24"
  cp -a test-output/. "$ROOT/test-output/node24/"
fi
exit $status
