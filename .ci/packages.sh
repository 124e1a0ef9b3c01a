#!/usr/bin/env bash
# The npm packages install and run on their own, as a user gets them from the registry:
#   1. a fresh clone of the committed tree (no dist/, no dashboard build): `npm pack` in
#      packages/client and packages/server builds what each ships (their prepack scripts);
#   2. each tarball has a README and a LICENSE, no tests and no source maps, and the files
#      it needs; `npm publish --dry-run` is clean for both;
#   3. in an empty folder, `npm install <client tgz> <server tgz>` prints no EBADENGINE on
#      the Node that runs this (CI: 20, the oldest supported);
#   4. `npx ordercast projects create` works; `npx ordercast serve` serves /healthz, the
#      API (an order written and read back) and /dashboard, and exits 0 on SIGTERM;
#   5. @ordercast/client imports from ESM and CommonJS, and TypeScript finds its types:
#      with default settings (the repository's TypeScript, and TypeScript 5, whose default
#      for `tsc file.ts` is node10 resolution), and with nodenext from .mts and .cts files.
#
# A CI script, not a vitest test: it installs from the npm registry into a folder outside
# the repository and takes a minute or more, which the suite (run on every change, without
# network) should not.
#
#   bash .ci/packages.sh              # HEAD, as a fresh clone
#   bash .ci/packages.sh --worktree   # the working tree's files (committed or not, not ignored)
#
# ORDERCAST_PACKAGES_KEEP=1 keeps the work folder.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ordercast-packages.XXXXXX")
SERVER_PID=

log() { printf '\n[packages] %s\n' "$*"; }
fail() {
  printf '[packages] FAILED: %s\n' "$*" >&2
  exit 1
}
DROP_DATABASE=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill -KILL -- "-$SERVER_PID" 2>/dev/null || true; fi
  if [ -n "$DROP_DATABASE" ]; then psql "$ORDERCAST_TEST_DATABASE_URL" -qc "drop database if exists $DROP_DATABASE" >/dev/null 2>&1 || true; fi
  if [ -z "${ORDERCAST_PACKAGES_KEEP:-}" ]; then rm -rf "$WORK"; else echo "[packages] kept $WORK" >&2; fi
}
trap cleanup EXIT

if [ "${1:-}" = --worktree ]; then
  log "A copy of the working tree's files (as git sees them: no ignored files), with this checkout's node_modules linked in"
  mkdir -p "$WORK/clone"
  git ls-files -z --cached --others --exclude-standard | tar --null --files-from=- --ignore-failed-read -c 2>/dev/null | tar -x -C "$WORK/clone"
else
  log "A fresh clone of HEAD ($(git rev-parse --short HEAD)), with this checkout's node_modules linked in"
  git clone --quiet --no-hardlinks "$ROOT" "$WORK/clone"
fi
# Hard links: nothing of ours is built into node_modules, so the copy costs no disk and
# the clone still starts with no dist/ and no dashboard build.
cp -al "$ROOT/node_modules" "$WORK/clone/node_modules"
for p in server client dashboard; do
  if [ -d "$ROOT/packages/$p/node_modules" ]; then cp -al "$ROOT/packages/$p/node_modules" "$WORK/clone/packages/$p/node_modules"; fi
done
[ ! -e "$WORK/clone/packages/server/dist" ] && [ ! -e "$WORK/clone/packages/server/dashboard" ] || fail "the clone already has build output"

mkdir -p "$WORK/tarballs"
for p in client server; do
  log "npm pack in packages/$p (prepack builds it)"
  (cd "$WORK/clone/packages/$p" && npm pack --silent --pack-destination "$WORK/tarballs" >/dev/null)
done
CLIENT_TGZ=$(ls "$WORK"/tarballs/ordercast-client-*.tgz)
SERVER_TGZ=$(ls "$WORK"/tarballs/ordercast-[0-9]*.tgz)

log "Tarball contents"
node .ci/packages-contents.mjs "$CLIENT_TGZ" "$SERVER_TGZ"

for p in client server; do
  log "npm publish --dry-run in packages/$p"
  out=$(cd "$WORK/clone/packages/$p" && npm publish --dry-run --ignore-scripts 2>&1) || {
    echo "$out"
    fail "npm publish --dry-run failed for packages/$p"
  }
  # The dry run's own notices are fine; any warning or error is not.
  if grep -Ei '^npm (warn|error)' <<<"$out" | grep -v 'This command requires you to be logged in'; then
    fail "npm publish --dry-run warns for packages/$p"
  fi
