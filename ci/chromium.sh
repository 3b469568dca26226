#!/usr/bin/env bash
# Makes sure Debian's Chromium is there for the browser tests (test/browser), and
# prints its path. playwright-core drives it; no browser build is ever downloaded,
# so it comes from Debian's packages like Redis and ClickHouse do.
source "$(dirname "$0")/lib.sh"

if [ ! -x "${QUARTILE_CHROMIUM:-/usr/bin/chromium}" ]; then
  # Fonts are only a recommendation of the package, and without them the page's
  # text would be drawn as boxes in the screenshots.
  apt_install chromium fonts-liberation
fi
[ -x "${QUARTILE_CHROMIUM:-/usr/bin/chromium}" ] || die "chromium: not found after apt-get install; set QUARTILE_CHROMIUM to its path"
echo "${QUARTILE_CHROMIUM:-/usr/bin/chromium}"
