#!/usr/bin/env bash
# Install Debian's headless-capable Chromium for the browser tests (tests/report/test_browser.py)
# when /usr/bin/chromium is missing. Idempotent and quiet; needs root and apt-get. Exit status:
# 0 installed (or already there), 1 cannot install here (not root, no apt-get, apt failed).
set -euo pipefail
CHROMIUM=/usr/bin/chromium
if [[ -x "$CHROMIUM" ]]; then
    exit 0
fi
if [[ "$(id -u)" != 0 ]]; then
    echo "install-chromium: not root, cannot install $CHROMIUM" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null; then
    echo "install-chromium: no apt-get, cannot install $CHROMIUM" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; then
    # The package lists may be missing or stale (a fresh container): refresh them once.
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
[[ -x "$CHROMIUM" ]]
