"""Delivery: everything kimbot sends on its own initiative. Services write `outbox` rows in the transaction that
causes them (`outbox`); the drain job claims due rows under a lease (`worker`), renders each in the recipient's
language (`renderer`, with one module of message templates per capability under `templates/`, registered in the
composition root) and sends it through python-telegram-bot with its rate limiter (`sender`)."""
