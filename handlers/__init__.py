"""aiogram routers. Handlers are thin: read input, call one service, answer with `_()`.

The routers are few on purpose. aiogram wraps every router an update passes through in its middleware chain and
copies the handler data several times, so each router passed costs (bench/bench_routing.py, figures in
bench/README.md). The update meets three areas in turn, each one filter check:

1. the staff area (only staff get in): a router per staff feature, as staff send few updates;
2. what others (clients, strangers) are told about staff things: staff commands and buttons refused, and the
   client's choice to receive announcements;
3. the private area (private chats only): every client feature's handlers on one router, in the order they are
   tried, so the relay takes free text that no flow wanted and the menu's fallbacks come last;

and then /help in groups. Every call builds fresh routers, so every dispatcher (and every test) gets its own.
"""

from aiogram import Router

from handlers import booking, broadcasts, documents, language, menu, onboarding, privacy, read_aloud, reminders
from handlers import help as help_
from handlers.filters import from_private_chat, in_private_chat
from handlers.handoff import client_side as handoff_client
from handlers.handoff import staff_side as handoff_staff
from handlers.staff import agenda as staff_agenda
from handlers.staff import case as staff_case
from handlers.staff import commands as staff_commands
from handlers.staff import find as staff_find
from handlers.staff import followups as staff_followups
from handlers.staff import status as staff_status
from handlers.staff.commands import IsStaff


def build_staff_area() -> Router:
    area = Router(name="staff_area")
    for observer in (area.message, area.edited_message, area.callback_query):
        observer.filter(IsStaff())
    area.include_routers(
        staff_commands.build_router(),
        broadcasts.build_router(),
        # Casework before the handoff's topic router, which keeps every other command in a topic to itself.
        staff_case.build_router(),
        staff_status.build_router(),
        staff_followups.build_router(),
        staff_find.build_router(),
        handoff_staff.build_router(),
        staff_agenda.build_router(),
        documents.build_staff_router(),
    )
    return area


def build_not_staff_area() -> Router:
    area = Router(name="not_staff")
    for observer in (area.message, area.edited_message, area.callback_query):
        observer.filter(IsStaff(negate=True))
    staff_commands.register_not_staff(area)
    broadcasts.register_not_staff(area)
    handoff_staff.register_not_staff(area)
    return area


def build_private_area() -> Router:
    area = Router(name="private")
    area.message.filter(in_private_chat)
    area.edited_message.filter(in_private_chat)
    area.callback_query.filter(from_private_chat)
    features = (onboarding, language, privacy, help_, booking, documents, reminders, read_aloud, handoff_client, menu)
    for feature in features:
        feature.register(area)
    return area


def build_routers() -> list[Router]:
    """The areas in the order they are tried."""
    return [build_staff_area(), build_not_staff_area(), build_private_area(), help_.build_router()]
