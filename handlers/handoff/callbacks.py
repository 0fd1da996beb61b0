"""Claim and Assign in the staff group: any staff member claims a client from the Intake card; admins assign one
(the Intake card's "Assign…" lists the case managers). Either way the header card and the Intake card are updated
and the case manager is mentioned in the client's topic. Everyone else is told these buttons are for staff."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.services import handoff
from bot.services import staff as staff_service
from bot.services.dto import ClientDTO, StaffDTO
from bot.telegram.callbacks import AssignCb, ClaimCb
from bot.telegram.topics import Forum, with_forum
from handlers.handoff import views
from handlers.handoff.filters import in_staff_group, is_staff


async def _assigned(forum: Forum, client: ClientDTO, member: StaffDTO, callback: CallbackQuery) -> None:
    await forum.refresh_header(client.id)
    conv = await handoff.conversation(forum.session, client.id)
    text = views.assigned_text(client, member)
    if conv.intake_message_id is not None and conv.chat_id is not None:
        await forum.edit_intake_card(conv.intake_message_id, text)
    await forum.say_in_topic(client, _("Case manager: {name}").format(name=views.mention(member)))
    if isinstance(callback.message, Message) and callback.message.message_id != conv.intake_message_id:
        await callback.message.edit_text(text)


async def claim_client(callback: CallbackQuery, callback_data: ClaimCb, forum: Forum, staff: StaffDTO) -> None:
    client = await handoff.client(forum.session, callback_data.client)
    if client is None:
        await callback.answer(_("This client no longer exists."), show_alert=True)
        return
    if not await handoff.claim(forum.session, client.id, staff.id):
        current = await handoff.staff_by_id(forum.session, client.case_manager_id)
        await callback.answer(
            _("Already taken by {name}.").format(name=current.display_name if current else "–"), show_alert=True
        )
        return
    await callback.answer(_("You are now the case manager of {reference}.").format(reference=client.reference))
    client = await handoff.client(forum.session, client.id) or client
    await _assigned(forum, client, staff, callback)


async def _admin_and_client(callback: CallbackQuery, client_id: int, forum: Forum, staff: StaffDTO) -> ClientDTO | None:
    """The client to assign, once the caller is an admin and the client still exists (else the caller is told)."""
    if not staff.is_admin:
        await callback.answer(_("Only admins can assign clients."), show_alert=True)
        return None
    client = await handoff.client(forum.session, client_id)
    if client is None:
        await callback.answer(_("This client no longer exists."), show_alert=True)
    return client


async def show_case_managers(callback: CallbackQuery, callback_data: AssignCb, forum: Forum, staff: StaffDTO) -> None:
    """ "Assign…" on the Intake card: the case managers as buttons."""
    client = await _admin_and_client(callback, callback_data.client, forum, staff)
    if client is None:
        return
    await callback.answer()
    managers = await staff_service.active_case_managers(forum.session)
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=views.assign_keyboard(client.id, managers))


async def assign_client(callback: CallbackQuery, callback_data: AssignCb, forum: Forum, staff: StaffDTO) -> None:
    client = await _admin_and_client(callback, callback_data.client, forum, staff)
    if client is None:
        return
    member = await handoff.staff_by_id(forum.session, callback_data.staff)
    if member is None:
        await callback.answer(_("This staff member is no longer active."), show_alert=True)
        return
    await handoff.assign(forum.session, client.id, member.id, staff.id)
    await callback.answer(_("Assigned."))
    client = await handoff.client(forum.session, client.id) or client
    await _assigned(forum, client, member, callback)


async def refuse_button(callback: CallbackQuery) -> None:
    await callback.answer(_("This button is only for staff of the integration management."), show_alert=True)


def register(router: Router) -> None:
    """In the staff area: staff in the staff group may press; anyone else pressing is refused."""
    router.callback_query.register(claim_client, ClaimCb.filter(), in_staff_group, is_staff, with_forum)
    router.callback_query.register(
        show_case_managers, AssignCb.filter(F.staff == 0), in_staff_group, is_staff, with_forum
    )
    router.callback_query.register(assign_client, AssignCb.filter(F.staff != 0), in_staff_group, is_staff, with_forum)
    register_refusal(router)


def register_refusal(router: Router) -> None:
    router.callback_query.register(refuse_button, ClaimCb.filter())
    router.callback_query.register(refuse_button, AssignCb.filter())
