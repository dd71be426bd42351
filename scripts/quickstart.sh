#!/usr/bin/env bash
# The quick start: installs what a fresh Debian machine lacks, builds, and runs the main job.
# Once the virtual lab is there, it builds a lab, runs the Recall journey on a device and tears the lab down.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "quickstart: run as root (sudo): the virtual lab builds network namespaces" >&2
  exit 2
fi
packages=(openssh-server openssh-client iptables iproute2 bzip2 lbzip2 tar curl dnsutils procps psmisc
  ca-certificates libnss3-tools chromium)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build --silent

if [ -f dist/server/cli/lab.js ] && [ -f site_tests/test_RecallServer/control.ts ]; then
  lab=qs$(( $$ % 100000 ))
  trap 'node bin/lab.js down --name "$lab" >/dev/null 2>&1 || true' EXIT
  node bin/lab.js up --name "$lab" --devices 1
  node bin/lab.js run --name "$lab" -- sh -c \
    'node bin/run-remote.js --remote "${LAB_DEVICES%% *}" --ssh-key "$LAB_SSH_KEY" --known-hosts "$LAB_KNOWN_HOSTS" test_RecallServer -a "desktopui_UrlFetch num_iterations=3"'
else
  node bin/autoserv.js site_tests/dummy_PassServer/control.ts
fi
