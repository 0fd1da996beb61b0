# syntax=docker/dockerfile:1
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md babel.cfg ./
COPY bot ./bot
COPY handlers ./handlers
COPY locales ./locales
RUN pip install --no-cache-dir build Babel \
 && pybabel compile -d locales -D messages \
 && python -m build --wheel --outdir /dist

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 kimbot
WORKDIR /app
COPY --from=build /dist/*.whl /tmp/
RUN pip install --no-cache-dir /tmp/*.whl && rm /tmp/*.whl \
 && python -c "from bot.i18n import ensure_compiled, source_catalog_dir; from pathlib import Path; ensure_compiled(source_catalog_dir(), Path('/tmp/unused'))"
USER kimbot
ENV KIMBOT_DATA_DIR=/home/kimbot/var
CMD ["kimbot", "run"]
