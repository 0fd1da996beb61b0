"""Broadcasts: an admin composes texts per language, picks the recipients (segments), previews, schedules and
follows the progress; clients can opt out of announcements. Diagram: docs/flows/broadcasts.mmd."""
