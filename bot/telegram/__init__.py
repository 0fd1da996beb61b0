"""Telegram plumbing on the aiogram side: the HTTP session, the inbound journal and update processor (polling and
webhook), FSM storage in the database, the per-chat event isolation, the update middlewares (unit of work, caller,
locale), the callback-data factories every button uses, and the forum-topic operations of the handoff. Handlers and
jobs use these; nothing here decides a rule of the county's (that is `bot.services`)."""
