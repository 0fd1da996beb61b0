"""The offline demo's web page: a Telegram client in the browser, on top of the Bot API emulator.

It mounts a static page and a small JSON control API on the emulator's aiohttp app. The page is the Telegram
client – a phone-like private chat for one client and the staff forum group with its topics – and this module
acts for it through the emulator's public Python API only (`send_message`, `press`, `messages`, `topics`,
`chats`, `users`). Nothing in kimbot knows the page exists: kimbot polls the emulator as it polls Telegram.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from aiohttp import web

from bot.emulator.server import BotAPIEmulator

TEXT_LIMIT = 4096
ANSWER_WAIT = 3.0  # seconds the page waits for the bot's answer to a button tap (Telegram's spinner)
_STATIC = {
    "demo.html": "text/html",
    "demo.css": "text/css",
    "demo.js": "text/javascript",
}
# The page loads only its own files and talks only to this server.
_CSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
# Kinds of content a message can carry besides text, in the order the page names them.
_ATTACHMENTS = (
    "document",
    "photo",
    "voice",
    "video",
    "audio",
    "animation",
    "sticker",
    "video_note",
    "location",
    "contact",
)


@dataclass(frozen=True)
class StaffMember:
    """Someone the page can write as in the staff group."""

    user_id: int
    name: str


class DemoPage:
    """Routes for the page; one client at a time (a new one on request), any staff member of the group."""

    def __init__(
        self,
        emulator: BotAPIEmulator,
        *,
        staff_chat_id: int,
        staff: list[StaffMember],
        client_id: int = 5001,
        client_name: str = "Amal",
        title: str = "kimbot",
    ) -> None:
        self.emulator = emulator
        self.staff_chat_id = staff_chat_id
        self.staff = staff
        self.client_name = client_name
        self.title = title
        self._client_ids = itertools.count(client_id)
        self.client_id = next(self._client_ids)
        self.language: str | None = None
        emulator.add_user(self.client_id, client_name, language_code=None)

    def mount(self) -> None:
        """Add the routes; call before `emulator.start()` (aiohttp freezes the router on start)."""
        router = self.emulator.app.router
        router.add_get("/", self._index)
        router.add_get("/demo/static/{name}", self._static)
        router.add_get("/demo/api/state", self._state)
        router.add_post("/demo/api/send", self._send)
        router.add_post("/demo/api/press", self._press)
        router.add_post("/demo/api/language", self._language)
        router.add_post("/demo/api/new-client", self._new_client)

    # ------------------------------------------------------------------ pages

    async def _index(self, request: web.Request) -> web.Response:
        return self._file("demo.html")

    async def _static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in _STATIC:
            raise web.HTTPNotFound()
        return self._file(name)

    @staticmethod
    def _file(name: str) -> web.Response:
        body = (resources.files("bot.emulator") / "static" / name).read_bytes()
        return web.Response(
            body=body,
            content_type=_STATIC[name],
            charset="utf-8",
            headers={"Content-Security-Policy": _CSP, "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
        )

    # ------------------------------------------------------------------ control API

    async def _state(self, request: web.Request) -> web.Response:
        self._local_only(request)
        chat = self.emulator.chats.get(self.staff_chat_id, {})
        topics = [
            {"id": thread_id, "name": topic.get("name", ""), "closed": bool(topic.get("closed"))}
            for (chat_id, thread_id), topic in sorted(self.emulator.topics.items())
            if chat_id == self.staff_chat_id
        ]
        return web.json_response(
            {
                "title": self.title,
                "client": {"id": self.client_id, "name": self.client_name, "language": self.language or ""},
                "client_messages": self._chat_messages(self.client_id),
                "staff_chat": {"id": self.staff_chat_id, "title": chat.get("title", "Staff")},
                "staff": [{"id": member.user_id, "name": member.name} for member in self.staff],
                "topics": topics,
                "staff_messages": self._chat_messages(self.staff_chat_id),
            },
            headers={"Cache-Control": "no-store"},
        )

    async def _send(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        text = body.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > TEXT_LIMIT:
            raise _bad(f"text must be 1–{TEXT_LIMIT} characters")
        if body.get("chat") == "staff":
            sender = self._staff_member(body.get("as"))
            thread = body.get("thread_id")
            if thread is not None and (
                not isinstance(thread, int) or (self.staff_chat_id, thread) not in self.emulator.topics
            ):
                raise _bad("no such topic")
            message = await self.emulator.send_message(sender, text, chat_id=self.staff_chat_id, thread_id=thread)
        elif body.get("chat") == "client":
            message = await self.emulator.send_message(self.client_id, text)
        else:
            raise _bad("chat must be 'client' or 'staff'")
        return web.json_response({"ok": True, "message_id": message["message_id"]})

    async def _press(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        chat_id, message_id, data = body.get("chat_id"), body.get("message_id"), body.get("data")
        if chat_id == self.client_id:
            user = self.client_id
        elif chat_id == self.staff_chat_id:
            user = self._staff_member(body.get("as"))
        else:
            raise _bad("unknown chat")
        message = self.emulator.messages.get((chat_id, message_id)) if isinstance(message_id, int) else None
        if message is None or not isinstance(data, str):
            raise _bad("no such message or button")
        try:
            callback_id = await self.emulator.press(user, message, data=data)
        except LookupError:  # the keyboard changed since the page drew it
            raise web.HTTPConflict(text=_error("that button is gone"), content_type="application/json") from None
        # Telegram shows the bot's answerCallbackQuery text as a notice or an alert; wait briefly for it.
        answers = self.emulator.callback_answers
        try:
            answer = await self.emulator.wait_for(lambda: answers.get(callback_id) is not None, ANSWER_WAIT)
        except TimeoutError:
            answer = None
        return web.json_response({"ok": True, "answer": answers.get(callback_id) if answer else None})

    async def _language(self, request: web.Request) -> web.Response:
        """The client's Telegram app language (`language_code` in every update); empty: not sent."""
        body = await self._json(request)
        language = body.get("language")
        if not isinstance(language, str) or len(language) > 16 or not all(c.isalnum() or c == "-" for c in language):
            raise _bad("language must be a language tag such as 'ar' or 'pt-BR', or empty")
        self.language = language or None
        user = self.emulator.users[self.client_id]
        if self.language:
            user["language_code"] = self.language
        else:
            user.pop("language_code", None)
        return web.json_response({"ok": True})

    async def _new_client(self, request: web.Request) -> web.Response:
        """Start over as a new person: a fresh Telegram user, so kimbot greets them from the beginning."""
        await self._json(request)
        self.client_id = next(self._client_ids)
        self.emulator.add_user(self.client_id, self.client_name, language_code=self.language)
        return web.json_response({"ok": True, "client_id": self.client_id})

    # ------------------------------------------------------------------ helpers

    def _chat_messages(self, chat_id: int) -> list[dict[str, Any]]:
        return [view(m) for (cid, _), m in sorted(self.emulator.messages.items()) if cid == chat_id]

    def _staff_member(self, user_id: object) -> int:
        for member in self.staff:
            if member.user_id == user_id:
                return member.user_id
        raise _bad("choose a staff member")

    async def _json(self, request: web.Request) -> dict[str, Any]:
        # JSON only: a cross-site form cannot send it without a CORS preflight, which this server never allows.
        self._local_only(request)
        if request.content_type != "application/json":
            raise _bad("send application/json")
        try:
            body = await request.json()
        except ValueError:
            raise _bad("invalid JSON") from None
        if not isinstance(body, dict):
            raise _bad("send a JSON object")
        return body

    @staticmethod
    def _local_only(request: web.Request) -> None:
        """Refuse requests addressed to another host name (DNS rebinding): the page lives on 127.0.0.1."""
        host = (request.host or "").rsplit(":", 1)[0].strip("[]")
        if host not in {"127.0.0.1", "localhost", "::1"}:
            raise web.HTTPForbidden(text="the demo answers on 127.0.0.1 only")


