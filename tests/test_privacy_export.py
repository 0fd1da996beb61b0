"""The export is complete: every table that holds something about a client is a section of `privacy.SECTIONS`, and
every one of its columns is either exported or on that section's commented list of what is deliberately left
out (the guard: it fails when a model gains a client-linked column nobody decided about). A client with a row in
every such table gets every exported field back, and `/privacy` → "Send me my data" includes the conversation
state held by the FSM storage."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any, cast

from sqlalchemy import Table, select

from bot.db.base import Base, utcnow
from bot.db.models import AuditEntry, Client, Staff
from bot.db.models_booking import Appointment, NoShowCount, WaitlistEntry
from bot.db.models_casework import CaseNote, ClientName, FollowUp, StatusChange
from bot.db.models_documents import Document
from bot.db.models_handoff import Conversation, RelayMessage
from bot.db.models_interpreters import AppointmentDetails, InterpreterBooking
from bot.db.models_outbox import OutboxMessage
from bot.db.models_transcription import TranscriptionJob
from bot.emulator import BotAPIEmulator
from bot.services import clients, privacy
from bot.telegram import fsm_storage
from tests.support import ANNA, Running, onboard, t


def _client_linked(table: Table) -> bool:
    """The client table itself, or a table with a column that points at a client (a foreign key to clients, or a
    column whose name says client)."""
    return table.name == "clients" or any(
        "client" in column.name or any(fk.column.table.name == "clients" for fk in column.foreign_keys)
        for column in table.columns
    )


def test_every_column_of_every_client_linked_table_is_exported_or_deliberately_withheld() -> None:
    sections = {cast(Table, section.model.__table__).name: section for section in privacy.SECTIONS}
    linked = [table for table in Base.metadata.sorted_tables if _client_linked(table)]
    assert {table.name for table in linked} == set(sections), "a table about clients is not in privacy.SECTIONS"
    for table in linked:
        section = sections[table.name]
        columns = {column.name for column in table.columns}
        exported, withheld = set(section.fields), set(section.withheld)
        assert not exported & withheld, f"{table.name}: both exported and withheld: {exported & withheld}"
        assert columns - exported - withheld == set(), f"{table.name}: columns nobody decided about"
        assert exported | withheld <= columns, f"{table.name}: the section names columns the table no longer has"
        assert all(reason.strip() for reason in section.withheld.values())
        assert section.link in columns


async def test_a_client_with_a_row_everywhere_gets_every_exported_field(kimbot: Running) -> None:
    now = utcnow()
    async with kimbot.app.sessions() as session, session.begin():
        client = await clients.register(session, 4201, "de")
        await clients.acknowledge_privacy(session, client.id)
        await clients.set_municipality(session, client.id, "euskirchen")
        anna = await session.scalar(select(Staff).where(Staff.telegram_id == ANNA))
        assert anna is not None
        row = await session.get(Client, client.id)
        assert row is not None
        row.case_manager_id = anna.id
        visit = Appointment(
            client_id=client.id,
            staff_id=anna.id,
            service_key="kim-consultation",
            office_key=None,
            starts_at=now + timedelta(days=3),
            ends_at=now + timedelta(days=3, hours=1),
            busy_from=now + timedelta(days=3),
            busy_until=now + timedelta(days=3, hours=1),
            status="held",
            hold_expires_at=now + timedelta(minutes=15),
            home_address="Hauptstraße 5, Euskirchen",
            confirmed_at=now,
            booked_by_staff_id=anna.id,
        )
        session.add(visit)
        await session.flush()
        session.add(
            AppointmentDetails(
                appointment_id=visit.id, client_id=client.id, mode="phone", phone="+49 2251 1234", video_url="x"
            )
        )
        session.add(
            InterpreterBooking(
                appointment_id=visit.id,
                client_id=client.id,
                interpreter_key="tesfay",
                language="ti",
                busy_from=visit.busy_from,
                busy_until=visit.busy_until,
                released_at=now,
            )
        )
        session.add(CaseNote(client_id=client.id, staff_id=anna.id, text="called the Ausländerbehörde"))
        session.add(
            StatusChange(
                client_id=client.id, status="duldung", paragraph="60d", since=date(2026, 5, 1), staff_id=anna.id
            )
        )
        session.add(
            FollowUp(
                client_id=client.id,
                staff_id=anna.id,
                created_by_staff_id=anna.id,
                text="call about the Fiktionsbescheinigung",
                due_at=now,
                status="done",
                done_at=now,
                done_by_staff_id=anna.id,
            )
        )
        session.add(ClientName(client_id=client.id, first_name="Amal"))
        session.add(WaitlistEntry(client_id=client.id, service_key="kim-consultation", before=now, status="waiting"))
        session.add(NoShowCount(client_id=client.id, count=2))
        session.add(Document(client_id=client.id, doc_type="residence_permit", expires_on=date(2027, 5, 1)))
        session.add(
            Conversation(
                client_id=client.id,
                **{
                    column: now
                    for column in (
                        "auto_reply_sent_at",
                        "away_notice_sent_at",
                        "mentioned_at",
                        "flood_notice_at",
                        "id_notice_sent_at",
                        "last_client_message_at",
                        "last_staff_message_at",
                    )
                },
            )
        )
        session.add(
            RelayMessage(
                client_id=client.id,
                direction="out",
                kind="text",
                staff_id=anna.id,
                translated=True,
                transcript="Guten Tag",
                delivered_at=now,
                edited_at=now,
            )
        )
        session.add(
            TranscriptionJob(
                client_id=client.id,
                kind="voice",
                file_id="F1",
                duration=4,
                client_message_id=5,
                staff_chat_id=-100,
                staff_message_id=6,
            )
        )
        session.add(
            OutboxMessage(
                idempotency_key="x:1",
                client_id=client.id,
                chat_id=4201,
                template="appointment_reminder",
                due_at=now,
                expires_at=now,
                sent_at=now,
                status="sent",
            )
        )
    async with kimbot.app.sessions() as session, session.begin():
        data = await privacy.export(
            session, client.id, county=kimbot.app.county, conversation_state={"state": "s", "data": {"a": 1}}
        )
    for section in privacy.SECTIONS:
        part: Any = data
        for key in section.path:
            part = part[key]
        items = [part] if section.single else part
        assert items and all(isinstance(item, dict) for item in items), section.path
        for name in section.fields.values():
            assert all(item.get(name) is not None for item in items), (section.path, name)
    assert data["client"]["case_manager"] == anna.display_name
    assert data["client"]["last_contact_at"] is not None
    assert data["no_shows"] == {"count": 2}
    [appointment] = data["appointments"]
    assert appointment["service"] == kimbot.app.county.service("kim-consultation").name  # type: ignore[union-attr]
    assert appointment["place"] == "home visit" and appointment["home_address"] == "Hauptstraße 5, Euskirchen"
    assert data["case_manager_chat"]["messages"][0]["direction"] == "from_case_manager"
    assert data[privacy.CONVERSATION_STATE] == {"state": "s", "data": {"a": 1}}
    assert [a["action"] for a in data["activity"]] == ["client_registered", "privacy_acknowledged"]
    async with kimbot.app.sessions() as session:
        assert (
            await session.scalar(select(AuditEntry.action).order_by(AuditEntry.id.desc()).limit(1)) == "data_exported"
        )


async def test_the_export_in_the_chat_has_the_conversation_state(kimbot: Running, emulator: BotAPIEmulator) -> None:
    await onboard(kimbot, emulator, 4202)
    key = fsm_storage.client_keys(kimbot.app.bot.id, 4202)[0]
    await kimbot.app.storage.set_state(key, "Booking:address")
    await kimbot.app.storage.set_data(key, {"home_address": "Kölner Str. 1"})
    rights = await kimbot.say(4202, "/privacy")
    export = await kimbot.tap(4202, rights, t(kimbot, "Send me my data", "en"))
    data = json.loads(emulator.file_content(export["document"]["file_id"]))
    assert data[privacy.CONVERSATION_STATE] == {"state": "Booking:address", "data": {"home_address": "Kölner Str. 1"}}
    assert data["client"]["municipality"] == "euskirchen" and data["appointments"] == []
