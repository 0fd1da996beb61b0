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

# Read aloud (handlers/read_aloud.py) synthesises with espeak-ng and encodes OGG/Opus with ffmpeg; its tests use both.
if ! command -v espeak-ng >/dev/null 2>&1 || ! command -v ffmpeg >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq espeak-ng ffmpeg
  else
    echo "Install espeak-ng and ffmpeg for the read-aloud tests, e.g. sudo apt-get install espeak-ng ffmpeg" >&2
  fi
fi

python3 -m venv .venv
.venv/bin/pip install -q -e '.[test]'
exec .venv/bin/pytest "$@"
