"""The Bot API emulator: an aiohttp server speaking the Telegram Bot API on 127.0.0.1.

It keeps users, chats, forum topics and messages, answers the methods kimbot uses with Telegram's own
validation and error wording, records every call, lets a test (or the demo page) act as any user, and
injects faults on demand. Requests are parsed the way Telegram parses them: JSON bodies, url-encoded
and multipart forms alike, so aiogram and python-telegram-bot both talk to it unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, ClientError, ClientSession, ClientTimeout, web

from bot.emulator.markup import EntityError, html_to_text

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile refuses bigger files (https://core.telegram.org/bots/api#getfile)
CALLBACK_DATA_LIMIT = 64
_TOKEN = re.compile(r"^(\d+):[A-Za-z0-9_-]{20,}$")
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
_JSON_FIELDS = {
    "reply_markup",
    "entities",
    "caption_entities",
    "commands",
    "allowed_updates",
    "media",
    "reply_parameters",
    "link_preview_options",
    "scope",
    "message_ids",
}
_INT_FIELDS = {
    "chat_id",
    "from_chat_id",
    "message_id",
    "offset",
    "limit",
    "timeout",
    "message_thread_id",
    "reply_to_message_id",
    "cache_time",
    "max_connections",
    "icon_color",
    "user_id",
}
_BOOL_FIELDS = {
    "disable_notification",
    "protect_content",
    "show_alert",
    "drop_pending_updates",
    "allow_sending_without_reply",
    "disable_web_page_preview",
}
_SEND_METHODS = {
    "sendmessage",
    "senddocument",
    "sendphoto",
    "sendvoice",
    "sendvideo",
    "sendaudio",
    "sendlocation",
    "sendcontact",
    "copymessage",
    "forwardmessage",
    "sendsticker",
    "sendanimation",
    "sendvideonote",
}
_MEDIA_KINDS = {
    "senddocument": "document",
    "sendphoto": "photo",
    "sendvoice": "voice",
    "sendvideo": "video",
    "sendaudio": "audio",
    "sendanimation": "animation",
    "sendsticker": "sticker",
    "sendvideonote": "video_note",
}


class ApiError(Exception):
    """An error answer of the Bot API, with Telegram's code and wording."""

    def __init__(self, code: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


@dataclass
class Call:
    """One request to the emulator, as the bot made it, and how it was answered."""

    method: str
    params: dict[str, Any]
    at: float
    ok: bool = True
    error_code: int | None = None
    result: Any = None

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None


@dataclass
class Fault:
    method: str | None
    error: ApiError | None
    delay: float
    remaining: int
    chat_id: int | None
    kind: str = "api"  # "api": the Bot API's JSON error; "html": the edge's HTML page; "drop": no answer at all
    status: int = 0


class _EdgeFault(Exception):
    """Not the Bot API answering: Telegram's nginx edge (an HTML page) or a connection cut without an answer."""

    def __init__(self, kind: str, status: int):
        super().__init__(kind)
        self.kind = kind
        self.status = status


_NGINX_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1>"
    "</center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n"
)
_REASONS = {502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}


@dataclass
class _Bot:
    id: int
    token: str
    username: str
    updates: list[dict[str, Any]] = field(default_factory=list)
    next_update_id: int = 1
    withheld: set[int] = field(default_factory=set)  # queued but never to be seen: not allowed, or dropped
    webhook_url: str | None = None
    webhook_secret: str | None = None
    commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    new_update: asyncio.Event = field(default_factory=asyncio.Event)


