"""Booking: a client (or a case manager on their behalf) picks a service, an office or a home visit, a day and a
time; the waitlist; "My appointments" with cancel and reschedule. Diagram: docs/flows/booking.mmd.

`flow.py` is the booking conversation, `my_appointments.py` what happens to a booked appointment (and to a
waitlist offer), `conversation.py` the steps both share, `views.py` their texts and keyboards; `interpreter.py` how
an appointment takes place (office, video, phone; with an interpreter) and /interpreter for staff, `series.py`
(with `series_views.py`) appointments a case manager books as a series."""

from aiogram import Router

from handlers.booking import flow, interpreter, my_appointments, series
from handlers.booking.conversation import BookingMiddleware
from handlers.booking.flow import start_booking

__all__ = ["register", "start_booking"]


def register(private: Router) -> None:
    """The booking handlers on the private area, behind the middleware that gives them their `conversation`."""
    private.message.middleware(BookingMiddleware())
    private.callback_query.middleware(BookingMiddleware())
    my_appointments.register(private)  # first: /appointments must win over a typed address
    interpreter.register(private)
    series.register(private)
    flow.register(private)
