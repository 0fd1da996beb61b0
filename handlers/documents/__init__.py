"""Documents: a client records their residence documents and their expiry dates and is reminded in time; staff see
what expires soon (`/expiring`). Diagram: docs/flows/documents.mmd.

`flow.py` is the client's "My documents", `staff.py` the staff command, `views.py` their texts and keyboards."""

from handlers.documents.flow import register
from handlers.documents.staff import build_staff_router

__all__ = ["build_staff_router", "register"]
