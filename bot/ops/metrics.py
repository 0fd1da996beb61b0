"""Prometheus metrics (prometheus_client). Counters live in this process; the outbox depth is read from the
database when /metrics is scraped."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry()

UPDATES = Counter("kimbot_updates_total", "Telegram updates handled, by type", ["type"], registry=REGISTRY)
HANDLER_SECONDS = Histogram(
    "kimbot_handler_seconds",
    "Time to handle one update, by type",
    ["type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
DUPLICATE_UPDATES = Counter(
    "kimbot_duplicate_updates_total", "Updates dropped because their update_id was seen before", registry=REGISTRY
)
UPDATE_RETRIES = Counter(
    "kimbot_update_retries_total", "Updates handled again after failing on an outage", registry=REGISTRY
)
OUTBOX_DEPTH = Gauge("kimbot_outbox_messages", "Outbox rows by status", ["status"], registry=REGISTRY)
DELIVERIES = Counter("kimbot_deliveries_total", "Outbox deliveries by outcome", ["outcome"], registry=REGISTRY)
TOO_MANY_REQUESTS = Counter(
    "kimbot_telegram_429_total", "429 Too Many Requests answers from Telegram", registry=REGISTRY
)
