#!/usr/bin/env bash
# Installs what the browser tests (dev.flock.browser.BrowserIT) need: Debian's chromium when
# /usr/bin/chromium is missing, and playwright-core from src/test/browser/package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
/usr/bin/chromium --version

# playwright-core is pinned to 1.61.0, the last release that declares node >= 18 (Debian 12's nodejs is 18.19;
# 1.62 and later want 20)
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' 2>/dev/null; then
  echo "install-browser: Node.js 18 or later is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi
(cd src/test/browser && npm ci --no-audit --no-fund)
