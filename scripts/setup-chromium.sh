#!/usr/bin/env bash
# Installs Debian's chromium for the status page's browser test (npm run test:browser), which
# drives it with playwright-core: no browser download, only the distribution's package.
# Idempotent; needs root and Debian's archive.
set -euo pipefail
if [ ! -x /usr/bin/chromium ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
/usr/bin/chromium --version
