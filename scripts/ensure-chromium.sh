#!/usr/bin/env bash
# The browser journeys drive Debian's Chromium (never a downloaded browser). When it is missing, install it
# if this user can (root with apt-get), otherwise stop at once with the one command to run.
# CHROMIUM_PATH overrides the browser; PCN_NO_INSTALL=1 never installs (only says what to run).
set -uo pipefail
browser="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$browser" ] && exit 0
install='apt-get install -y chromium fonts-liberation'
if [ -z "${PCN_NO_INSTALL:-}" ] && [ "$(id -u)" -eq 0 ] && command -v apt-get > /dev/null; then
  echo "npm test: Chromium is not installed; installing Debian's chromium for the browser journeys"
  if DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-liberation > /dev/null \
    || { apt-get update > /dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-liberation > /dev/null; }; then
    [ -x "$browser" ] && exit 0
  fi
fi
[ "$(id -u)" -eq 0 ] || install="sudo $install"
echo "npm test: the browser journeys need Debian's Chromium at $browser; run: $install" >&2
exit 1
