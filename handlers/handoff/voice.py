"""Voice notes for staff: a client's voice note, video note or audio file, once copied into their topic, is queued
for transcription (`bot.jobs.transcription` posts the transcript and its German translation under the copy, off
the update path). Nothing is queued when SPEECH_URL is not set."""

from __future__ import annotations

from aiogram.types import Message

from bot.jobs.transcription import wake_after_commit
from bot.services import transcription
from bot.services.dto import ClientDTO
from bot.telegram.topics import Forum


async def transcribe_later(forum: Forum, client: ClientDTO, message: Message, kind: str, staff_message_id: int) -> None:
    """Queue the copied message for transcription, in the update's transaction; the queue wakes on commit."""
    media = getattr(message, kind, None) if kind in transcription.KINDS else None
    if not forum.settings.speech_url or media is None:
        return
    await transcription.enqueue(
        forum.session,
        client_id=client.id,
        kind=kind,
        file_id=media.file_id,
        file_size=media.file_size,
        duration=getattr(media, "duration", None),
        client_message_id=message.message_id,
        staff_chat_id=forum.chat_id,
        staff_message_id=staff_message_id,
    )
    wake_after_commit(forum.session)
