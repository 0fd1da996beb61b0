"""`kimbot` command line: run, demo, db upgrade, check-config."""

from __future__ import annotations

import argparse
import asyncio
import sys

from pydantic import ValidationError

from bot.core.config import Settings, load_settings
from bot.core.county import County, CountyFileError, load_county
from bot.ops.logs import configure_logging

NO_TOKEN = """kimbot needs a Telegram bot token to run.

  1. In Telegram, talk to @BotFather, send /newbot and copy the token it gives you.
  2. Put it in a file named .env next to where you start kimbot:
         BOT_TOKEN=123456789:AA...
     (or export BOT_TOKEN in your shell), then start kimbot again.
"""

DEMO_INSTEAD = """No BOT_TOKEN is set, so kimbot starts its offline demo instead (`kimbot demo`): a Telegram emulator,
kimbot and a web page, all on this computer.

To run kimbot for real:
""" + NO_TOKEN.split("\n", 2)[2]


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ValidationError as exc:
        print("kimbot's settings are not valid:", file=sys.stderr)
        for error in exc.errors():
            name = error["loc"][0] if error["loc"] else "(settings)"
            print(f"  - {name}: {error['msg']}", file=sys.stderr)
        raise SystemExit(2) from None


def _worker(settings: Settings) -> int:
    from bot.app import build_app
    from bot.runtime import run_worker

    if settings.bot_token is None:
        print(NO_TOKEN, file=sys.stderr)
        return 2

    async def main() -> None:
        app = await build_app(settings)
        try:
            await run_worker(app)
        finally:
            await app.close()

    asyncio.run(main())
    return 0


def _run(settings: Settings, webhook: bool, scheduler: bool = True) -> int:
    from bot.app import build_app
    from bot.runtime import run

    if settings.bot_token is None:
        if webhook:  # a webhook needs Telegram; the demo only polls
            print(NO_TOKEN, file=sys.stderr)
            return 2
        print(DEMO_INSTEAD, file=sys.stderr)
        return _demo(settings)

    webhook = webhook or bool(settings.webhook_url)

    async def main() -> None:
        app = await build_app(settings, scheduler=scheduler, webhook=webhook)
        try:
            await run(app, webhook=webhook, start_scheduler=scheduler)
        finally:
            await app.close()

    asyncio.run(main())
    return 0


def _demo(settings: Settings) -> int:
    from bot.demo import DemoStartError, run_demo

    try:
        asyncio.run(run_demo(settings, announce=lambda line: print(line, flush=True)))
    except DemoStartError as exc:
        print(f"kimbot demo: {exc}", file=sys.stderr)
        return 1
    return 0


def _county_texts_report(settings: Settings, county: County) -> bool:
    """Print every missing or fuzzy translation of the county's texts, per language; True when all are there."""
    from bot.core.county import example_county_path
    from bot.core.county_catalog import describe, gaps, legacy_translations
    from bot.core.county_text import catalog_dir
    from bot.core.i18n import SUPPORTED_LOCALES

    directory = catalog_dir(settings.county_file)
    report = gaps(county, directory, SUPPORTED_LOCALES)
    complete = [item.locale for item in report if item.complete]
    print(f"County texts (gettext domain `county`, catalogs in {directory}):")
    print(f"  complete: {', '.join(complete) or 'none'}")
    for line in describe(report):
        print(line)
    inline = legacy_translations(settings.county_file or example_county_path())
    if inline:
        counts = ", ".join(f"{locale}: {len(texts)}" for locale, texts in sorted(inline.items()))
        print(
            f"  The county file still holds translations ({counts}); kimbot only reads its German texts. Move them "
            f"into the catalogs with: python scripts/update_catalogs.py --county {settings.county_file}"
        )
    return len(complete) == len(report)


def _check_config(settings: Settings, strict: bool = False) -> int:
    try:
        county = load_county(settings.county_file)
    except CountyFileError as exc:
        print(exc, file=sys.stderr)
        return 1
    token = "set" if settings.bot_token else "not set (kimbot run starts the offline demo)"
    print("Settings are valid.")
    print(f"  BOT_TOKEN: {token}")
    print(f"  TELEGRAM_API_URL: {settings.telegram_api_url}")
    print(f"  DATABASE_URL: {settings.database_url.split('@')[-1]}")
    print(f"  REDIS_URL: {'set' if settings.redis_url else 'not set (FSM state kept in the database)'}")
    print(f"  STAFF_CHAT_ID: {settings.staff_chat_id or 'not set'}")
    print(f"  TIMEZONE: {settings.timezone}")
    print(
        f"County file is valid: {county.name}, {len(county.municipalities)} municipalities, "
        f"{len(county.offices)} offices, {len(county.services)} services, {len(county.staff)} staff."
    )
    translated = _county_texts_report(settings, county)
    return 1 if strict and not translated else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kimbot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="run the bot (polling, or webhook) and the scheduler")
    run_parser.add_argument(
        "--webhook", action="store_true", help="serve a webhook (needs WEBHOOK_URL, WEBHOOK_SECRET)"
    )
    run_parser.add_argument(
        "--no-scheduler", action="store_true", help="only answer updates; a separate `kimbot worker` sends messages"
    )
    sub.add_parser("worker", help="run the scheduler and outbox delivery only (no Telegram updates)")
    sub.add_parser("demo", help="the offline demo: emulator, kimbot and a web page on 127.0.0.1 (DEMO_PORT)")
    db = sub.add_parser("db", help="database commands")
    db.add_argument("action", choices=["upgrade"])
    check = sub.add_parser("check-config", help="validate settings and the county file, list missing translations")
    check.add_argument("--strict", action="store_true", help="fail when a county text lacks a translation")
    args = parser.parse_args(argv)

    settings = _settings_or_exit()
    configure_logging(settings.log_level, settings.log_format)
    if args.command == "run":
        return _run(settings, args.webhook, scheduler=not args.no_scheduler)
    if args.command == "worker":
        return _worker(settings)
    if args.command == "demo":
        return _demo(settings)
    if args.command == "db":
        from bot.db.migrate import upgrade

        upgrade(settings.database_url)
        print("Database is at the newest schema.")
        return 0
    return _check_config(settings, strict=args.strict)


if __name__ == "__main__":
    raise SystemExit(main())