done

log "npm install of both tarballs into an empty folder on Node $(node -p process.versions.node)"
APP="$WORK/app"
mkdir -p "$APP"
(cd "$APP" && npm init -y >/dev/null && npm install --no-audit --no-fund --foreground-scripts "$CLIENT_TGZ" "$SERVER_TGZ" 2>&1) | tee "$WORK/install.log"
if grep -q EBADENGINE "$WORK/install.log"; then fail "the install printed EBADENGINE"; fi
[ ! -e "$APP/node_modules/ordercast/test" ] || fail "tests were installed"

# projects create, then serve: the API, the dashboard, SIGTERM. On the database that the
# environment (ORDERCAST_DATA_DIR or ORDERCAST_DATABASE_URL) names; $1 says which.
create_and_serve() {
  local label=$1
  log "npx ordercast projects create ($label)"
  npx --no-install ordercast projects create --name "Packaging check" --lifecycle onramp --json >"$WORK/project.json"
  SECRET_KEY=$(node -p 'require(process.argv[1]).secretKey' "$WORK/project.json")
  [[ "$SECRET_KEY" == sk_* ]] || fail "projects create printed no secret key"

  log "npx ordercast serve ($label)"
  # A process group of its own: npx does not pass SIGTERM on to the server it started, so
  # the signal goes to the group, as a terminal's Ctrl-C or a process manager would send it.
  # Port 0: the server takes a free port and logs its URL (a port picked here could be
  # taken by another process of a busy machine before the server listens).
  setsid npx --no-install ordercast serve --no-demo --port 0 --metrics-port off >"$WORK/serve.log" 2>&1 &
  SERVER_PID=$!
  local url=
  for _ in $(seq 1 450); do
    url=$(grep -o '"url":"http[^"]*"' "$WORK/serve.log" | head -n 1 | cut -d'"' -f4 || true)
    [ -n "$url" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.2
  done
  [ -n "$url" ] || {
    cat "$WORK/serve.log"
    fail "serve did not say where it listens ($label)"
  }
  node "$ROOT/.ci/smoke-server.mjs" "$url" "$SECRET_KEY" || {
    cat "$WORK/serve.log"
    fail "the installed server did not serve the API and the dashboard ($label)"
  }
  kill -TERM -- "-$SERVER_PID"
  for _ in $(seq 1 100); do
    pgrep -g "$SERVER_PID" >/dev/null || break
    sleep 0.1
  done
  if pgrep -g "$SERVER_PID" >/dev/null; then
    cat "$WORK/serve.log"
    fail "serve still runs 10 s after SIGTERM ($label)"
  fi
  wait "$SERVER_PID" || true
  SERVER_PID=
  grep -q '"msg":"stopped"' "$WORK/serve.log" || {
    cat "$WORK/serve.log"
    fail "serve did not drain and stop on SIGTERM ($label)"
  }
  echo "serve drained and stopped on SIGTERM"
}

cd "$APP"
ORDERCAST_DATA_DIR="$APP/data" create_and_serve SQLite

# On PostgreSQL too when the suite's switch is set (CI): a database of its own, dropped after.
if [ -n "${ORDERCAST_TEST_DATABASE_URL:-}" ]; then
  DATABASE="ordercast_packages_$$"
  psql "$ORDERCAST_TEST_DATABASE_URL" -qc "create database $DATABASE"
  DROP_DATABASE="$DATABASE"
  DATABASE_URL="${ORDERCAST_TEST_DATABASE_URL%/*}/$DATABASE"
  # The same key for every command of the deployment, as docs/operations.md asks.
  ENCRYPTION_KEY=$(openssl rand -base64 32)
  log "npx ordercast migrate (PostgreSQL)"
  ORDERCAST_DATABASE_URL="$DATABASE_URL" ORDERCAST_ENCRYPTION_KEY="$ENCRYPTION_KEY" npx --no-install ordercast migrate
  ORDERCAST_DATABASE_URL="$DATABASE_URL" ORDERCAST_ENCRYPTION_KEY="$ENCRYPTION_KEY" create_and_serve PostgreSQL
else
  log "PostgreSQL SKIPPED: set ORDERCAST_TEST_DATABASE_URL to run the installed server on PostgreSQL too"
fi

log "@ordercast/client from ESM, CommonJS and TypeScript"
node "$ROOT/.ci/packages-client-imports.mjs" "$APP" "$ROOT/node_modules/.bin/tsc"
log "OK: both packages install on their own and run"
