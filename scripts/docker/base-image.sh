#!/usr/bin/env bash
# Build the Docker test's base image as a root-filesystem tarball, with no image registry: Debian
# bookworm (debootstrap --variant=minbase, from Debian's mirror) plus the host's own Node 20 and npm
# laid out as in the official node image (/usr/local/bin/node, /usr/local/lib/node_modules/npm), plus
# tcpdump and libcap2-bin, which deploy/Dockerfile would otherwise fetch with apt-get.
# The tarball is cached: a second run prints its path at once. Needs root and debootstrap.
# Usage: scripts/docker/base-image.sh CACHE_DIR    (prints the tarball's path on stdout)
set -euo pipefail
cache=${1:?usage: base-image.sh CACHE_DIR}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
node_bin=${NODE_BIN:-$(command -v node)}
node_version=$("$node_bin" --version)
tarball="$cache/bookworm-minbase-node-${node_version}.tar"
if [ -s "$tarball" ]; then echo "$tarball"; exit 0; fi

case "$node_version" in v20.*) ;; *) echo "base-image: need Node 20 on the host, found $node_version" >&2; exit 1 ;; esac
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
mkdir -p "$cache"
root=$(mktemp -d "$cache/rootfs.XXXXXX")
trap 'rm -rf --one-file-system "$root"' EXIT
echo "base-image: debootstrap bookworm into $root (a few minutes)" >&2
debootstrap --variant=minbase --include=tcpdump,libcap2-bin,ca-certificates bookworm "$root" "$mirror" >&2
install -D -m 0755 "$node_bin" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb "$root"/var/log/*
chroot "$root" /usr/local/bin/node --version >&2
tar --numeric-owner -C "$root" -cf "$tarball.part" .
mv "$tarball.part" "$tarball"
echo "$tarball"
