#!/bin/sh
# Installs Debian's Chromium (used by the `b3 report` browser test) when it is missing.
# Idempotent: does nothing when /usr/bin/chromium already exists. Must run as root (no sudo).
set -eu

if [ -x /usr/bin/chromium ]; then
  echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-chromium.sh: must run as root to apt-get install chromium" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends chromium fonts-dejavu-core

if [ ! -x /usr/bin/chromium ]; then
  echo "install-chromium.sh: apt-get finished but /usr/bin/chromium is still missing" >&2
  exit 1
fi
echo "chromium installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
