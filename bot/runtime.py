"""Running kimbot: polling or webhook, the scheduler, and a small HTTP server for /healthz and /metrics
(and, in webhook mode, the webhook itself). Stops cleanly on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hmac
import json
import logging
import signal
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, make_url, select, text
from sqlalchemy.exc import SQLAlchemyError

from bot.app import ALLOWED_UPDATES, App
from bot.db.models_outbox import OutboxMessage
from bot.ops import metrics
from bot.telegram.inbound import UpdateJournal, UpdateProcessor, poll

log = logging.getLogger("kimbot")
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


async def health(app: App) -> tuple[bool, dict[str, Any]]:
    """Database reachable, Redis reachable (if used), scheduler running, outbox lag in seconds."""
    report: dict[str, Any] = {}
    healthy = True
    try:
        async with app.sessions() as session:
            await session.execute(text("SELECT 1"))
            oldest = await session.scalar(
                select(func.min(OutboxMessage.due_at)).where(OutboxMessage.status == "pending")
            )
        lag = max(0.0, (datetime.now(UTC) - oldest).total_seconds()) if oldest else 0.0
        report["database"] = "ok"
        report["outbox_lag_seconds"] = round(lag, 1)
    except (SQLAlchemyError, OSError) as error:
        healthy = False
        report["database"] = f"error: {type(error).__name__}"
    if app.settings.redis_url:
        redis = getattr(app.storage, "redis", None)
        try:
            await redis.ping()  # type: ignore[union-attr]
            report["redis"] = "ok"
        except (OSError, AttributeError, ConnectionError) as error:
            healthy = False
            report["redis"] = f"error: {type(error).__name__}"
    if app.worker is None:  # `run --no-scheduler`: this process answers updates, a `kimbot worker` runs the jobs
        report["scheduler"] = "in the worker"
    else:
        report["scheduler"] = "running" if app.scheduler.running else "stopped"
        healthy = healthy and app.scheduler.running
    return healthy, report


async def refresh_outbox_depth(app: App) -> None:
    async with app.sessions() as session:
        rows = (await session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))).all()
    metrics.OUTBOX_DEPTH.clear()
    for status, count in rows:
        metrics.OUTBOX_DEPTH.labels(status).set(count)


def build_web_app(app: App, processor: UpdateProcessor | None = None, secret: str | None = None) -> web.Application:
    web_app = web.Application()

    async def healthz(request: web.Request) -> web.Response:
        healthy, report = await health(app)
        return web.json_response(report, status=200 if healthy else 503)

    async def prometheus(request: web.Request) -> web.Response:
        with contextlib.suppress(SQLAlchemyError, OSError):
            await refresh_outbox_depth(app)
        return web.Response(body=generate_latest(metrics.REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def webhook(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=403)
        try:
            raw = await request.json()
            int(raw["update_id"])
        except (ValueError, KeyError, TypeError, json.JSONDecodeError):
            return web.Response(status=400)
        assert processor is not None
        # Journalled before the 200: if we crash now, the update is handled after the restart.
        for fresh in await processor.journal.record([raw]):
            processor.submit(fresh)
        return web.Response(status=200)

    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", prometheus)
    if processor is not None:
        web_app.router.add_post(WEBHOOK_PATH, webhook)
    return web_app


async def _serve(web_app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


def _health_address(runner: web.AppRunner) -> str:
    """Where /healthz really listens (HTTP_PORT=0, as in the demo and the tests, picks a free port)."""
    host, port = runner.addresses[0][:2]
    return f"http://{host}:{port}/healthz"


def _database(app: App) -> str:
    return make_url(app.settings.database_url).render_as_string(hide_password=True)


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


async def run_worker(app: App, *, stop: asyncio.Event | None = None) -> None:
    """A worker process: the scheduler (outbox drain, cron jobs) and /healthz, no updates from Telegram.
    Several may run side by side on PostgreSQL: outbox claims are leases, cron jobs take an advisory lock."""
    stop = stop or asyncio.Event()
    _stop_on_signals(stop)
    runner = await _serve(build_web_app(app), app.settings.http_host, app.settings.http_port)
    _freeze_startup_objects()
    app.scheduler.start()
    log.info(
        "kimbot worker is running: health on %s, database %s. Stop with Ctrl+C.",
        _health_address(runner),
        _database(app),
    )
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        gc.unfreeze()


def _freeze_startup_objects() -> None:
    """Move everything built at start-up (aiogram's ~600 pydantic models, SQLAlchemy's mappers, catalogs) out of
    the garbage collector's reach. A full collection otherwise walks them all and paused the bot for 0.3–0.5 s
    every few hundred updates (the p99 latency this cost: bench/README.md)."""
    gc.collect()
    gc.freeze()


async def run(
    app: App, *, webhook: bool = False, stop: asyncio.Event | None = None, start_scheduler: bool = True
) -> None:
    """Run until `stop` is set (or a signal arrives): updates are journalled, unfinished ones resumed.
    With start_scheduler=False the process only answers updates (a separate `kimbot worker` sends)."""
    stop = stop or asyncio.Event()
    _stop_on_signals(stop)
    settings = app.settings
    processor = UpdateProcessor(app.dispatcher, app.bot, UpdateJournal(app.sessions))
    await app.publish_commands()
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    if webhook:
        if not settings.webhook_url or not secret:
            raise ValueError("webhook mode needs WEBHOOK_URL and WEBHOOK_SECRET")
        await app.bot.set_webhook(
            settings.webhook_url.rstrip("/") + WEBHOOK_PATH,
            secret_token=secret,
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=False,
        )
    else:
        await app.bot.delete_webhook(drop_pending_updates=False)
    runner = await _serve(
        build_web_app(app, processor if webhook else None, secret), settings.http_host, settings.http_port
    )
    _freeze_startup_objects()
    await processor.resume()
    if start_scheduler and not app.scheduler.running:
        app.scheduler.start()
    log.info(
        "kimbot is running (%s): health on %s, database %s. Stop with Ctrl+C.",
        "webhook" if webhook else "polling",
        _health_address(runner),
        _database(app),
    )
    try:
        if webhook:
            await stop.wait()
        else:
            await poll(processor, ALLOWED_UPDATES, stop, polling_timeout=settings.polling_timeout)
    finally:
        await processor.drain()
        await runner.cleanup()
        gc.unfreeze()
