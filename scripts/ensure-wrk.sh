#!/usr/bin/env bash
# The HTTP benches drive the server with wrk (Debian's package, in C) where it is installed: the load generator
# shares the machine's cores with the server and the database, and wrk takes a fraction of autocannon's CPU for
# the same requests (bench/load.ts). When it is missing, install it if this user can (root with apt-get);
# otherwise say so and let the bench fall back to autocannon. PCN_NO_INSTALL=1 never installs.
set -uo pipefail
[ -x /usr/bin/wrk ] && exit 0
if [ -z "${PCN_NO_INSTALL:-}" ] && [ "$(id -u)" -eq 0 ] && command -v apt-get > /dev/null; then
  echo "bench: wrk is not installed; installing Debian's wrk for the HTTP load"
  DEBIAN_FRONTEND=noninteractive apt-get install -y wrk > /dev/null \
    || { apt-get update > /dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk > /dev/null; }
  [ -x /usr/bin/wrk ] && exit 0
fi
echo "bench: wrk is not installed (apt-get install -y wrk); the HTTP load runs on autocannon, which takes more of the machine's CPU" >&2
exit 0
