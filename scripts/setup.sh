#!/usr/bin/env bash
# Install what wirelab needs, idempotently: npm packages always; Debian packages (capture tools,
# reference programs for tests and benchmarks, Chromium for browser tests) when run as root and missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# npm packages: install when node_modules is missing or older than the lock file.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

# Debian packages, named by the command each provides.
declare -A debs=(
  [ip]=iproute2 [ping]=iputils-ping [tcpdump]=tcpdump [tshark]=tshark [socat]=socat [iperf3]=iperf3 [nmap]=nmap [hping3]=hping3 [dumpcap]=wireshark-common
  [python3]=python3 [tmux]=tmux [openssl]=openssl [nft]=nftables [ufw]=ufw [unshare]=util-linux [chromium]=chromium
)
missing=()
for cmd in "${!debs[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${debs[$cmd]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Debian packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing ${missing[*]} (install them as root with apt-get; tests that need them will skip)" >&2
  fi
fi
