"""A Bot API emulator on 127.0.0.1 for tests and the offline demo: kimbot talks to it over real HTTP."""

from bot.emulator.server import ApiError, BotAPIEmulator, Call

__all__ = ["ApiError", "BotAPIEmulator", "Call"]
