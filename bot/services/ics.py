"""iCalendar (.ics) attachments for appointments, built with `icalendar`.

The UID is stable per appointment and SEQUENCE is the appointment's change counter, so a calendar app updates the
same event on reschedule and removes it on cancellation (METHOD:CANCEL, STATUS:CANCELLED).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from icalendar import Calendar, Event

from bot.core.county import County

if TYPE_CHECKING:
    from bot.services.booking import AppointmentDTO

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


def for_appointment(
    county: County, appt: AppointmentDTO, *, locale: str, stamp: datetime, cancelled: bool = False
) -> bytes:
    """The appointment's calendar file: the service's name and the documents to bring in the client's language."""
    service = county.service(appt.service_key)
    office = county.office(appt.office_key) if appt.office_key else None
    return build_ics(
        appointment_id=appt.id,
        domain="kimbot." + county.name.lower().replace(" ", "-"),
        summary=service.name_for(locale) if service else appt.service_key,
        location=f"{office.name}, {office.address}" if office else "",
        description=service.documents_for(locale) if service else "",
        starts_at=appt.starts_at,
        ends_at=appt.ends_at,
        sequence=appt.sequence,
        cancelled=cancelled,
        stamp=stamp,
    )
