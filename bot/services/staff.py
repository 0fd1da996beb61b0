"""Staff: synced from the county file, recognised only by numeric Telegram user id."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.county import County
from bot.db.models import Staff
from bot.services import audit
from bot.services.dto import StaffDTO


def to_dto(row: Staff) -> StaffDTO:
    return StaffDTO(
        id=row.id,
        telegram_id=row.telegram_id,
        display_name=row.display_name,
        role=row.role,
        languages=tuple(row.languages or ()),
        office_key=row.office_key,
    )


async def sync_from_county(session: AsyncSession, county: County) -> int:
    """Upsert the county's staff; people no longer listed are deactivated (their history stays)."""
    rows = {s.telegram_id: s for s in (await session.scalars(select(Staff))).all()}
    listed = set()
    for member in county.staff:
        listed.add(member.telegram_id)
        row = rows.get(member.telegram_id)
        if row is None:
            row = Staff(telegram_id=member.telegram_id)
            session.add(row)
        row.display_name = member.display_name
        row.role = member.role
        row.languages = list(member.languages)
        row.office_key = member.office
        row.active = True
    for telegram_id, row in rows.items():
        if telegram_id not in listed and row.active:
            row.active = False
            audit.record(session, "staff_deactivated", actor="system", actor_id=row.id)
    await session.flush()
    return len(listed)


async def find_active(session: AsyncSession, telegram_id: int) -> StaffDTO | None:
    row = await session.scalar(select(Staff).where(Staff.telegram_id == telegram_id, Staff.active.is_(True)))
    return to_dto(row) if row else None


async def active_case_managers(session: AsyncSession) -> list[StaffDTO]:
    """The one answer to "who are the active case managers", by display name."""
    rows = await session.scalars(
        select(Staff).where(Staff.active.is_(True), Staff.role == "case_manager").order_by(Staff.display_name)
    )
    return [to_dto(r) for r in rows.all()]


async def get(session: AsyncSession, staff_id: int) -> StaffDTO | None:
    """A staff member by database id, active or not (history keeps people who left)."""
    row = await session.get(Staff, staff_id)
    return to_dto(row) if row is not None else None
