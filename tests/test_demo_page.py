"""The offline demo in a real browser: `kimbot run` without a token starts the demo, and headless Chromium plays a
client who books an appointment and writes to the case manager, and the case manager who answers in the staff topic.

Needs Debian's `chromium` and `chromium-driver` (.ci/run installs them) and Selenium (the `test` extras).
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import (
    ElementClickInterceptedException,
    NoSuchElementException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

from bot.demo import DEMO_CLIENT_ID
from tests.support import ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# The README's picture is refreshed with KIMBOT_UPDATE_SCREENSHOT=1; otherwise the shot goes to var/ (untracked).
SCREENSHOT = ROOT / ("docs" if os.environ.get("KIMBOT_UPDATE_SCREENSHOT") else "var") / "demo.png"
CASEWORK_SCREENSHOT = SCREENSHOT.with_name("demo-casework.png")  # the README's "For case managers"
FAILURE_SCREENSHOT = ROOT / "var" / "demo-failure.png"  # what the page showed when a wait timed out
WAIT = 30.0
ARABIC = "مرحبا، عندي سؤال عن موعدي"
ANSWER = "Hello Amal, I have your question and will call you tomorrow morning."


class Demo:
    def __init__(self, process: subprocess.Popen[str], url: str, data_dir: Path, stderr: Path):
        self.process = process
        self.url = url
        self.data_dir = data_dir
        self.stderr = stderr

    def state(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url + "demo/api/state", timeout=5) as response:
            result: dict[str, Any] = json.load(response)
            return result


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    """`kimbot run` with no BOT_TOKEN, in its own process, on free ports; stopped with SIGTERM afterwards."""
    data_dir = tmp_path / "var"
    env = {
        **os.environ,
        "BOT_TOKEN": "",
        "DEMO_PORT": "0",
        "KIMBOT_DATA_DIR": str(data_dir),
        "LOG_LEVEL": "WARNING",
        "POLLING_TIMEOUT": "1",
        "PYTHONPATH": str(ROOT),
    }
    stderr_path = tmp_path / "demo.stderr"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    try:
        url = None
        deadline = time.monotonic() + 120
        while url is None:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"the demo printed no address: {stderr_path.read_text()}") from None
            if "http://127.0.0.1:" in line:
                url = line.split("open ", 1)[1].split()[0]
        assert url.endswith("/")
        yield Demo(process, url, data_dir, stderr_path)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert code == 0, stderr_path.read_text()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    assert CHROMIUM.exists() and CHROMEDRIVER.exists(), "install Debian's chromium and chromium-driver (see .ci/run)"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--window-size=1400,900",
        "--lang=en-US",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver: webdriver.Chrome, condition: Callable[[], Any], what: str) -> Any:
    """Poll `condition` until it is truthy. Messages are redrawn when they change and the chat scrolls as new ones
    arrive, so an element that went stale or moved under the pointer is simply looked up again."""
    retried = (StaleElementReferenceException, ElementClickInterceptedException, NoSuchElementException)
    try:
        return WebDriverWait(driver, WAIT, poll_frequency=0.1, ignored_exceptions=retried).until(lambda _: condition())
    except WebDriverException as error:
        FAILURE_SCREENSHOT.parent.mkdir(exist_ok=True)
        driver.save_screenshot(str(FAILURE_SCREENSHOT))
        status = driver.find_element(By.ID, "status").text
        raise AssertionError(
            f"timed out waiting for {what}; page status: {status!r}; client chat: {client_texts(driver)}"
        ) from error


def click(driver: webdriver.Chrome, find: Callable[[], WebElement | None], what: str) -> str:
    """Click what `find` returns once it exists; a click that could not land is tried again. Returns its text."""

    def attempt() -> str | None:
        element = find()
        if element is None:
            return None
        text = element.text
        element.click()
        return text

    clicked: str = wait(driver, attempt, what)
    return clicked


def client_texts(driver: webdriver.Chrome) -> list[str]:
    try:
        return [m.text for m in driver.find_elements(By.CSS_SELECTOR, "#client-chat .msg")]
    except WebDriverException:
        return []


def tap(driver: webdriver.Chrome, text: str) -> None:
    """Tap the newest enabled button with this text in the client chat."""

    def find() -> WebElement | None:
        buttons = [b for b in driver.find_elements(By.CSS_SELECTOR, "#client-chat .msg.bot .kb") if b.text == text]
        enabled = [b for b in buttons if b.is_enabled()]
        return enabled[-1] if enabled else None

    click(driver, find, f"a button {text!r}")


def tap_first(driver: webdriver.Chrome, question: str) -> str:
    """Tap the first button under the newest bot message starting with `question` (days, times); return its text.

    Waiting for the question itself matters: the bot edits the previous question (dropping its buttons) and sends
    the next one, and until then the previous buttons are still on screen."""

    def find() -> WebElement | None:
        for message in reversed(driver.find_elements(By.CSS_SELECTOR, "#client-chat .msg.bot")):
            if message.find_element(By.CSS_SELECTOR, ".text").text.startswith(question):
                buttons = [b for b in message.find_elements(By.CSS_SELECTOR, ".kb") if b.is_enabled()]
                return buttons[0] if buttons else None
        return None

    return click(driver, find, f"buttons under {question!r}")


def write(driver: webdriver.Chrome, box: str, text: str) -> None:
    field = driver.find_element(By.ID, box)
    field.send_keys(text + Keys.ENTER)
    wait(driver, lambda: field.get_attribute("value") == "", f"{box} to be sent")


def bubble_where(driver: webdriver.Chrome, chat: str, test: Callable[[str], bool], what: str) -> WebElement:
    def find() -> WebElement | None:
        return next((t for t in driver.find_elements(By.CSS_SELECTOR, f"#{chat} .msg .text") if test(t.text)), None)

    found: WebElement = wait(driver, find, f"{what} in {chat}")
    return found


def bubble(driver: webdriver.Chrome, chat: str, text: str) -> WebElement:
    def find() -> WebElement | None:
        return next((t for t in driver.find_elements(By.CSS_SELECTOR, f"#{chat} .msg .text") if t.text == text), None)

    found: WebElement = wait(driver, find, f"{text!r} in {chat}")
    return found


def test_client_books_and_talks_to_the_case_manager_in_the_browser(demo: Demo, browser: webdriver.Chrome) -> None:
    started = time.monotonic()
    assert "offline demo" in demo.stderr.read_text()  # `kimbot run` said why it started the demo
    browser.get(demo.url)
    assert browser.title == "kimbot – offline demo"
    wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#topics .topic"), "the page's first poll")

    # The client's Telegram speaks Italian, which kimbot does not offer: it asks for the language.
    Select(browser.find_element(By.ID, "language")).select_by_value("it")
    wait(browser, lambda: demo.state()["client"]["language"] == "it", "the language to reach the emulator")
    write(browser, "client-input", "/start")
    tap(browser, "English")
    tap(browser, "Understood – continue")
    tap(browser, "Euskirchen")

    # Book an appointment: service → office → the first offered day → its first time → confirm.
    tap(browser, "Book an appointment")
    tap(browser, "Case management consultation")
    tap(browser, "Kommunales Integrationszentrum Kreis Euskirchen")
    day = tap_first(browser, "Which day suits you?")
    tap_first(browser, f"Which time on {day}?")
    tap(browser, "✅ Confirm")
    confirmation = wait(
        browser,
        lambda: next((t for t in client_texts(browser) if "is booked for" in t), None),
        "the booking confirmation",
    )
    assert "📎" in confirmation  # the .ics file comes with it

    # The client writes to the case manager (in Arabic: the bubble reads right to left).
    write(browser, "client-input", ARABIC)
    sent = bubble(browser, "client-chat", ARABIC)
    assert sent.value_of_css_property("direction") == "rtl"
    assert sent.get_attribute("dir") == "auto"

    # The case manager opens the client's topic in the staff group and answers there.
    def client_topic() -> WebElement | None:
        return next(
            (t for t in browser.find_elements(By.CSS_SELECTOR, "#topics .topic .name") if t.text.endswith("· EN")),
            None,
        )

    click(browser, client_topic, "the client's topic")
    bubble(browser, "staff-chat", ARABIC)
    Select(browser.find_element(By.ID, "staff-as")).select_by_visible_text("Anna Becker")
    write(browser, "staff-input", ANSWER)

    # The answer arrives in the client's chat, from the bot, left to right.
    answer = bubble(browser, "client-chat", ANSWER)
    message = answer.find_element(By.XPATH, "ancestor::div[contains(@class, 'msg')]")
    assert "bot" in (message.get_attribute("class") or "")
    assert answer.value_of_css_property("direction") == "ltr"
    elapsed = time.monotonic() - started

    time.sleep(0.6)  # one more poll, so the screenshot shows the settled page
    SCREENSHOT.parent.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(SCREENSHOT))
    print(f"demo conversation in the browser took {elapsed:.1f} s")

    # The case manager's workbench in the same topic: the case file, then the saved replies; nothing reaches the
    # client.
    shown = len(client_texts(browser))
    write(browser, "staff-input", "/case")
    bubble_where(browser, "staff-chat", lambda t: t.startswith("🗂 ") and "(1/" in t, "the first page of /case")
    write(browser, "staff-input", "/t")
    replies = bubble_where(browser, "staff-chat", lambda t: "/t NAME" in t, "the saved replies of /t")
    buttons = replies.find_elements(By.XPATH, "ancestor::div[contains(@class, 'msg')]//*[contains(@class, 'kb')]")
    assert len(buttons) >= 10, [b.text for b in buttons]  # the example county's ten saved replies
    time.sleep(0.6)
    assert browser.save_screenshot(str(CASEWORK_SCREENSHOT))
    assert len(client_texts(browser)) == shown

    # What the emulator and the database hold: one booked appointment, the message relayed both ways.
    state = demo.state()
    assert state["client"]["id"] == DEMO_CLIENT_ID
    assert any(m["text"] == ARABIC and m["from_bot"] for m in state["staff_messages"])
    with sqlite3.connect(demo.data_dir / "demo.db") as db:
        assert db.execute("SELECT status FROM appointments").fetchall() == [("booked",)]
        directions = sorted(row[0] for row in db.execute("SELECT direction FROM handoff_messages"))
    assert directions == ["in", "out"], directions
