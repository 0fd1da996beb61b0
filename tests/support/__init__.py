"""What the test modules share: the running kimbot and how to know it is done (`running`), the users' usual steps
(`flows`), kimbot in a process of its own (`processes`), fixed ids and names (`constants`), and a LibreTranslate
stand-in. The fixtures in tests/conftest.py are built from these; no test module imports another."""

from tests.support.constants import ADMIN, ANNA, BERLIN, OFFICE, ROOT, SERVICE, STAFF_GROUP, TOKEN, YUSUF
from tests.support.fake_libretranslate import FakeLibreTranslate
from tests.support.flows import (
    APPOINTMENT,
    add_clients,
    book_appointment,
    book_first_free,
    button_texts,
    in_topic,
    onboard,
    send,
    staff_user,
    t,
    thread_of,
)
from tests.support.processes import (
    WEBHOOK_SECRET,
    free_port,
    start_polling_process,
    start_webhook_process,
    wait_healthy,
)
from tests.support.running import Handled, Running

__all__ = [
    "ADMIN",
    "ANNA",
    "APPOINTMENT",
    "BERLIN",
    "OFFICE",
    "ROOT",
    "SERVICE",
    "STAFF_GROUP",
    "TOKEN",
    "WEBHOOK_SECRET",
    "YUSUF",
    "FakeLibreTranslate",
    "Handled",
    "Running",
    "add_clients",
    "book_appointment",
    "book_first_free",
    "button_texts",
    "free_port",
    "in_topic",
    "onboard",
    "send",
    "staff_user",
    "start_polling_process",
    "start_webhook_process",
    "t",
    "thread_of",
    "wait_healthy",
]
