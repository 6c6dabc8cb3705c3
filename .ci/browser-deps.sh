#!/usr/bin/env bash
# What the browser tests (tests/it/security/browser.rs) need: Debian's
# Chromium and its WebDriver. Without them those tests print a SKIPPED line
# and pass, so CI installs them here.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  echo "chromium and chromedriver present"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium chromium-driver
