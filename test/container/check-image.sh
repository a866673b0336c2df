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
# npm inside the image must trust what this machine's npm trusts (e.g. a registry proxy's CA).
cafile="$(npm config get cafile 2>/dev/null || true)"
mkdir -p "$rootfs/usr/local/etc" "$rootfs/etc/ssl/certs"
if [ -n "$cafile" ] && [ "$cafile" != "null" ] && [ -f "$cafile" ]; then
  cp "$cafile" "$rootfs/etc/ssl/certs/npm-ca.crt"
  echo "cafile=/etc/ssl/certs/npm-ca.crt" > "$rootfs/usr/local/etc/npmrc"
fi
chroot "$rootfs" sh -c 'id node >/dev/null 2>&1 || useradd -m -u 1000 node'
tar -C "$rootfs" -c . | podman import - localhost/mesh-upgrade-node-base:local >/dev/null

podman build --isolation=chroot --build-arg BASE_IMAGE=localhost/mesh-upgrade-node-base:local -t localhost/mesh-upgrade-bot:check .

# Containers cannot always be started here (crun may not set rlimits in a sandbox), so the image is
# checked from its configuration and its exported file system, run with chroot.
user="$(podman image inspect --format '{{.Config.User}}' localhost/mesh-upgrade-bot:check)"
[ "$user" = "node" ] || { echo "image runs as '$user', expected the non-root user node"; exit 1; }
echo "--- image runs as: $user"
fs="$(mktemp -d)"
container="$(podman create localhost/mesh-upgrade-bot:check)"
podman export "$container" | tar -x -C "$fs"
podman rm "$container" >/dev/null
for file in app/templates/plan-comment.md app/app.yml app/dist/src/index.js app/node_modules/probot/package.json; do
  [ -f "$fs/$file" ] || { echo "missing in the image: /$file"; exit 1; }
done
[ ! -d "$fs/app/node_modules/vitest" ] || { echo "dev dependencies are in the image"; exit 1; }
for dir in app/test app/demo app/dist/test app/dist/demo; do
  [ ! -e "$fs/$dir" ] || { echo "$dir is in the image: production runs only dist/src"; exit 1; }
done
echo "--- templates, app.yml, the build and production dependencies are in; dev dependencies are not"
# Production without credentials must refuse to start with a message naming what is missing:
# Probot itself stops without an App ID; the app stops when the webhook secret is missing.
run_app() { chroot "$fs" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin NODE_ENV=production HOST=0.0.0.0 "$@" sh -c 'cd /app && timeout 20 node node_modules/.bin/probot run ./dist/src/index.js' 2>&1; }
if out="$(run_app)"; then echo "expected the app to refuse to start without credentials"; exit 1; fi
echo "$out" | grep -q "App ID is missing" || { echo "unexpected startup failure:"; echo "$out" | tail -5; exit 1; }
key="$(openssl genrsa 2048 2>/dev/null)"
if out="$(run_app APP_ID=1 "PRIVATE_KEY=$key")"; then echo "expected the app to refuse to start without a webhook secret"; exit 1; fi
echo "$out" | grep -q "cannot start in production without WEBHOOK_SECRET" || { echo "unexpected startup failure:"; echo "$out" | tail -5; exit 1; }
echo "--- production start without credentials or webhook secret: refused with a clear message"
rm -rf "$fs"
echo "container check passed"
