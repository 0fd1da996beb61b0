#!/bin/sh
# The README's test command: set up everything on a fresh machine, then run the suite.
# SQLite by default; PostgreSQL/Redis when DATABASE_URL / REDIS_URL are set. Extra arguments go to pytest.
set -eu
cd "$(dirname "$0")/.."

# The demo test drives the page in headless Chromium (Debian's packages; needs root for apt-get).
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq chromium chromium-driver fonts-noto-color-emoji
  else
    echo "Install Chromium and its driver for the demo test, e.g. sudo apt-get install chromium chromium-driver" >&2
  fi
fi

python3 -m venv .venv
.venv/bin/pip install -q -e '.[test]'
exec .venv/bin/pytest "$@"
