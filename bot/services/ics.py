"""iCalendar (.ics) attachments for appointments, built with `icalendar`.

The UID is stable per appointment and SEQUENCE is the appointment's change counter, so a calendar app updates the
same event on reschedule and removes it on cancellation (METHOD:CANCEL, STATUS:CANCELLED).
"""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar, Event

PRODID = "-//kimbot//Kommunales Integrationsmanagement//DE"


def appointment_uid(appointment_id: int, domain: str) -> str:
    return f"appointment-{appointment_id}@{domain}"


def build_ics(
    *,
    appointment_id: int,
    domain: str,
    summary: str,
    location: str,
    description: str,
    starts_at: datetime,
    ends_at: datetime,
    sequence: int,
    cancelled: bool = False,
    stamp: datetime,
) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = Event()
    event.add("uid", appointment_uid(appointment_id, domain))
    event.add("sequence", sequence)
    event.add("dtstamp", stamp)
    event.add("dtstart", starts_at)  # aware UTC: written as ...Z
    event.add("dtend", ends_at)
    event.add("summary", summary)
    if location:
        event.add("location", location)
    if description:
        event.add("description", description)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()
