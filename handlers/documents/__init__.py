"""Documents: a client records their residence documents and their expiry dates and is reminded in time; staff see
what expires soon (`/expiring`). Diagram: docs/flows/documents.mmd."""
