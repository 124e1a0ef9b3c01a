#!/usr/bin/env bash
# Builds the container image (Containerfile) and starts it, as an operator would:
#   1. a local stand-in for node:24-bookworm-slim (.ci/node-image-standin.sh, cached);
#   2. `podman build --format docker --isolation chroot` (docker format keeps HEALTHCHECK);
#   3. checks of the image's configuration (non-root user, /data volume, HEALTHCHECK,
#      ENTRYPOINT/CMD, OCI labels, ports) and contents (no compilers, no source maps);
#   4. starts the image's own command with `buildah run --isolation chroot` (its user, env
#      and workdir, on the host network; `podman run` cannot set rlimits in this sandbox),
#      with /data on a host folder, then: the HEALTHCHECK command, `ordercast projects
#      create` through the image's ENTRYPOINT, an order written and read, /dashboard, and
#      SIGTERM: the server must drain and exit 0 within 10 s (docker stop's grace period).
# Fails loudly at the first step that does not work, and leaves no process or container.
#
# Needs root, podman, buildah and debootstrap (installed from Debian when missing).
#   bash .ci/image.sh
# ORDERCAST_IMAGE names the image (default localhost/ordercast:ci).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
IMAGE="${ORDERCAST_IMAGE:-localhost/ordercast:ci}"
GRACE_SECONDS=10

log() { printf '\n[image] %s\n' "$*"; }
fail() {
  printf '[image] FAILED: %s\n' "$*" >&2
  exit 1
}
seconds_since() { echo "$(($(date +%s) - $1))"; }

missing=()
for tool in podman buildah debootstrap; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  log "Installing ${missing[*]} (Debian's packages)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman buildah debootstrap >/dev/null
fi
podman --version

start=$(date +%s)
log "The node:24-bookworm-slim stand-in"
STANDIN=$(bash .ci/node-image-standin.sh)
echo "$STANDIN ($(seconds_since "$start") s)"

