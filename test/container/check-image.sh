#!/usr/bin/env bash
# Builds the Dockerfile with podman (chroot isolation) and checks the image. No container registry
# is reachable from this workplace, so the base image is made locally: a debootstrapped Debian
# bookworm plus this machine's Node and npm, with a non-root `node` user (uid 1000) like node:*-slim.
# Usage: test/container/check-image.sh   (skips with a message when podman or debootstrap is absent)
set -euo pipefail
cd "$(dirname "$0")/../.."

for tool in podman debootstrap; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "container check skipped: $tool is not installed (apt-get install podman debootstrap)"
    exit 0
  fi
done

rootfs="${ROOTFS:-/tmp/mesh-upgrade-rootfs}"
if [ ! -x "$rootfs/bin/sh" ]; then
  debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >/dev/null
fi
node_bin="$(command -v node)"
npm_dir="$(dirname "$(readlink -f "$(command -v npm)")")/.."
mkdir -p "$rootfs/usr/local/bin" "$rootfs/usr/local/lib/node_modules"
cp "$node_bin" "$rootfs/usr/local/bin/node"
rm -rf "$rootfs/usr/local/lib/node_modules/npm" && cp -r "$(readlink -f "$npm_dir")" "$rootfs/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt" 2>/dev/null || true
chroot "$rootfs" sh -c 'id node >/dev/null 2>&1 || useradd -m -u 1000 node'
tar -C "$rootfs" -c . | podman import - localhost/mesh-upgrade-node-base:local >/dev/null

podman build --isolation=chroot --build-arg BASE_IMAGE=localhost/mesh-upgrade-node-base:local -t localhost/mesh-upgrade-bot:check .

echo "--- image runs as: $(podman run --rm localhost/mesh-upgrade-bot:check id -un)"
podman run --rm localhost/mesh-upgrade-bot:check sh -c 'test -f templates/plan-comment.md && test -f app.yml && test -f dist/src/index.js && test ! -d node_modules/vitest && echo "--- templates, app.yml and the build are in; dev dependencies are not"'
# Production without credentials must refuse to start, naming what is missing.
if out="$(podman run --rm -e NODE_ENV=production localhost/mesh-upgrade-bot:check 2>&1)"; then
  echo "expected the app to refuse to start without credentials"; exit 1
fi
echo "$out" | grep -q "cannot start in production without APP_ID" && echo "--- production start without credentials: refused with a clear message"
echo "container check passed"
