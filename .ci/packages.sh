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
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill -KILL -- "-$SERVER_PID" 2>/dev/null || true; fi
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

cd "$APP"
export ORDERCAST_DATA_DIR="$APP/data"
log "npx ordercast projects create"
npx --no-install ordercast projects create --name "Packaging check" --lifecycle onramp --json >"$WORK/project.json"
SECRET_KEY=$(node -p 'require(process.argv[1]).secretKey' "$WORK/project.json")
[[ "$SECRET_KEY" == sk_* ]] || fail "projects create printed no secret key"

PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
log "npx ordercast serve on port $PORT"
# A process group of its own: npx does not pass SIGTERM on to the server it started, so
# the signal goes to the group, as a terminal's Ctrl-C or a process manager would send it.
setsid npx --no-install ordercast serve --no-demo --port "$PORT" --metrics-port off >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
node "$ROOT/.ci/smoke-server.mjs" "http://127.0.0.1:$PORT" "$SECRET_KEY" || {
  cat "$WORK/serve.log"
  fail "the installed server did not serve the API and the dashboard"
}
kill -TERM -- "-$SERVER_PID"
for _ in $(seq 1 100); do
  pgrep -g "$SERVER_PID" >/dev/null || break
  sleep 0.1
done
if pgrep -g "$SERVER_PID" >/dev/null; then
  cat "$WORK/serve.log"
  fail "serve still runs 10 s after SIGTERM"
fi
wait "$SERVER_PID" || true
SERVER_PID=
grep -q '"msg":"stopped"' "$WORK/serve.log" || {
  cat "$WORK/serve.log"
  fail "serve did not drain and stop on SIGTERM"
}
echo "serve drained and stopped on SIGTERM"

log "@ordercast/client from ESM, CommonJS and TypeScript"
node "$ROOT/.ci/packages-client-imports.mjs" "$APP" "$ROOT/node_modules/.bin/tsc"
log "OK: both packages install on their own and run"