def view(message: dict[str, Any]) -> dict[str, Any]:
    """A message as the page draws it: plain text only (the page puts it in the DOM with textContent)."""
    sender = message.get("from", {})
    attachment = next((kind for kind in _ATTACHMENTS if kind in message), None)
    label = None
    if attachment == "document":
        label = message["document"].get("file_name") or "file"
    elif attachment is not None:
        label = attachment.replace("_", " ")
    reply = message.get("reply_to_message")
    keyboard = [
        [
            {"text": str(button.get("text", "")), "data": button.get("callback_data"), "url": button.get("url")}
            for button in row
        ]
        for row in message.get("reply_markup", {}).get("inline_keyboard", [])
    ]
    return {
        "id": message["message_id"],
        "from_bot": bool(sender.get("is_bot")),
        "sender": sender.get("first_name", ""),
        "sender_id": sender.get("id"),
        "thread_id": message.get("message_thread_id"),
        "text": message.get("text") or message.get("caption") or "",
        "attachment": attachment,
        "attachment_label": label,
        "reply_to": (reply.get("text") or reply.get("caption") or "")[:120] if reply else None,
        "keyboard": keyboard,
        "date": message.get("date"),
        "edited": "edit_date" in message,
        "pinned": bool(message.get("pinned")),
    }


def _error(reason: str) -> str:
    return json.dumps({"ok": False, "error": reason})


def _bad(reason: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=_error(reason), content_type="application/json")
