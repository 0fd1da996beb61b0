"""The composition root: settings → county → database → i18n → FSM storage → dispatcher → bots → scheduler.

Tests, the CLI and the demo all build kimbot with these factories; nothing connects at import time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import DisabledEventIsolation, SimpleEventIsolation
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.core.config import Settings
from bot.core.county import County, load_county
from bot.core.county_text import CountyTexts, catalog_dir
from bot.core.i18n import DEFAULT_LOCALE, DOMAIN, ensure_compiled, source_catalog_dir
from bot.db.engine import create_engine, create_session_factory
from bot.db.migrate import upgrade_async
from bot.delivery.renderer import MessageRenderer
from bot.delivery.templates import booking as booking_templates
from bot.delivery.templates import broadcasts as broadcast_templates
from bot.delivery.templates import casework as casework_templates
from bot.delivery.templates import collect
from bot.delivery.templates import interpreters as interpreter_templates
from bot.delivery.templates import reminders as reminder_templates
from bot.delivery.templates import series as series_templates
from bot.delivery.templates import staff as staff_templates
from bot.delivery.worker import DeliveryWorker, WorkerConfig
from bot.jobs import escalation as escalation_templates
from bot.jobs.broadcast_progress import BroadcastProgress, register_progress_job
from bot.jobs.followups import FollowupJob, register_followup_job
from bot.jobs.held_delivery import HeldDelivery
from bot.jobs.reporting import ReportJobs, register_reporting_jobs
from bot.jobs.scheduler import Jobs, register_jobs
from bot.jobs.transcription import TranscriptionQueue
from bot.services import staff
from bot.services.speech import Speaker
from bot.services.transcription import SpeechClient
from bot.services.translator import Translator, build_translator
from bot.telegram.fsm_storage import FSM_TTL, DatabaseStorage
from bot.telegram.inbound import register_retries
from bot.telegram.isolation import OrderedEventIsolation
from bot.telegram.middlewares import (
    CallerMiddleware,
    ClientLocaleMiddleware,
    OneAtATimeMiddleware,
    UnitOfWorkMiddleware,
)
from bot.telegram.session import BotSession
from bot.telegram.throttle import Throttle
from bot.telegram.topics import ForumTopics
from handlers import build_routers, errors
from handlers.booking import interpreter as booking_interpreter
from handlers.handoff import templates as saved_replies
from handlers.help import publish_commands

if TYPE_CHECKING:
    from bot.delivery.sender import TelegramSender

log = logging.getLogger("kimbot")

# Updates kimbot handles; set explicitly so Telegram sends nothing else.
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]


def build_i18n(settings: Settings) -> I18n:
    path = ensure_compiled(source_catalog_dir(), settings.data_dir / "locales")
    return I18n(path=path, default_locale=DEFAULT_LOCALE, domain=DOMAIN)


def build_county_texts(settings: Settings) -> CountyTexts:
    """The county file's texts in every language (gettext domain `county`), compiled like kimbot's catalogs."""
    return CountyTexts.load(catalog_dir(settings.county_file), settings.data_dir / "county-locales")


def build_fsm_storage(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], *, webhook: bool = False
) -> tuple[BaseStorage, BaseEventIsolation]:
    """Redis in production (shared by several processes); the database otherwise. Both survive a restart.

    The per-chat lock is shared through Redis only behind a webhook, where several processes receive updates.
    Polling has one receiver by Telegram's rule (a second getUpdates caller gets 409 Conflict), so a lock in the
    process is enough and saves two Redis round trips per update."""
    if settings.redis_url:
        keys = DefaultKeyBuilder(prefix="kimbot:fsm", with_bot_id=True, with_destiny=True)
        # Keys expire a week after the last step: an abandoned booking's address does not stay (FSM_TTL).
        redis_storage = RedisStorage.from_url(settings.redis_url, key_builder=keys, state_ttl=FSM_TTL, data_ttl=FSM_TTL)
        if not webhook:
            return redis_storage, SimpleEventIsolation()
        shared = RedisEventIsolation(redis=redis_storage.redis, key_builder=keys)
        return redis_storage, OrderedEventIsolation(shared)  # one client's messages stay in order
    return DatabaseStorage(sessions), SimpleEventIsolation()


def build_bot(settings: Settings) -> Bot:
    if settings.bot_token is None:
        raise ValueError("BOT_TOKEN is not set")
    session = BotSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def build_dispatcher(
    settings: Settings,
    county: County,
    sessions: async_sessionmaker[AsyncSession],
    i18n: I18n,
    storage: BaseStorage,
    isolation: BaseEventIsolation,
    county_texts: CountyTexts | None = None,
) -> Dispatcher:
    topics = ForumTopics(settings, county, i18n)  # the handoff's staff forum, bound to each update's bot and session
    dp = Dispatcher(
        storage=storage,
        events_isolation=DisabledEventIsolation(),  # the lock is OneAtATimeMiddleware's, around the commit
        settings=settings,
        county=county,
        county_texts=county_texts or build_county_texts(settings),
        sessions=sessions,
        i18n=i18n,
        translator=build_translator(  # None when machine translation is off
            settings.translate_url,
            llm_url=settings.translate_llm_url,
            llm_model=settings.translate_llm_model,
            llm_api_key=settings.translate_llm_api_key.get_secret_value() if settings.translate_llm_api_key else None,
        ),
        topics=topics,
        speaker=Speaker(piper_dir=settings.piper_voices_dir, cache_bytes=settings.read_aloud_cache_mb * 2**20),
        held_delivery=HeldDelivery(sessions, topics),  # flood protection's held messages, one batch per client
        report_jobs=ReportJobs(sessions, settings, county),  # /report: reports built off the update path
        disable_fsm=True,  # registered below, inside the unit of work, so FSM reads use the update's session
    )
    if dp["translator"] is not None:
        dp.startup.register(dp["translator"].start)  # asks the servers which languages they cover
    if settings.speech_url:  # voice notes transcribed for staff, off the update path
        dp["transcriptions"] = queue = build_transcriptions(settings, sessions, topics, dp["translator"])
        dp.startup.register(queue.start)
        dp.shutdown.register(queue.close)
    dp.update.outer_middleware(OneAtATimeMiddleware(dp.fsm, isolation))
    dp.update.outer_middleware(UnitOfWorkMiddleware(sessions))
    dp.update.outer_middleware(dp.fsm)
    dp.update.outer_middleware(CallerMiddleware(frozenset(m.telegram_id for m in county.staff)))
    ClientLocaleMiddleware(i18n).setup(dp)
    dp["throttle"] = throttle = Throttle()  # inside the locale middleware: its notices are in the caller's language
    throttle.setup(dp)
    register_retries(dp)  # before the apology: an update that failed on an outage is handled again
    errors.register(dp)
    # /t before the topic router's commands; /interpreter (staff) before the areas
    dp.include_routers(saved_replies.build_router(), booking_interpreter.build_staff_router(), *build_routers())
    return dp


def build_transcriptions(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], topics: ForumTopics, translator: Translator | None
) -> TranscriptionQueue:
    key = settings.speech_api_key.get_secret_value() if settings.speech_api_key else None
    timeout = settings.speech_timeout
    speech = SpeechClient(settings.speech_url or "", settings.speech_model, api_key=key, timeout=timeout)
    return TranscriptionQueue(settings, sessions, topics, translator, speech)


def build_scheduler(settings: Settings) -> AsyncIOScheduler:
    """Jobs are registered by the features that need them, with fixed ids; their state lives in the database."""
    return AsyncIOScheduler(timezone=settings.tz, job_defaults={"coalesce": True, "misfire_grace_time": 300})


def build_delivery(
    settings: Settings,
    county: County,
    sessions: async_sessionmaker[AsyncSession],
    i18n: I18n,
    county_texts: CountyTexts | None = None,
) -> tuple[TelegramSender, DeliveryWorker]:
    """The outbox drain: PTB sends, aiogram's catalogs render, the database holds the state. Imported here: a
    process that only answers updates (`run --no-scheduler`) does not load python-telegram-bot at all."""
    from bot.delivery.sender import TelegramSender, create_delivery_bot

    sender = TelegramSender(create_delivery_bot(settings))
    config = WorkerConfig(lease_seconds=settings.outbox_lease_seconds, staff_chat_id=settings.staff_chat_id)
    templates = collect(
        reminder_templates.TEMPLATES,
        booking_templates.TEMPLATES,
        broadcast_templates.TEMPLATES,
        staff_templates.TEMPLATES,
        casework_templates.TEMPLATES,
        escalation_templates.TEMPLATES,
        interpreter_templates.TEMPLATES,
        series_templates.TEMPLATES,
    )
    texts = county_texts or build_county_texts(settings)
    worker = DeliveryWorker(sessions, MessageRenderer(i18n, county, settings.tz, templates, texts), sender, config)
    return sender, worker


@dataclass
class App:
    settings: Settings
    county: County
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    i18n: I18n
    storage: BaseStorage
    isolation: BaseEventIsolation
    dispatcher: Dispatcher
    bot: Bot
    scheduler: AsyncIOScheduler
    closed: bool = field(default=False)
    # Outbound messages (reminders, alerts): python-telegram-bot behind the outbox drain job.
    sender: TelegramSender | None = None
    worker: DeliveryWorker | None = None
    # The handoff's deliveries of messages held by flood protection (tasks of this process).
    held_delivery: HeldDelivery | None = None
    # The county file's texts in every language (also in the dispatcher's data as `county_texts`).
    county_texts: CountyTexts = field(default_factory=CountyTexts)

    async def publish_commands(self) -> None:
        """The command menu Telegram shows, per language (the handlers' commands)."""
        await publish_commands(self.bot, self.i18n)

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.held_delivery is not None:
            await self.held_delivery.close()
        await self.dispatcher["report_jobs"].close()
        await self.storage.close()
        await self.isolation.close()
        await self.bot.session.close()
        if self.sender is not None:
            await self.sender.close()
        await self.engine.dispose()


async def prepare_database(settings: Settings, county: County) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    """Migrate to the newest schema, then sync staff from the county file."""
    await upgrade_async(settings.database_url)
    engine = create_engine(settings.database_url)
    sessions = create_session_factory(engine)
    async with sessions() as session, session.begin():
        await staff.sync_from_county(session, county)
    return engine, sessions


async def build_app(
    settings: Settings, county: County | None = None, *, scheduler: bool = True, webhook: bool = False
) -> App:
    """With scheduler=False the app only answers updates: no outbox delivery and no jobs (a `kimbot worker`
    elsewhere runs them). With webhook=True updates may reach several processes: the per-chat lock is shared."""
    county = county or load_county(settings.county_file)
    engine, sessions = await prepare_database(settings, county)
    i18n = build_i18n(settings)
    county_texts = build_county_texts(settings)
    storage, isolation = build_fsm_storage(settings, sessions, webhook=webhook)
    dispatcher = build_dispatcher(settings, county, sessions, i18n, storage, isolation, county_texts)
    jobs = build_scheduler(settings)
    bot = build_bot(settings)
    sender, worker = None, None
    if scheduler:
        sender, worker = build_delivery(settings, county, sessions, i18n, county_texts)
        forum = dispatcher["topics"]
        register_jobs(jobs, Jobs(settings, sessions, worker, county, bot=bot, storage=storage, topics=forum))
        register_progress_job(jobs, BroadcastProgress(bot, sessions, i18n, settings))
        register_reporting_jobs(jobs, dispatcher["report_jobs"], bot)
        register_followup_job(jobs, FollowupJob(settings, sessions))
    return App(
        settings=settings,
        county=county,
        engine=engine,
        sessions=sessions,
        i18n=i18n,
        storage=storage,
        isolation=isolation,
        dispatcher=dispatcher,
        bot=bot,
        scheduler=jobs,
        sender=sender,
        worker=worker,
        held_delivery=dispatcher["held_delivery"],
        county_texts=county_texts,
    )
