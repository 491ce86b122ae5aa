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

# playwright-core (package-lock.json) declares node >= 20; Debian 12's own nodejs is 18
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' 2>/dev/null; then
  echo "install-browser: Node.js 20 or later is required (found: $(node --version 2>/dev/null || echo none));" \
    "Debian 12's nodejs is 18: install Node 20+ (for example from NodeSource) or use Debian 13" >&2
  exit 1
fi
(cd src/test/browser && npm ci --no-audit --no-fund)
