"""Booking: a client (or a case manager on their behalf) picks a service, an office or a home visit, a day and a
time; the waitlist; "My appointments" with cancel and reschedule. Diagram: docs/flows/booking.mmd."""
