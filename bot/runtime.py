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

from aiogram.exceptions import TelegramUnauthorizedError
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.exceptions import RedisError
from sqlalchemy import func, make_url, select, text
from sqlalchemy.exc import SQLAlchemyError

from bot.app import ALLOWED_UPDATES, App
from bot.db.models_outbox import OutboxMessage
from bot.ops import metrics
from bot.telegram.inbound import TokenRejected, UpdateJournal, UpdateProcessor, is_passing, poll

log = logging.getLogger("kimbot")
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
CHECK_SECONDS = 5.0  # a health check waits no longer for the database or Redis: a cut network hangs, not fails


async def health(app: App) -> tuple[bool, dict[str, Any]]:
    """Database reachable, Redis reachable (if used), scheduler running, outbox lag in seconds."""
    report: dict[str, Any] = {}
    healthy = True
    try:
        async with asyncio.timeout(CHECK_SECONDS), app.sessions() as session:
            await session.execute(text("SELECT 1"))
            oldest = await session.scalar(
                select(func.min(OutboxMessage.due_at)).where(OutboxMessage.status == "pending")
            )
        lag = max(0.0, (datetime.now(UTC) - oldest).total_seconds()) if oldest else 0.0
        report["database"] = "ok"
        report["outbox_lag_seconds"] = round(lag, 1)
    except (SQLAlchemyError, OSError, TimeoutError) as error:
        healthy = False
        report["database"] = f"error: {type(error).__name__}"
    if app.settings.redis_url:
        redis = getattr(app.storage, "redis", None)
        try:
            async with asyncio.timeout(CHECK_SECONDS):
                await redis.ping()  # type: ignore[union-attr]
            report["redis"] = "ok"
        except (OSError, AttributeError, TimeoutError, RedisError) as error:
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
        try:
            fresh_updates = await processor.journal.record([raw])
        except Exception as error:
            if not is_passing(error):
                raise
            # The database is unreachable or locked: Telegram sends the update again later.
            log.warning("cannot journal update %s (%s); answering 503", raw["update_id"], type(error).__name__)
            return web.Response(status=503)
        for fresh in fresh_updates:
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


def _hook_data(app: App) -> dict[str, Any]:
    """What startup and shutdown handlers may ask for by name, as in aiogram's own start_polling."""
    return {**app.dispatcher.workflow_data, "dispatcher": app.dispatcher, "bot": app.bot, "bots": [app.bot]}


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
    With start_scheduler=False the process only answers updates (a separate `kimbot worker` sends).
    Telegram refusing the token (401) stops it with `TokenRejected` (a SystemExit that says why)."""
    try:
        await _run(app, webhook=webhook, stop=stop, start_scheduler=start_scheduler)
    except TelegramUnauthorizedError:
        log.error("Telegram refused the bot token (401 Unauthorized); stopping")
        raise TokenRejected() from None
    except TokenRejected:
        log.error("Telegram refused the bot token (401 Unauthorized); stopping")
        raise


async def _run(app: App, *, webhook: bool, stop: asyncio.Event | None, start_scheduler: bool) -> None:
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
    # What the routers registered for start and stop (messages held by flood protection before a restart go out
    # now): aiogram fires these only from its own start_polling, which kimbot does not use.
    await app.dispatcher.emit_startup(**_hook_data(app))
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
            rejected = asyncio.create_task(processor.token_rejected.wait())
            stopped = asyncio.create_task(stop.wait())
            await asyncio.wait({rejected, stopped}, return_when=asyncio.FIRST_COMPLETED)
            rejected.cancel()
            stopped.cancel()
            if processor.token_rejected.is_set():
                raise TokenRejected()
        else:
            await poll(processor, ALLOWED_UPDATES, stop, polling_timeout=settings.polling_timeout)
    finally:
        await processor.drain()
        await app.dispatcher.emit_shutdown(**_hook_data(app))
        await runner.cleanup()
        gc.unfreeze()
