"""Domain services. They know nothing of Telegram: they take a session and return plain DTOs."""
