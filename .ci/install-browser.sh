#!/usr/bin/env bash
# Installs what the browser tests (dev.flock.browser.BrowserIT) need: Debian's chromium when
# /usr/bin/chromium is missing, and playwright-core from src/test/browser/package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
fi
/usr/bin/chromium --version

if ! command -v node >/dev/null 2>&1; then
  echo "install-browser: node (20 or later) is required" >&2
  exit 1
fi
(cd src/test/browser && npm ci --no-audit --no-fund)
