"""Machine translation for every client language: LibreTranslate for the languages its server lists, an
OpenAI-compatible chat-completions endpoint (with the glossary's terms in the instruction) for the rest, a router
that decides per language pair from what each server reports at start-up, and the detector that notices a client
writing in another language than their setting. `bot.services.translator` is the entry point the rest of kimbot
imports; nothing here knows Telegram."""
