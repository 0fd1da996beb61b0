"""kimbot: a multilingual Telegram assistant for municipal integration case management."""
