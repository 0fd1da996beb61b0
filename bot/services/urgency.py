"""Urgency by expiry: a service names the document types it is for (`Service.expiry_documents`, e.g. the residence
titles of the immigration office). A client's *relevant expiry* is the earliest `expires_on` of their documents of
those types (an already expired one counts, and is the most urgent); a client without one has none.

1. **The waitlist** of such a service is served by relevant expiry, earliest first, clients without one after all
   clients with one; within each, by waiting time (`created_at`, then id).
2. **Reserved slots.** With `urgent_share > 0`, part of each staff member's slots of each local day is kept for
   clients whose relevant expiry lies at most `urgent_within_days` after the slot's day. The rule, per staff
   member, office and day: the day's candidate slots (from the hours in the county file, before anything is
   booked) are numbered 0 … n-1 in time order, and slot i is reserved when ⌊(i+1)·share⌋ > ⌊i·share⌋ – so
   ⌊n·share⌋ slots are reserved (rounded down), spread evenly over the day (share 0.25, 8 slots: the 4th and the
   8th). The set depends only on the county file, so it does not move when other slots are booked. A reserved slot
   opens to everyone `urgent_release_days` × 24 hours before it starts. Home visits are never reserved (their
   slots depend on the client's municipality).

The reservation applies where the client is known: the booking conversation's slot query (`for_client`, hooked in
by bot.services.booking.slot_query, so the confirmation re-checks it too) and the offer of a freed slot to the
waitlist (`open_to`). Staff absences and bookings are not affected.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.county import County, Service
from bot.db.models_booking import WaitlistEntry
from bot.db.models_documents import Document
from bot.services import availability
from bot.services.availability import Slot, SlotQuery


@lru_cache(maxsize=256)
def reserved_positions(count: int, share: float) -> frozenset[int]:
    """Which of a day's `count` candidate slots (0-based, in time order) are reserved: ⌊count·share⌋ of them,
    spread evenly. Rounded to 9 places first, so 0.3 · 10 is 3 and not 2.999…"""
    if share <= 0 or count <= 0:
        return frozenset()
    return frozenset(i for i in range(count) if math.floor(round((i + 1) * share, 9)) > math.floor(round(i * share, 9)))


def is_reserved(query: SlotQuery, staff_id: int, office_key: str | None, starts_at: datetime) -> bool:
    """Whether the slot of this staff member at this office and time is one of the day's reserved ones."""
    share = query.service.urgent_share
    if share <= 0 or office_key is None:
        return False
    provider = next((p for p in query.providers if p.staff_id == staff_id and p.office_key == office_key), None)
    if provider is None:
        return False
    day = starts_at.astimezone(query.tz).date()
    candidates = availability.candidate_slots(query, provider, day)
    positions = reserved_positions(len(candidates), share)
    return any(i in positions for i, slot in enumerate(candidates) if slot.starts_at == starts_at)


def is_released(service: Service, starts_at: datetime, now: datetime) -> bool:
    """A reserved slot opens to everyone `urgent_release_days` days (× 24 h) before it starts."""
    return now >= starts_at - timedelta(days=service.urgent_release_days)


def qualifies(service: Service, starts_at: datetime, expires_on: date | None, tz: ZoneInfo) -> bool:
    """Whether a client with this relevant expiry may take a reserved slot starting then: the document expires at
    most `urgent_within_days` after the slot's local day (or has expired already)."""
    if expires_on is None:
        return False
    return expires_on <= starts_at.astimezone(tz).date() + timedelta(days=service.urgent_within_days)


def open_to(
    query: SlotQuery, staff_id: int, office_key: str | None, starts_at: datetime, expires_on: date | None
) -> bool:
    """Whether a client with this relevant expiry may book the slot (free slots only; busy ones are not asked)."""
    return (
        not is_reserved(query, staff_id, office_key, starts_at)
        or is_released(query.service, starts_at, query.now)
        or qualifies(query.service, starts_at, expires_on, query.tz)
    )


@dataclass(frozen=True)
class UrgencyFilter:
    """`availability.SlotFilter`: drops the reserved slots this client may not take (yet) – before the database
    is asked, since it needs only the county file and the client's expiry."""

    expires_on: date | None

    def could_keep(self, query: SlotQuery, slot: Slot) -> bool:
        return open_to(query, slot.staff_id, slot.office_key, slot.starts_at, self.expires_on)

    async def keep(self, session: AsyncSession, query: SlotQuery, slots: list[Slot]) -> list[Slot]:
        return slots


async def relevant_expiry(session: AsyncSession, service: Service, client_id: int) -> date | None:
    """The earliest expiry of the client's documents of the service's `expiry_documents` types."""
    if not service.expiry_documents:
        return None
    return await session.scalar(
        select(func.min(Document.expires_on)).where(
            Document.client_id == client_id, Document.doc_type.in_(service.expiry_documents)
        )
    )


async def for_client(session: AsyncSession, query: SlotQuery, client_id: int) -> SlotQuery:
    """The client's slot query, without the reserved slots they may not take; unchanged for a service that
    reserves none."""
    if query.service.urgent_share <= 0:
        return query
    expires_on = await relevant_expiry(session, query.service, client_id)
    return replace(query, filters=(*query.filters, UrgencyFilter(expires_on)))


def waitlist_order(entry_id: int, created_at: datetime, expires_on: date | None) -> tuple[bool, date, datetime, int]:
    """Sort key of a waiting client: relevant expiry first (none: last), then waiting time."""
    return (expires_on is None, expires_on or date.max, created_at, entry_id)


async def ranked_waitlist(
    session: AsyncSession, service: Service, *, exclude_client_id: int | None = None
) -> list[tuple[WaitlistEntry, date | None]]:
    """The service's waiting entries with their client's relevant expiry, in the order they are served."""
    query = select(WaitlistEntry).where(WaitlistEntry.service_key == service.key, WaitlistEntry.status == "waiting")
    if exclude_client_id is not None:
        query = query.where(WaitlistEntry.client_id != exclude_client_id)
    entries = list((await session.scalars(query)).all())
    expiries = await _expiries(session, service, [e.client_id for e in entries])
    ranked = [(e, expiries.get(e.client_id)) for e in entries]
    ranked.sort(key=lambda pair: waitlist_order(pair[0].id, pair[0].created_at, pair[1]))
    return ranked


async def _expiries(session: AsyncSession, service: Service, client_ids: Sequence[int]) -> dict[int, date]:
    if not service.expiry_documents or not client_ids:
        return {}
    rows = await session.execute(
        select(Document.client_id, func.min(Document.expires_on))
        .where(Document.client_id.in_(client_ids), Document.doc_type.in_(service.expiry_documents))
        .group_by(Document.client_id)
    )
    return {client_id: expires_on for client_id, expires_on in rows.all()}


async def waitlist_query(session: AsyncSession, county: County, service: Service, now: datetime) -> SlotQuery:
    """A slot query with the service's office staff, to tell whether a freed slot is a reserved one."""
    providers = await availability.providers_for(session, county, service, home_visit=False)
    return SlotQuery(county=county, service=service, providers=providers, tz=ZoneInfo(county.timezone), now=now)