class BotAPIEmulator:
    """A Telegram Bot API server for one or more bots, on 127.0.0.1.

    rate_limit: if set, at most this many send-type calls per sliding second, across all chats, as
    Telegram enforces for broadcasts; excess calls get 429 with retry_after.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, rate_limit: int | None = None):
        self.host = host
        self.port = port
        self.rate_limit = rate_limit
        self.calls: list[Call] = []
        self.users: dict[int, dict[str, Any]] = {}
        self.chats: dict[int, dict[str, Any]] = {}
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.topics: dict[tuple[int, int], dict[str, Any]] = {}
        self.files: dict[str, tuple[str, bytes]] = {}
        self.downloads: list[str] = []  # file ids fetched through /file/bot<token>/<path>, in order
        self.blocked: set[int] = set()
        self.callback_answers: dict[str, dict[str, Any] | None] = {}
        self.too_many_requests = 0
        self._bots: dict[str, _Bot] = {}
        self._faults: list[Fault] = []
        self._sent_times: deque[float] = deque()
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._webhook_tasks: set[asyncio.Task[None]] = set()
        self._closing = False
        self.app = web.Application(client_max_size=60 * 1024 * 1024)
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self.app.router.add_get("/file/bot{token}/{path:.*}", self._download)

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> str:
        self._closing = False
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:
            self.port = int(self._runner.addresses[0][1])
        return self.base_url

    async def stop(self) -> None:
        for task in list(self._webhook_tasks):
            task.cancel()
        # A long poll still waiting would hold the server's shutdown until its timeout: it answers now.
        self._closing = True
        for bot in self._bots.values():
            bot.new_update.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotAPIEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ what a test or the demo does

    def add_user(
        self, user_id: int, first_name: str = "Test", language_code: str | None = "en", username: str | None = None
    ) -> dict[str, Any]:
        user = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        if username:
            user["username"] = username
        self.users[user_id] = user
        self.chats.setdefault(user_id, {"id": user_id, "type": "private", "first_name": first_name})
        return user

    def add_group(self, chat_id: int, title: str = "Staff", forum: bool = True) -> dict[str, Any]:
        chat = {"id": chat_id, "type": "supergroup", "title": title, "is_forum": forum}
        self.chats[chat_id] = chat
        return chat

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends to their chat now fail with 403 (no update: see `set_blocked`)."""
        self.blocked.add(user_id)

    async def set_blocked(self, user_id: int, blocked: bool = True, token: str | None = None) -> None:
        """The user blocks (or unblocks) the bot in the app, as Telegram reports it: sends to their chat fail with
        403 (or work again) and the bot gets `my_chat_member` with the old and new status."""
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        if blocked:
            self.blocked.add(user_id)
        else:
            self.blocked.discard(user_id)
        me = self._bot_user(self._default_bot(token))
        await self._push_update(
            {
                "my_chat_member": {
                    "chat": self.chats[user_id],
                    "from": self.users[user_id],
                    "date": int(time.time()),
                    "old_chat_member": {"user": me, "status": old, **({"until_date": 0} if old == "kicked" else {})},
                    "new_chat_member": {"user": me, "status": new, **({"until_date": 0} if new == "kicked" else {})},
                }
            },
            token,
        )

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        self.topics.pop((chat_id, thread_id), None)

    def fail(
        self,
        method: str | None,
        code: int,
        description: str,
        *,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """The next `times` calls of `method` (any method if None) get this error."""
        self._faults.append(
            Fault(method and method.lower(), ApiError(code, description, retry_after), 0.0, times, chat_id)
        )

    def fail_html(self, method: str | None, status: int = 502, *, times: int = 1, chat_id: int | None = None) -> None:
        """The next `times` calls of `method` get the HTML page Telegram's nginx answers in an outage (502, 504)."""
        self._faults.append(Fault(method and method.lower(), None, 0.0, times, chat_id, "html", status))

    def drop(self, method: str | None, *, times: int = 1, chat_id: int | None = None) -> None:
        """The next `times` calls of `method` are cut off: the connection closes without an answer (before the
        call has any effect)."""
        self._faults.append(Fault(method and method.lower(), None, 0.0, times, chat_id, "drop"))

    def slow(self, method: str | None, seconds: float, *, times: int = 1) -> None:
        """The next `times` calls of `method` are answered after `seconds`."""
        self._faults.append(Fault(method and method.lower(), None, seconds, times, None))

    async def send_message(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        thread_id: int | None = None,
        reply_to: int | None = None,
        token: str | None = None,
        **content: Any,
    ) -> dict[str, Any]:
        """A user writes `text` (or other content) to the bot; returns the message as Telegram stores it."""
        chat = self.chats[chat_id if chat_id is not None else user_id]
        message = self._new_message(chat["id"], self.users[user_id], thread_id=thread_id, reply_to=reply_to)
        if text:
            message["text"] = text
            if text.startswith("/"):
                command = text.split()[0]
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        message.update(content)
        await self._push_update({"message": message}, token)
        return message

    async def edit_user_message(
        self, message: dict[str, Any], text: str | None = None, token: str | None = None, *, caption: str | None = None
    ) -> None:
        """The user edits a message of theirs (private chat or group topic); the bot gets `edited_message`."""
        if text is not None:
            message["text"] = text
        if caption is not None:
            message["caption"] = caption
        message["edit_date"] = int(time.time())
        await self._push_update({"edited_message": dict(message)}, token)

    async def send_media(
        self,
        user_id: int,
        kind: str,
        *,
        caption: str | None = None,
        chat_id: int | None = None,
        thread_id: int | None = None,
        reply_to: int | None = None,
        token: str | None = None,
        content: bytes = b"\x00" * 16,
        duration: int = 3,
    ) -> dict[str, Any]:
        """The user sends a photo, document, voice note, video, audio, location or contact (the file's bytes and
        length in seconds as given, for what the bot downloads)."""
        file_id = f"U{next(self._ids):08d}"
        self.files[file_id] = (f"{kind}-{file_id}", content)
        described: dict[str, Any] = {"file_id": file_id, "file_unique_id": file_id, "file_size": len(content)}
        kinds: dict[str, dict[str, Any]] = {
            "photo": {"photo": [described | {"width": 640, "height": 480}]},
            "document": {"document": described | {"file_name": "scan.pdf", "mime_type": "application/pdf"}},
            "voice": {"voice": described | {"duration": duration, "mime_type": "audio/ogg"}},
            "video": {"video": described | {"width": 640, "height": 480, "duration": duration}},
            "audio": {"audio": described | {"duration": duration, "mime_type": "audio/mpeg", "file_name": "a.mp3"}},
            "video_note": {"video_note": described | {"length": 240, "duration": duration}},
            "location": {"location": {"latitude": 50.66, "longitude": 6.79}},
            "contact": {"contact": {"phone_number": "+4922511234", "first_name": "Contact"}},
        }
        sent = kinds[kind]
        if caption is not None:
            sent["caption"] = caption
        return await self.send_message(
            user_id, "", chat_id=chat_id, thread_id=thread_id, reply_to=reply_to, token=token, **sent
        )

    def close_topic(self, chat_id: int, thread_id: int) -> None:
        """Someone closes the topic in the Telegram app: sends into it fail with TOPIC_CLOSED."""
        self.topics[(chat_id, thread_id)]["closed"] = True

    def topic_messages(self, chat_id: int, thread_id: int) -> list[dict[str, Any]]:
        """Messages (the bot's and people's) in a forum topic, oldest first."""
        return [
            m
            for (cid, _), m in sorted(self.messages.items())
            if cid == chat_id and m.get("message_thread_id") == thread_id
        ]

    async def press(
        self,
        user_id: int,
        message: dict[str, Any],
        *,
        text: str | None = None,
        data: str | None = None,
        forge: bool = False,
        token: str | None = None,
    ) -> str:
        """The user taps an inline button, found by its text or its data, on a message the bot sent.

        With forge=True any data is sent, as a modified client could (ownership tests).
        """
        current = self.messages.get((message["chat"]["id"], message["message_id"]), message)
        buttons = [b for row in current.get("reply_markup", {}).get("inline_keyboard", []) for b in row]
        chosen = None
        for button in buttons:
            if (text is not None and button.get("text") == text) or (
                data is not None and button.get("callback_data") == data
            ):
                chosen = button
                break
        if chosen is None and not forge:
            shown = [b.get("text") for b in buttons]
            raise LookupError(f"no button {text or data!r} on message {current['message_id']}: {shown}")
        callback_id = str(next(self._ids))
        self.callback_answers[callback_id] = None
        query = {
            "id": callback_id,
            "from": self.users[user_id],
            "message": current,
            "chat_instance": str(current["chat"]["id"]),
            "data": chosen["callback_data"] if chosen else data,
        }
        await self._push_update({"callback_query": query}, token)
        return callback_id

    def sent(self, chat_id: int | None = None, method: str | None = None) -> list[Call]:
        """Successful calls that put something into a chat, oldest first."""
        return [
            c
            for c in self.calls
            if c.ok and (method is None or c.method == method.lower()) and (chat_id is None or c.chat_id == chat_id)
        ]

    def bot_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """Messages the bot has in a chat now (after edits), oldest first."""
        return [m for (cid, _), m in sorted(self.messages.items()) if cid == chat_id and m["from"].get("is_bot")]

    def last_bot_message(self, chat_id: int) -> dict[str, Any]:
        messages = self.bot_messages(chat_id)
        if not messages:
            raise LookupError(f"the bot sent nothing to chat {chat_id}")
        return messages[-1]

    def update_ids(self, token: str | None = None) -> list[int]:
        """Every update_id queued for the bot so far that it is to receive (not left out by its allowed_updates, not
        dropped with drop_pending_updates): what a test waits for the bot to have handled."""
        bot = self._default_bot(token)
        return [i for i in range(1, bot.next_update_id) if i not in bot.withheld]

    def unconfirmed_updates(self, token: str | None = None) -> int:
        """Updates the bot has not yet confirmed with a getUpdates offset."""
        return len(self._default_bot(token).updates)

    def file_content(self, file_id: str) -> bytes:
        return self.files[file_id][1]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until predicate() is truthy (checked after every call the bot makes); return its value."""

        async def _wait() -> Any:
            async with self._changed:
                while not (value := predicate()):
                    await self._changed.wait()
                return value

        try:
            return await asyncio.wait_for(_wait(), timeout)
        except TimeoutError:
            raise TimeoutError(
                f"condition not met within {timeout} s; last calls: {[(c.method, c.chat_id) for c in self.calls[-8:]]}"
            ) from None

    async def wait_for_message(
        self, chat_id: int, *, after: int = 0, contains: str | None = None, timeout: float = 10.0
    ) -> dict[str, Any]:
        """The first bot message in `chat_id` with message_id > after (and containing `contains`)."""

        def find() -> dict[str, Any] | None:
            for message in self.bot_messages(chat_id):
                shown = message.get("text") or message.get("caption") or ""
                if message["message_id"] > after and (contains is None or contains in shown):
                    return message
            return None

        result: dict[str, Any] = await self.wait_for(find, timeout)
        return result

    def last_message_id(self, chat_id: int) -> int:
        messages = [mid for (cid, mid) in self.messages if cid == chat_id]
        return max(messages, default=0)

    # ------------------------------------------------------------------ HTTP

    async def _handle(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method = request.match_info["method"].lower()
        try:
            params = await self._params(request)
        except ValueError:
            return web.json_response(ApiError(400, "Bad Request: invalid request body").payload(), status=400)
        call = Call(method=method, params=params, at=time.monotonic())
        try:
            bot = self._bot(token)
            await self._apply_faults(method, params)
            self._check_rate(method)
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            self._check_markup(params.get("reply_markup"))
            result = await handler(bot, params)
            call.result = result
            body: dict[str, Any] = {"ok": True, "result": result}
            status = 200
        except ApiError as error:
            call.ok, call.error_code = False, error.code
            body, status = error.payload(), error.code
            if error.code == 429:
                self.too_many_requests += 1
        except _EdgeFault as fault:
            call.ok, call.error_code = False, fault.status or None
            self.calls.append(call)
            if fault.kind == "html":
                reason = _REASONS.get(fault.status, "Error")
                page = _NGINX_PAGE.format(status=fault.status, reason=reason)
                return web.Response(status=fault.status, text=page, content_type="text/html")
            if request.transport is not None:
                request.transport.close()
            raise web.HTTPServiceUnavailable() from None  # never reaches the client: the connection is gone
        if method != "getupdates" or body.get("result") or not call.ok:  # not the empty long polls
            self.calls.append(call)
        async with self._changed:
            self._changed.notify_all()
        return web.json_response(body, status=status)

    async def _params(self, request: web.Request) -> dict[str, Any]:
        raw: dict[str, Any] = {}
        if request.content_type == "application/json":
            raw = await request.json()
        elif request.content_type == "multipart/form-data":
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                if part.filename:
                    raw[part.name] = ("file", part.filename, bytes(await part.read()))
                else:
                    raw[part.name] = await part.text()
        else:
            raw = dict(await request.post()) if request.can_read_body else {}
            raw.update(request.query)
        # aiogram uploads a file as a part of its own and refers to it as "attach://<part name>".
        for key, value in list(raw.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                raw[key] = raw.pop(value.removeprefix("attach://"), value)
        return {key: self._coerce(key, value) for key, value in raw.items()}

    @staticmethod
    def _coerce(key: str, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if key in _JSON_FIELDS:
            return json.loads(value)
        if key in _INT_FIELDS:
            try:
                return int(value)
            except ValueError:
                return value
        if key in _BOOL_FIELDS:
            return value.lower() == "true"
        return value

    def _bot(self, token: str) -> _Bot:
        match = _TOKEN.match(token)
        if not match:
            raise ApiError(401, "Unauthorized")
        if token not in self._bots:
            bot_id = int(match.group(1))
            self._bots[token] = _Bot(id=bot_id, token=token, username=f"kimbot{bot_id}_bot")
        return self._bots[token]

    def _default_bot(self, token: str | None) -> _Bot:
        if token is not None:
            return self._bot(token)
        if not self._bots:
            raise RuntimeError("no bot has talked to the emulator yet")
        return next(iter(self._bots.values()))

    async def _apply_faults(self, method: str, params: dict[str, Any]) -> None:
        for fault in self._faults:
            if fault.remaining <= 0 or (fault.method is not None and fault.method != method):
                continue
            if fault.chat_id is not None and params.get("chat_id") != fault.chat_id:
                continue
            fault.remaining -= 1
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.error is not None:
                raise fault.error
            if fault.kind != "api":
                self._faults = [f for f in self._faults if f.remaining > 0]
                raise _EdgeFault(fault.kind, fault.status)
        self._faults = [f for f in self._faults if f.remaining > 0]

    def _check_rate(self, method: str) -> None:
        if self.rate_limit is None or method not in _SEND_METHODS:
            return
        now = time.monotonic()
        while self._sent_times and now - self._sent_times[0] >= 1.0:
            self._sent_times.popleft()
        if len(self._sent_times) >= self.rate_limit:
            raise ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
        self._sent_times.append(now)

    async def _download(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        if not _TOKEN.match(request.match_info["token"]):
            raise web.HTTPUnauthorized()
        for file_id, (name, content) in self.files.items():
            if path in (file_id, f"files/{file_id}"):
                self.downloads.append(file_id)
                return web.Response(body=content, headers={"Content-Disposition": f'attachment; filename="{name}"'})
        raise web.HTTPNotFound()

    # ------------------------------------------------------------------ updates

    async def _push_update(self, payload: dict[str, Any], token: str | None) -> None:
        bot = self._default_bot(token)
        update = {"update_id": bot.next_update_id, **payload}
        bot.next_update_id += 1
        if bot.webhook_url:
            task = asyncio.create_task(self._post_webhook(bot, update))
            self._webhook_tasks.add(task)
            task.add_done_callback(self._webhook_tasks.discard)
        else:
            bot.updates.append(update)
            bot.new_update.set()

    async def _post_webhook(self, bot: _Bot, update: dict[str, Any]) -> None:
        """Deliver like Telegram: retry until the webhook answers 2xx."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": bot.webhook_secret} if bot.webhook_secret else {}
        async with ClientSession(timeout=ClientTimeout(total=10)) as http:
            for attempt in range(20):
                # Like Telegram: any failure (refused, reset, cut off mid-answer, timeout) means try again later.
                with contextlib.suppress(OSError, asyncio.TimeoutError, ClientError):
                    async with http.post(bot.webhook_url or "", json=update, headers=headers) as response:
                        if response.status < 300:
                            return
                await asyncio.sleep(min(0.1 * 2**attempt, 2.0))

    async def _m_getupdates(self, bot: _Bot, params: dict[str, Any]) -> list[dict[str, Any]]:
        if bot.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = min(int(params.get("limit") or 100), 100)
        timeout = float(params.get("timeout") or 0)
        if offset:
            bot.updates = [u for u in bot.updates if u["update_id"] >= offset]
            async with self._changed:
                self._changed.notify_all()
        deadline = time.monotonic() + timeout
        while not bot.updates and time.monotonic() < deadline and not self._closing:
            bot.new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(bot.new_update.wait(), deadline - time.monotonic())
        allowed = params.get("allowed_updates")
        updates = bot.updates[:limit]
        if allowed:
            bot.withheld.update(u["update_id"] for u in updates if not any(k in u for k in allowed))
            updates = [u for u in updates if any(k in u for k in allowed)]
        return updates

    # ------------------------------------------------------------------ methods

    async def _m_getme(self, bot: _Bot, params: dict[str, Any]) -> dict[str, Any]:
        return self._bot_user(bot) | {
            "can_join_groups": True,
            "can_read_all_group_messages": True,
            "supports_inline_queries": False,
        }

    async def _m_setwebhook(self, bot: _Bot, params: dict[str, Any]) -> bool:
        url = params.get("url") or ""
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        bot.webhook_url, bot.webhook_secret = url or None, secret
        return True

    async def _m_deletewebhook(self, bot: _Bot, params: dict[str, Any]) -> bool:
        bot.webhook_url = bot.webhook_secret = None
        if params.get("drop_pending_updates"):
            bot.withheld.update(u["update_id"] for u in bot.updates)
            bot.updates.clear()
        return True

    async def _m_getwebhookinfo(self, bot: _Bot, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": bot.webhook_url or "", "has_custom_certificate": False, "pending_update_count": len(bot.updates)}

    async def _m_setmycommands(self, bot: _Bot, params: dict[str, Any]) -> bool:
        commands = params.get("commands") or []
        for command in commands:
            if not _COMMAND.match(command.get("command", "")):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        bot.commands[params.get("language_code") or ""] = commands
        return True

    async def _m_deletemycommands(self, bot: _Bot, params: dict[str, Any]) -> bool:
        bot.commands.pop(params.get("language_code") or "", None)
        return True

    async def _m_getchat(self, bot: _Bot, params: dict[str, Any]) -> dict[str, Any]:
        return self._chat(params)

    async def _m_sendmessage(self, bot: _Bot, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._writable_chat(params)
        text = self._render(params.get("text"), params.get("parse_mode"), TEXT_LIMIT, "message text")
        message = self._new_message(
            chat["id"], self._bot_user(bot), thread_id=self._thread(chat, params), reply_to=self._reply(chat, params)
        )
        message["text"] = text
        self._attach_markup(message, params)
        return message

    async def _send_media(self, bot: _Bot, params: dict[str, Any], kind: str) -> dict[str, Any]:
        chat = self._writable_chat(params)
        caption = params.get("caption")
        message = self._new_message(
            chat["id"], self._bot_user(bot), thread_id=self._thread(chat, params), reply_to=self._reply(chat, params)
        )
        if caption:
            message["caption"] = self._render(caption, params.get("parse_mode"), CAPTION_LIMIT, "message caption")
        media = params.get(kind)
        if media is None:
            raise ApiError(400, f"Bad Request: there is no {kind} in the request")
        if isinstance(media, tuple):
            _, filename, content = media
            file_id = f"F{next(self._ids):08d}"
            self.files[file_id] = (filename, content)
            described = {
                "file_id": file_id,
                "file_unique_id": file_id,
                "file_name": filename,
                "file_size": len(content),
            }
            if kind in ("voice", "audio"):  # Telegram reports the length; a voice note is OGG/Opus
                described["duration"] = int(params.get("duration") or 0)
                described["mime_type"] = "audio/ogg" if kind == "voice" else "audio/mpeg"
        else:
            file_id = str(media)
            described = {"file_id": file_id, "file_unique_id": file_id}
        message[kind] = [described | {"width": 1, "height": 1}] if kind == "photo" else described
        self._attach_markup(message, params)
        return message

    async def _m_senddocument(self, bot: _Bot, params: dict[str, Any]) -> dict[str, Any]:
        return await self._send_media(bot, params, "document")

    async def _m_sendphoto(self, bot: _Bot, params: dict[str, Any]) -> dict[str, Any]:
        return await self._send_media(bot, params, "photo")

    async def _m_sendvoice(self, bot: _Bot, params: dict[str, Any]) -> dict[str, Any]:
        return await self._send_media(bot, params, "voice")

    async def _m_sendaudio(self, bot: _Bot, params: dict[str, Any]) -> dict[str, Any]:
        return await self._send_media(bot, params, "audio")

    async def _m_sendvideo(self, bot: _Bot, params: dict[str, Any]) -> dict[str, Any]:
        return await self._send_media(bot, params, "video")

    async def _m_sendlocation(self, bot: _Bot, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._writable_chat(params)
        message = self._new_message(chat["id"], self._bot_user(bot), thread_id=self._thread(chat, params))
        message["location"] = {"latitude": float(params["latitude"]), "longitude": float(params["longitude"])}
        return message

    async def _m_copymessage(self, bot: _Bot, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._writable_chat(params)
        source = self.messages.get((int(params["from_chat_id"]), int(params["message_id"])))
        if source is None:
            raise ApiError(400, "Bad Request: message to copy not found")
        message = self._new_message(
            chat["id"], self._bot_user(bot), thread_id=self._thread(chat, params), reply_to=self._reply(chat, params)
        )
        for key in (
            "text",
            "caption",
            "photo",
            "document",
            "voice",
            "video",
            "audio",
            "location",
            "contact",
            "sticker",
            "animation",
            "video_note",
        ):
            if key in source:
                message[key] = source[key]
        try:
            if "caption" in params and not params["caption"]:
                message.pop("caption", None)
            elif "caption" in params:
                message["caption"] = self._render(
                    params["caption"], params.get("parse_mode"), CAPTION_LIMIT, "message caption"
                )
            if len(message.get("caption") or "") > CAPTION_LIMIT:
                raise ApiError(400, "Bad Request: message caption is too long")
        except ApiError:
            del self.messages[(chat["id"], message["message_id"])]  # a refused copy leaves nothing behind
            raise
        self._attach_markup(message, params)
        return {"message_id": message["message_id"]}

    async def _m_copymessages(self, bot: _Bot, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Copies up to 100 messages in their order; ids that no longer exist are skipped, like Telegram does."""
        ids = params.get("message_ids") or []
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise ApiError(400, "Bad Request: message_ids must contain 1-100 ids")
        if ids != sorted(ids):
            raise ApiError(400, "Bad Request: message identifiers must be in a strictly increasing order")
        results = []
        for message_id in ids:
            if (int(params["from_chat_id"]), int(message_id)) not in self.messages:
                continue
            single = {k: v for k, v in params.items() if k not in ("message_ids", "remove_caption")}
            results.append(await self._m_copymessage(bot, single | {"message_id": int(message_id)}))
        if not results:
            raise ApiError(400, "Bad Request: message to copy not found")
        return results

    async def _m_sendcontact(self, bot: _Bot, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._writable_chat(params)
        message = self._new_message(chat["id"], self._bot_user(bot), thread_id=self._thread(chat, params))
        message["contact"] = {"phone_number": str(params["phone_number"]), "first_name": str(params["first_name"])}
        return message

    async def _m_pinchatmessage(self, bot: _Bot, params: dict[str, Any]) -> bool:
        chat = self._chat(params)
        key = (chat["id"], int(params.get("message_id") or 0))
        if key not in self.messages:
            raise ApiError(400, "Bad Request: message to pin not found")
        self.messages[key]["pinned"] = True
        return True

    async def _m_unpinchatmessage(self, bot: _Bot, params: dict[str, Any]) -> bool:
        chat = self._chat(params)
        message = self.messages.get((chat["id"], int(params.get("message_id") or 0)))
        if message is not None:
            message.pop("pinned", None)
        return True

    async def _m_forwardmessage(self, bot: _Bot, params: dict[str, Any]) -> dict[str, Any]:
        result = await self._m_copymessage(bot, params)
        return self.messages[(int(params["chat_id"]), result["message_id"])]

    async def _m_editmessagetext(self, bot: _Bot, params: dict[str, Any]) -> dict[str, Any]:
        message = self._own_message(bot, params)
        text = self._render(params.get("text"), params.get("parse_mode"), TEXT_LIMIT, "message text")
        markup = params.get("reply_markup")
        if text == message.get("text") and markup == message.get("reply_markup"):
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        message["text"] = text
        self._attach_markup(message, params, replace=True)
        message["edit_date"] = int(time.time())
        return message

    async def _m_editmessagecaption(self, bot: _Bot, params: dict[str, Any]) -> dict[str, Any]:
        message = self._own_message(bot, params)
        message["caption"] = self._render(
            params.get("caption"), params.get("parse_mode"), CAPTION_LIMIT, "message caption"
        )
        self._attach_markup(message, params, replace=True)
        return message

    async def _m_editmessagereplymarkup(self, bot: _Bot, params: dict[str, Any]) -> dict[str, Any]:
        message = self._own_message(bot, params)
        markup = params.get("reply_markup")
        if markup == message.get("reply_markup") or (not markup and "reply_markup" not in message):
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        self._attach_markup(message, params, replace=True)
        return message

    async def _m_deletemessage(self, bot: _Bot, params: dict[str, Any]) -> bool:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.messages:
            raise ApiError(400, "Bad Request: message to delete not found")
        del self.messages[key]
        return True

    async def _m_answercallbackquery(self, bot: _Bot, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id"))
        if query_id not in self.callback_answers or self.callback_answers[query_id] is not None:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        if len(params.get("text") or "") > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.callback_answers[query_id] = {"text": params.get("text"), "show_alert": bool(params.get("show_alert"))}
        return True

    async def _m_createforumtopic(self, bot: _Bot, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        if not chat.get("is_forum"):
            raise ApiError(400, "Bad Request: the chat is not a forum")
        name = params.get("name") or ""
        if not 1 <= len(name) <= 128:
            raise ApiError(400, "Bad Request: TOPIC_NAME_INVALID")
        thread_id = self._next_message_id(chat["id"])
        topic = {"message_thread_id": thread_id, "name": name, "icon_color": int(params.get("icon_color") or 7322096)}
        self.topics[(chat["id"], thread_id)] = topic | {"closed": False}
        return topic

    async def _m_editforumtopic(self, bot: _Bot, params: dict[str, Any]) -> bool:
        topic = self._topic(params)
        if params.get("name"):
            topic["name"] = params["name"]
        return True

    async def _m_closeforumtopic(self, bot: _Bot, params: dict[str, Any]) -> bool:
        self._topic(params)["closed"] = True
        return True

    async def _m_reopenforumtopic(self, bot: _Bot, params: dict[str, Any]) -> bool:
        self._topic(params)["closed"] = False
        return True

    async def _m_deleteforumtopic(self, bot: _Bot, params: dict[str, Any]) -> bool:
        """The topic goes with every message in it, as in Telegram (the call is in `calls`, like every call)."""
        self._topic(params)
        chat_id, thread_id = int(params["chat_id"]), int(params["message_thread_id"])
        self.delete_topic(chat_id, thread_id)
        for key in [k for k, m in self.messages.items() if k[0] == chat_id and m.get("message_thread_id") == thread_id]:
            del self.messages[key]
        return True

    async def _m_getfile(self, bot: _Bot, params: dict[str, Any]) -> dict[str, Any]:
        file_id = params.get("file_id", "")
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        if len(self.files[file_id][1]) > DOWNLOAD_LIMIT:
            raise ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_size": len(self.files[file_id][1]),
            "file_path": f"files/{file_id}",
        }

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _bot_user(bot: _Bot) -> dict[str, Any]:
        return {"id": bot.id, "is_bot": True, "first_name": "kimbot", "username": bot.username}

    def _chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int) or chat_id not in self.chats:
            raise ApiError(400, "Bad Request: chat not found")
        return self.chats[chat_id]

    def _writable_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        if chat["type"] == "private" and chat["id"] in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _thread(self, chat: dict[str, Any], params: dict[str, Any]) -> int | None:
        thread_id = params.get("message_thread_id")
        if thread_id is None:
            return None
        topic = self.topics.get((chat["id"], int(thread_id)))
        if topic is None:
            raise ApiError(400, "Bad Request: message thread not found")
        if topic["closed"]:
            raise ApiError(400, "Bad Request: TOPIC_CLOSED")
        return int(thread_id)

    def _topic(self, params: dict[str, Any]) -> dict[str, Any]:
        topic = self.topics.get((int(params.get("chat_id") or 0), int(params.get("message_thread_id") or 0)))
        if topic is None:
            raise ApiError(400, "Bad Request: TOPIC_ID_INVALID")
        return topic

    def _reply(self, chat: dict[str, Any], params: dict[str, Any]) -> int | None:
        """The message replied to; None if it is gone and the sender allowed sending without the reply."""
        reply_to = self._reply_to(params)
        reply = params.get("reply_parameters")
        allowed = params.get("allow_sending_without_reply") or (
            isinstance(reply, dict) and reply.get("allow_sending_without_reply")
        )
        if reply_to is not None and allowed and (chat["id"], reply_to) not in self.messages:
            return None
        return reply_to

    @staticmethod
    def _reply_to(params: dict[str, Any]) -> int | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            return int(reply["message_id"])
        value = params.get("reply_to_message_id")
        return int(value) if value is not None else None

    def _own_message(self, bot: _Bot, params: dict[str, Any]) -> dict[str, Any]:
        message = self.messages.get((int(params.get("chat_id") or 0), int(params.get("message_id") or 0)))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message["from"]["id"] != bot.id:
            raise ApiError(400, "Bad Request: message can't be edited")
        return message

    def _render(self, text: Any, parse_mode: str | None, limit: int, what: str) -> str:
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, f"Bad Request: {what} is empty")
        if parse_mode and parse_mode.upper() == "HTML":
            try:
                text = html_to_text(text)
            except EntityError as error:
                raise ApiError(400, f"Bad Request: can't parse entities: {error}") from None
        if len(text.encode("utf-16-le")) // 2 > limit:  # Telegram counts UTF-16 code units
            raise ApiError(
                400,
                "Bad Request: message is too long" if what == "message text" else f"Bad Request: {what} is too long",
            )
        return text

    @staticmethod
    def _check_markup(markup: Any) -> None:
        if not isinstance(markup, dict):
            return
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: BUTTON_TEXT_INVALID")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode("utf-8")) <= CALLBACK_DATA_LIMIT:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")

    def _attach_markup(self, message: dict[str, Any], params: dict[str, Any], replace: bool = False) -> None:
        markup = params.get("reply_markup")
        if markup is None:
            if replace:
                message.pop("reply_markup", None)
            return
        if "inline_keyboard" in markup:
            if markup["inline_keyboard"]:
                message["reply_markup"] = markup
            else:
                message.pop("reply_markup", None)

    def _next_message_id(self, chat_id: int) -> int:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        return next(counter)

    def _new_message(
        self, chat_id: int, sender: dict[str, Any], *, thread_id: int | None = None, reply_to: int | None = None
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": self.chats[chat_id],
            "from": sender,
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        if reply_to is not None:
            original = self.messages.get((chat_id, reply_to))
            if original is None:
                raise ApiError(400, "Bad Request: message to be replied not found")
            message["reply_to_message"] = {k: v for k, v in original.items() if k != "reply_to_message"}
        self.messages[(chat_id, message["message_id"])] = message
        return message
