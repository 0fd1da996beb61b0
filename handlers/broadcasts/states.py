"""The admin's place in composing a broadcast (FSM states), and the draft being composed, shared by the compose,
segment and preview handlers. The draft's id lives in the FSM data from the German text until it is sent or
discarded; everything else about it is in the database (bot/services/broadcasts.py)."""

from __future__ import annotations

import contextlib

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import broadcasts
from bot.services.broadcasts import BroadcastError


class BroadcastForm(StatesGroup):
    german = State()
    languages = State()
    language_text = State()
    fallback = State()
    segment = State()
    segment_dates = State()
    segment_days = State()
    schedule = State()
    preview = State()


async def draft_id(state: FSMContext) -> int:
    """The id of the draft being composed."""
    return int((await state.get_data())["broadcast_id"])


async def discard_draft(session: AsyncSession, state: FSMContext) -> None:
    """Delete the draft being composed, if any (one already sent stays), and leave the compose flow."""
    data = await state.get_data()
    if data.get("broadcast_id"):
        with contextlib.suppress(BroadcastError):
            await broadcasts.discard(session, int(data["broadcast_id"]))
    await state.clear()
