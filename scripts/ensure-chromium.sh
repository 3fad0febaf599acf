#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests when it is missing.
# The tests drive /usr/bin/chromium through Playwright: Playwright's own
# browser download cannot run on machines that reach only package registries.
# Without Chromium the browser tests skip; every other test still runs.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
    exit 0
fi

warn() {
    echo "warning: $1; the browser tests will skip." >&2
    echo "  to run them, install Debian's chromium package and re-run." >&2
    exit 0
}

command -v apt-get >/dev/null 2>&1 || warn "Chromium is missing and apt-get is not here"
[ "$(id -u)" -eq 0 ] || warn "Chromium is missing and installing it needs root"

export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet: fetch them only then.
if ! apt-cache show chromium >/dev/null 2>&1; then
    echo "updating the package lists to find chromium"
    apt-get update -qq || warn "apt-get update failed"
fi
echo "installing chromium"
apt-get install -y -qq --no-install-recommends chromium >/dev/null \
    || warn "apt-get install chromium failed"
command -v chromium >/dev/null 2>&1 || warn "chromium is still not on PATH"
