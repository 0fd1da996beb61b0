"""Two kimbot processes behind one webhook URL (a round-robin proxy that also resends some updates to both, as
Telegram does after a timeout): every update is handled once, and a conversation hops between the processes with
its state intact (Redis, or the database, is shared). Run it on PostgreSQL + Redis for the production setup."""

from __future__ import annotations

import asyncio
import itertools
import signal
from typing import Any

from aiohttp import ClientSession, web

from bot.core.config import Settings
from bot.emulator import BotAPIEmulator
from bot.runtime import SECRET_HEADER, WEBHOOK_PATH
from tests.support import button_texts, free_port, start_webhook_process, wait_healthy

USERS = 40


async def _proxy(backends: list[int], port: int, resend_every: int = 4) -> web.AppRunner:
    turn = itertools.count()
    http = ClientSession()

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        headers = {SECRET_HEADER: request.headers.get(SECRET_HEADER, ""), "Content-Type": "application/json"}
        n = next(turn)
        targets = backends if n % resend_every == 0 else [backends[n % len(backends)]]
        statuses = []
        for target in targets:
            async with http.post(f"http://127.0.0.1:{target}{WEBHOOK_PATH}", data=body, headers=headers) as response:
                statuses.append(response.status)
        return web.Response(status=max(statuses))

    app = web.Application()
    app.router.add_post(WEBHOOK_PATH, forward)
    app.on_cleanup.append(lambda _: http.close())
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


async def test_two_processes_behind_one_webhook(settings: Settings, emulator: BotAPIEmulator) -> None:
    public, first_port, second_port = free_port(), free_port(), free_port()
    proxy = await _proxy([first_port, second_port], public)
    processes: list[asyncio.subprocess.Process] = []
    try:
        processes.append(await start_webhook_process(settings, emulator, first_port, public))
        await wait_healthy(first_port)
        processes.append(await start_webhook_process(settings, emulator, second_port, public))
        await wait_healthy(second_port)
        async with ClientSession() as http, http.get(f"http://127.0.0.1:{first_port}/healthz") as response:
            # An updates-only process is healthy without a scheduler of its own: the worker runs the jobs.
            assert response.status == 200 and (await response.json())["scheduler"] == "in the worker"
        users = list(range(30_001, 30_001 + USERS))
        for user_id in users:
            emulator.add_user(user_id, f"U{user_id}", language_code="en")
        for user_id in users:
            await emulator.send_message(user_id, "/help")
        await emulator.wait_for(lambda: all(emulator.sent(chat_id=u) for u in users), 60)

        # A conversation whose steps land on different processes keeps its state.
        walker = users[0]
        before = emulator.last_message_id(walker)
        await emulator.send_message(walker, "/start")
        notice = await emulator.wait_for_message(walker, after=before, contains="Your data at kimbot", timeout=30)
        before = emulator.last_message_id(walker)
        await emulator.press(walker, notice, text=button_texts(notice)[0])
        question = await emulator.wait_for_message(walker, after=before, contains="municipality", timeout=30)
        before = emulator.last_message_id(walker)
        await emulator.press(walker, question, text="Blankenheim")
        menu = await emulator.wait_for_message(walker, after=before, contains="What would you like to do?", timeout=30)
        assert len(button_texts(menu)) == 6
        await asyncio.sleep(1.0)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            await asyncio.wait_for(process.wait(), 30)
        await proxy.cleanup()
    help_replies = [c for c in emulator.sent(method="sendMessage") if c.chat_id in users and "/help" in str(c.params)]
    per_user = {u: sum(1 for c in help_replies if c.chat_id == u) for u in users}
    resent = USERS // 4
    print(f"\nupdates: {USERS} /help (+{resent} resent to both processes), answers: {len(help_replies)}")
    assert all(count == 1 for count in per_user.values()), per_user
    welcome: list[Any] = [m for m in emulator.bot_messages(walker) if "Welcome to kimbot" in m.get("text", "")]
    assert len(welcome) == 1
