"""iCalendar (.ics) attachments for appointments, built with `icalendar`.

The UID is stable per appointment and SEQUENCE is the appointment's change counter, so a calendar app updates the
same event on reschedule and removes it on cancellation (METHOD:CANCEL, STATUS:CANCELLED).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from icalendar import Calendar, Event

from bot.core.county import County
from bot.core.county_text import CountyTexts

if TYPE_CHECKING:
    from bot.services.booking import AppointmentDTO
    from bot.services.remote_appointments import Details

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
    url: str | None = None,
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
    if url:
        event.add("url", url)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()


def for_appointment(
    county: County,
    appt: AppointmentDTO,
    *,
    locale: str,
    stamp: datetime,
    texts: CountyTexts,
    cancelled: bool = False,
    details: Details | None = None,
) -> bytes:
    """The appointment's calendar file: the service's name and the documents to bring in the client's language;
    for a video appointment the join link as its location and URL, for a phone appointment the number to call."""
    service = county.service(appt.service_key)
    office = county.office(appt.office_key) if appt.office_key else None
    location = f"{office.name}, {office.address}" if office else ""
    video = details.video_url if details is not None and details.mode == "video" else None
    if details is not None and details.mode in ("video", "phone"):
        location = video or details.phone or ""
    documents = texts.text(service.documents, locale) if service else ""
    return build_ics(
        appointment_id=appt.id,
        domain="kimbot." + county.name.lower().replace(" ", "-"),
        summary=texts.text(service.name, locale) if service else appt.service_key,
        location=location,
        description="\n\n".join(part for part in (video, documents) if part),
        url=video,
        starts_at=appt.starts_at,
        ends_at=appt.ends_at,
        sequence=appt.sequence,
        cancelled=cancelled,
        stamp=stamp,
    )
