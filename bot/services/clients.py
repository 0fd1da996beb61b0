"""Clients: registration, language, municipality, reachability and the client table's part of the GDPR rights.

The export and erasure of everything about a client span every capability: `bot.services.privacy` puts them
together, so this module depends on no other capability (handoff and booking build on it).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.base import utcnow
from bot.db.engine import insert_for
from bot.db.models import Client
from bot.services import audit
from bot.services.dto import ClientDTO
from bot.services.reporting import events as report_events

_REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read out on the phone


def to_dto(row: Client) -> ClientDTO:
    return ClientDTO(
        id=row.id,
        telegram_id=row.telegram_id,
        reference=row.reference,
        locale=row.locale,
        municipality=row.municipality,
        case_manager_id=row.case_manager_id,
        reachable=row.reachable,
        privacy_acknowledged_at=row.privacy_acknowledged_at,
        created_at=row.created_at,
        last_contact_at=row.last_contact_at,
    )


def _new_reference() -> str:
    return "K-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(6))


async def _row(session: AsyncSession, client_id: int) -> Client:
    row = await session.get(Client, client_id)
    if row is None:
        raise LookupError("client not found")
    return row


async def get(session: AsyncSession, client_id: int) -> ClientDTO:
    return to_dto(await _row(session, client_id))


_DTO_COLUMNS = [Client.__table__.c[name] for name in ClientDTO.__dataclass_fields__]
_BY_TELEGRAM_ID = select(*_DTO_COLUMNS).where(Client.__table__.c.telegram_id == bindparam("telegram_id"))


async def find_by_telegram_id(session: AsyncSession, telegram_id: int) -> ClientDTO | None:
    """Runs for every update: a Core select of the DTO's columns (no ORM object to build and track)."""
    row = (await session.execute(_BY_TELEGRAM_ID, {"telegram_id": telegram_id})).first()
    return ClientDTO(**row._mapping) if row else None


async def find_by_reference(session: AsyncSession, reference: str) -> ClientDTO | None:
    """The client with this reference (K-…), as read out on the phone; None when there is none."""
    row = await session.scalar(select(Client).where(Client.reference == reference))
    return to_dto(row) if row is not None else None


async def register(session: AsyncSession, telegram_id: int, locale: str | None) -> ClientDTO:
    """Create the client on first contact (idempotent), with the language Telegram told us, if we speak it.

    One INSERT that yields to any unique conflict: a reference already taken (1 in 10⁹ with 10 000 clients) is
    drawn again, a Telegram id registered meanwhile (another update, another process) is read instead. Then the
    audit row, as a Core INSERT too: nothing is left for an autoflush."""
    for _ in range(_REFERENCE_DRAWS):
        values = {"telegram_id": telegram_id, "reference": _new_reference(), "locale": locale, "now": utcnow()}
        row = (await session.execute(_register(session), values)).first()
        if row is not None:
            client = ClientDTO(**row._mapping)
            await audit.record_now(
                session, "client_registered", actor="client", actor_id=client.id, client_id=client.id
            )
            await report_events.record(session, "new_client", when=utcnow(), language=locale)
            return client
        existing = await find_by_telegram_id(session, telegram_id)
        if existing is not None:
            return existing
    raise RuntimeError("no free reference found")


_REFERENCE_DRAWS = 8
_REGISTER: dict[str, Any] = {}


def _register(session: AsyncSession) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING the DTO's columns, built once per dialect."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    if dialect not in _REGISTER:
        table = cast(Table, Client.__table__)
        now: Any = bindparam("now")
        values: dict[str, Any] = {"telegram_id": bindparam("telegram_id"), "reference": bindparam("reference")}
        values |= {"locale": bindparam("locale"), "reachable": True, "announcements_opt_out": False}
        values |= {"last_contact_at": now, "created_at": now, "updated_at": now}
        statement = insert_for(session)(table).values(values).on_conflict_do_nothing()
        _REGISTER[dialect] = statement.returning(*_DTO_COLUMNS)
    return _REGISTER[dialect]


async def set_locale(session: AsyncSession, client_id: int, locale: str) -> ClientDTO:
    row = await _row(session, client_id)
    row.locale = locale
    await session.flush()
    return to_dto(row)


async def acknowledge_privacy(session: AsyncSession, client_id: int) -> ClientDTO:
    row = await _row(session, client_id)
    if row.privacy_acknowledged_at is None:
        row.privacy_acknowledged_at = utcnow()
        audit.record(session, "privacy_acknowledged", actor="client", actor_id=row.id, client_id=row.id)
    await session.flush()
    return to_dto(row)


async def set_municipality(session: AsyncSession, client_id: int, municipality: str) -> ClientDTO:
    row = await _row(session, client_id)
    row.municipality = municipality
    await session.flush()
    return to_dto(row)


CONTACT_RESOLUTION = timedelta(days=1)


async def note_contact(session: AsyncSession, client: ClientDTO) -> None:
    """The client wrote to us: they can be reached again, and the retention period starts anew. Written at most
    once a day per client, so an ordinary update stays read-only."""
    now = utcnow()
    if client.reachable and client.last_contact_at is not None and now - client.last_contact_at < CONTACT_RESOLUTION:
        return
    await session.execute(update(Client).where(Client.id == client.id).values(last_contact_at=now, reachable=True))


async def inactive_since(session: AsyncSession, cutoff: datetime) -> list[int]:
    """Ids of clients who have not written since `cutoff` (candidates for the retention purge)."""
    return list((await session.scalars(select(Client.id).where(Client.last_contact_at < cutoff))).all())


async def unfinished_since(session: AsyncSession, cutoff: datetime) -> list[int]:
    """Ids of people who never finished onboarding (language, privacy notice, municipality) and have not written
    since `cutoff` (the retention purge keeps them 30 days, not RETENTION_MONTHS)."""
    unfinished = or_(Client.locale.is_(None), Client.privacy_acknowledged_at.is_(None), Client.municipality.is_(None))
    return list((await session.scalars(select(Client.id).where(unfinished, Client.last_contact_at < cutoff))).all())


async def set_reachable(session: AsyncSession, client_id: int, reachable: bool) -> None:
    await session.execute(update(Client).where(Client.id == client_id).values(reachable=reachable))


async def delete(session: AsyncSession, client_id: int) -> None:
    """Delete the client row; their other rows go with it (ON DELETE CASCADE). Part of the erasure in
    `bot.services.privacy`, which deletes what is not linked by a foreign key first."""
    await session.delete(await _row(session, client_id))


async def count_by(session: AsyncSession, column: str) -> list[tuple[str | None, int]]:
    """Client counts grouped by `locale` or `municipality` (no personal data)."""
    attr = {"locale": Client.locale, "municipality": Client.municipality}[column]
    rows = (await session.execute(select(attr, func.count()).group_by(attr).order_by(func.count().desc()))).all()
    return [(key, count) for key, count in rows]
