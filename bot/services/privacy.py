"""The client's GDPR rights over everything kimbot holds: export (Art. 15/20), erasure (Art. 17), and the
retention purge that erases clients who stopped writing.

They span every capability (the client record, the audit log, the handoff conversation, documents, booking and
the outbox), so they live here, above those services, instead of in `clients`, which every other service builds
on: this module imports them, none of them imports it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.base import utcnow
from bot.delivery import outbox
from bot.services import audit, booking, clients, documents, handoff


async def export(session: AsyncSession, client_id: int) -> dict[str, Any]:
    """Everything kimbot holds about the client, as JSON-ready data; the export itself is audited."""
    profile = await clients.export_profile(session, client_id)
    activity = await audit.activity_for_client(session, client_id)
    audit.record(session, "data_exported", actor="client", actor_id=client_id, client_id=client_id)
    return {
        "client": profile,
        "activity": activity,
        "case_manager_chat": await handoff.export(session, client_id),
        "documents": await documents.export_for_client(session, client_id),
        "messages": await outbox.export_for_client(session, client_id),
        "exported_at": utcnow().isoformat(),
    }


async def erase(session: AsyncSession, client_id: int, audit_action: str | None = "client_erased") -> None:
    """Delete every row about the client; the audit keeps only that an erasure happened.

    Their other rows (appointments, documents, conversation, messages) go with the client row (ON DELETE
    CASCADE). The audit entries are deleted first: their foreign key is ON DELETE SET NULL, they would outlive
    the client row otherwise."""
    await clients.get(session, client_id)  # LookupError before anything is deleted
    await audit.forget_client(session, client_id)
    await clients.delete(session, client_id)
    if audit_action:
        audit.record(session, audit_action, actor="system")
    await session.flush()


async def purge_inactive(session: AsyncSession, cutoff: datetime) -> int:
    """Erase clients who have not written since `cutoff` and have no appointment still to come (the retention
    promise of the privacy notice); the audit keeps a count."""
    stale = [cid for cid in await clients.inactive_since(session, cutoff) if not await booking.upcoming(session, cid)]
    for client_id in stale:
        await erase(session, client_id, audit_action=None)
    if stale:
        audit.record(session, "clients_purged", actor="system", count=len(stale))
    return len(stale)
