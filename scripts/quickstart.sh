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
# autoserv, run-remote, lab, recall, packager, … on PATH from any folder (links into npm's global bin folder).
npm link --ignore-scripts --no-audit --no-fund >/dev/null
export PATH="$(npm prefix -g)/bin:$PATH"   # already there on most installs; sudo may have trimmed it

lab=qs$(( $$ % 100000 ))
trap 'lab down --name "$lab" >/dev/null 2>&1 || true' EXIT
lab up --name "$lab" --devices 1
# Inside the lab, run-remote is on PATH and uses the lab's SSH key and known_hosts by default.
lab run --name "$lab" -- sh -c 'run-remote --remote "${LAB_DEVICES%% *}" test_RecallServer -a "desktopui_UrlFetch num_iterations=3"'
