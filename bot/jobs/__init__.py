"""Time-driven work, run by APScheduler from the database (never pickled jobs): the outbox drain and the daily
jobs (`scheduler`), the advisory lock that lets one of several workers run a daily job (`leader`), the broadcast
progress message, and messages held back by flood protection."""