start=$(date +%s)
VERSION=$(node -p 'require("./packages/server/package.json").version')
# CI has no public address to name; a release passes the repository's (CONTRIBUTING.md).
SOURCE_URL=${ORDERCAST_IMAGE_SOURCE_URL:-https://source.invalid/ordercast}
log "podman build $IMAGE (NODE_IMAGE=$STANDIN, VERSION=$VERSION)"
podman build --format docker --isolation chroot --build-arg "NODE_IMAGE=$STANDIN" --build-arg "VERSION=$VERSION" \
  --build-arg "SOURCE_URL=$SOURCE_URL" --tag "$IMAGE" --file Containerfile . || fail "podman build failed"
echo "built in $(seconds_since "$start") s; $(podman image inspect "$IMAGE" --format '{{.Size}}' | numfmt --to=si) bytes, of which $(podman image inspect "$STANDIN" --format '{{.Size}}' | numfmt --to=si) are the base image"
# Layers of earlier builds that no tag uses any more; this build's stay as the next build's cache.
podman image prune --force --filter until=24h >/dev/null || true

log "The image's configuration"
podman image inspect "$IMAGE" --format json | node .ci/image-config-check.mjs "$VERSION" "$SOURCE_URL"

CONTAINER=$(buildah from --quiet --name "ordercast-ci-$$" "$IMAGE")
DATA=$(mktemp -d "${TMPDIR:-/tmp}/ordercast-image-data.XXXXXX")
RUN_PID=
SERVER_PID=
DROP_DATABASE=
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -KILL "$SERVER_PID" 2>/dev/null || true; fi
  if [ -n "$RUN_PID" ] && kill -0 "$RUN_PID" 2>/dev/null; then kill -KILL "$RUN_PID" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  buildah rm "$CONTAINER" >/dev/null 2>&1 || true
  rm -rf "$DATA"
  if [ -n "$DROP_DATABASE" ]; then psql "$ORDERCAST_TEST_DATABASE_URL" -qc "drop database if exists $DROP_DATABASE" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
# The image's user owns /data; a host folder mounted there must be writable by it.
chown "$(buildah run --isolation chroot "$CONTAINER" -- id -u):$(buildah run --isolation chroot "$CONTAINER" -- id -g)" "$DATA"
in_image() { buildah run --isolation chroot -v "$DATA:/data" "$CONTAINER" -- "$@"; }

log "The image's contents"
in_image sh -c 'for tool in gcc g++ make python3 curl; do if command -v $tool; then echo "has $tool"; exit 1; fi; done' ||
  fail "the image has build tools or curl"
maps=$(in_image sh -c 'find /app -name "*.map" | wc -l')
# Ours, that is: some dependencies publish their own tests, which npm installs.
tests=$(in_image sh -c 'find /app/packages -path "*/node_modules" -prune -o \( -path "*/test/*" -o -name "*.test.*" \) -print | wc -l')
[ "$maps" -eq 0 ] && [ "$tests" -eq 0 ] || fail "the image has $maps source maps and $tests of our test files"
echo "no compilers, no curl, no source maps, no tests; runs as uid $(in_image id -u)"

# Starts the image's command, checks it from inside and outside, stops it with SIGTERM. On
# the database the container's environment names; $1 says which.
serve_and_check() {
  local label=$1
  # buildah run answers a signal by killing its child: a runtime sends SIGTERM to the
  # container's process itself, so this finds that process (node, below buildah's helpers).
  descends_from() { # pid, ancestor
    local pid=$1
    while [ -n "$pid" ] && [ "$pid" -gt 1 ]; do
      [ "$pid" = "$2" ] && return 0
      pid=$(ps -o ppid= -p "$pid" 2>/dev/null | tr -d ' ' || true)
    done
    return 1
  }
  # Ports are free when picked, but another process of this busy machine can take one before
  # the server listens: then the server exits with EADDRINUSE, and it starts again on others.
  for attempt in 1 2 3; do
    SERVER_PID=
    # The host network: free ports, not 8080 and 9464, which other servers may hold.
    read -r PORT METRICS_PORT < <(node -e '
    const net = require("net");
    const free = () => new Promise((r) => { const s = net.createServer().listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => r(p)); }); });
    Promise.all([free(), free()]).then((ports) => console.log(ports.join(" ")));')
    buildah config --env "ORDERCAST_PORT=$PORT" --env "ORDERCAST_METRICS_PORT=$METRICS_PORT" "$CONTAINER"
    COMMAND=$(podman image inspect "$IMAGE" --format '{{join .Config.Entrypoint " "}} {{join .Config.Cmd " "}}')
    log "Starting the image's command ($COMMAND) on $label, on port $PORT, /metrics on $METRICS_PORT"
    start=$(date +%s)
    # shellcheck disable=SC2086 # the image's ENTRYPOINT and CMD, as words
    buildah run --isolation chroot -v "$DATA:/data" "$CONTAINER" -- $COMMAND >"$DATA/serve.log" 2>&1 &
    RUN_PID=$!
    for _ in $(seq 1 100); do
      for pid in $(pgrep -f "^node /usr/local/bin/ordercast serve" || true); do
        if descends_from "$pid" "$RUN_PID"; then
          SERVER_PID=$pid
          break
        fi
      done
      [ -n "$SERVER_PID" ] && break
      kill -0 "$RUN_PID" 2>/dev/null || break
      sleep 0.2
    done
    [ -n "$SERVER_PID" ] || {
      cat "$DATA/serve.log"
      fail "the server process did not start"
    }

    log "The HEALTHCHECK command, run in the image"
    mapfile -d '' -t HEALTHCHECK < <(podman image inspect "$IMAGE" --format json |
      node -e 'const [i] = JSON.parse(require("fs").readFileSync(0)); process.stdout.write((i.Healthcheck ?? i.Config.Healthcheck).Test.slice(1).join("\0"))')
    healthy=
    for _ in $(seq 1 90); do
      if in_image "${HEALTHCHECK[@]}" >/dev/null 2>&1; then
        healthy=yes
        break
      fi
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 1
    done
    [ -n "$healthy" ] && break
    if ! kill -0 "$SERVER_PID" 2>/dev/null && grep -q EADDRINUSE "$DATA/serve.log"; then
      wait "$RUN_PID" || true
      RUN_PID=
      echo "a port was taken before the server listened (attempt $attempt): again on other ports"
      continue
    fi
    break
  done
  [ -n "$healthy" ] || {
    cat "$DATA/serve.log"
    fail "the HEALTHCHECK command never passed"
  }
  echo "healthy $(seconds_since "$start") s after start"

  log "ordercast projects create, through the image's ENTRYPOINT (as \`docker run IMAGE projects create …\`)"
  ENTRYPOINT=$(podman image inspect "$IMAGE" --format '{{join .Config.Entrypoint " "}}')
  # shellcheck disable=SC2086
  in_image $ENTRYPOINT projects create --name "Image check" --lifecycle onramp --json >"$DATA/project.json" || fail "projects create failed"
  SECRET_KEY=$(node -p 'require(process.argv[1]).secretKey' "$DATA/project.json")

  log "The API and the dashboard from outside the container"
  node .ci/smoke-server.mjs "http://127.0.0.1:$PORT" "$SECRET_KEY" || {
    cat "$DATA/serve.log"
    fail "the image did not serve the API and the dashboard"
  }
  curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" -o "$DATA/metrics.txt" && grep -q '^ordercast_' "$DATA/metrics.txt" ||
    fail "no /metrics on the container's loopback"
  ss -ltn "sport = :$METRICS_PORT" | grep -q "127.0.0.1:$METRICS_PORT" || fail "/metrics is not bound to loopback only"
  echo "ok  /metrics answers on 127.0.0.1:$METRICS_PORT only"

  log "SIGTERM to the server process"
  start_ms=$(date +%s%3N)
  kill -TERM "$SERVER_PID"
  status=0
  for _ in $(seq 1 $((GRACE_SECONDS * 10))); do
    kill -0 "$RUN_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$RUN_PID" 2>/dev/null; then
    cat "$DATA/serve.log"
    fail "still running ${GRACE_SECONDS} s after SIGTERM"
  fi
  wait "$RUN_PID" || status=$?
  RUN_PID=
  SERVER_PID=
  elapsed_ms=$(($(date +%s%3N) - start_ms))
  grep -q '"msg":"stopped"' "$DATA/serve.log" || {
    cat "$DATA/serve.log"
    fail "the server did not log that it stopped"
  }
  [ "$status" -eq 0 ] || {
    cat "$DATA/serve.log"
    fail "the container's command exited $status after SIGTERM"
  }
  echo "drained and exited 0, ${elapsed_ms} ms after SIGTERM"
}

serve_and_check SQLite

# On PostgreSQL too when the suite's switch is set (CI): migrations by the image's
# `migrate` (as compose and the Kubernetes Job run them), in a database of its own.
if [ -n "${ORDERCAST_TEST_DATABASE_URL:-}" ]; then
  DATABASE="ordercast_image_$$"
  psql "$ORDERCAST_TEST_DATABASE_URL" -qc "create database $DATABASE"
  DROP_DATABASE="$DATABASE"
  buildah config --env "ORDERCAST_DATABASE_URL=${ORDERCAST_TEST_DATABASE_URL%/*}/$DATABASE" \
    --env "ORDERCAST_ENCRYPTION_KEY=$(openssl rand -base64 32)" "$CONTAINER"
  log "ordercast migrate (PostgreSQL)"
  # shellcheck disable=SC2086
  in_image $(podman image inspect "$IMAGE" --format '{{join .Config.Entrypoint " "}}') migrate || fail "migrate failed on PostgreSQL"
  serve_and_check PostgreSQL
else
  log "PostgreSQL SKIPPED: set ORDERCAST_TEST_DATABASE_URL to run the image on PostgreSQL too"
fi
log "OK: $IMAGE builds, starts, serves and stops"
