#!/usr/bin/env bash
# What the Docker deployment test needs, installed when missing (as root, with apt-get): Debian's
# docker.io (dockerd, containerd, runc, docker-init), docker-compose 1.29 and debootstrap. The packages'
# services are not started (the test starts its own dockerd). Exit 0 when all are there, 1 otherwise
# with the reason on stderr.
set -euo pipefail
declare -A debs=([dockerd]=docker.io [docker-compose]=docker-compose [debootstrap]=debootstrap [nsenter]=util-linux)
missing=()
for cmd in "${!debs[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${debs[$cmd]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "missing ${missing[*]} (install them as root with apt-get)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# a policy-rc.d that refuses keeps the package from starting a dockerd of its own on the host
policy=/usr/sbin/policy-rc.d
made_policy=
if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; made_policy=1; fi
status=0
{ apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } || status=$?
[ -n "$made_policy" ] && rm -f "$policy"
if [ $status -ne 0 ]; then echo "apt-get could not install ${missing[*]}" >&2; exit 1; fi
