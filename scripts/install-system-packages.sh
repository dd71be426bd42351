#!/usr/bin/env bash
# Installs the Debian packages the product and its tests need, when missing (one list for CI and the quick start).
set -euo pipefail
packages=(openssh-server openssh-client iptables iproute2 bzip2 lbzip2 tar curl dnsutils procps psmisc
  ca-certificates libnss3-tools openssl chromium conntrack redis-server)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
