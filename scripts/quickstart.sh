#!/usr/bin/env bash
# The quick start: installs what a fresh Debian machine lacks, builds, then builds a virtual lab, runs the Recall
# journey on its device (record once, play back twice) and tears the lab down.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "quickstart: run as root (sudo): the virtual lab builds network namespaces" >&2
  exit 2
fi
bash scripts/install-system-packages.sh
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build --silent

lab=qs$(( $$ % 100000 ))
trap 'node bin/lab.js down --name "$lab" >/dev/null 2>&1 || true' EXIT
node bin/lab.js up --name "$lab" --devices 1
node bin/lab.js run --name "$lab" -- sh -c \
  'node bin/run-remote.js --remote "${LAB_DEVICES%% *}" --ssh-key "$LAB_SSH_KEY" --known-hosts "$LAB_KNOWN_HOSTS" test_RecallServer -a "desktopui_UrlFetch num_iterations=3"'
