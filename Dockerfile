# syntax=docker/dockerfile:1
# Every Python package comes from a hashed lock file (pip --require-hashes): a changed or substituted download
# fails the build. Regenerate the locks after changing pyproject.toml's dependencies (README, "Data protection").
FROM python:3.11-slim AS build
WORKDIR /src
COPY requirements-build.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements-build.lock
COPY pyproject.toml README.md babel.cfg ./
COPY bot ./bot
COPY handlers ./handlers
COPY locales ./locales
RUN pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /dist .

FROM python:3.11-slim
# Read aloud: espeak-ng's voices and ffmpeg for OGG/Opus (Debian packages; Piper voices are mounted, never fetched).
RUN apt-get update && apt-get install -y --no-install-recommends espeak-ng ffmpeg && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 kimbot
WORKDIR /app
COPY requirements.lock /tmp/
RUN pip install --no-cache-dir --require-hashes -r /tmp/requirements.lock && rm /tmp/requirements.lock
COPY --from=build /dist/*.whl /tmp/
# kimbot itself without dependencies (they are all in the lock); the catalogs (kimbot's, the example county's and
# the report's) are compiled now, as root, into the installed package, so the non-root user never writes there.
RUN pip install --no-cache-dir --no-deps /tmp/*.whl && rm /tmp/*.whl \
 && python -c "from bot.core.i18n import ensure_compiled, source_catalog_dir; from pathlib import Path; [ensure_compiled(source_catalog_dir(), Path('/tmp/unused'), domain=d) for d in ('messages', 'county', 'reporting')]"
USER kimbot
ENV KIMBOT_DATA_DIR=/home/kimbot/var
CMD ["kimbot", "run"]
