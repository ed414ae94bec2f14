"""Serve the demo and drive Debian's Chromium at it, headless.

Shared by the browser test (``test_browser_demo.py``) and the screenshot
script (``screenshot.py``). The demo runs the way a user runs it, as
``python -m gyrfalcon demo --port 0`` in a subprocess; the browser is the
system's Chromium driven by Selenium through the system's chromedriver
(Selenium's own driver download is never used).

Requirements: ``apt-get install -y chromium chromium-driver`` and
``pip install selenium``. When either is missing, ``require_browser()``
raises ``BrowserMissing`` with those instructions; the test turns it into a
failure, never a skip.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

GUARD = 20.0
"""Seconds before a wait that should succeed is declared hung (never asserted)."""

INSTALL = (
    "The browser tests need Debian's Chromium, its driver and Selenium:\n"
    '    apt-get update && apt-get install -y chromium chromium-driver\n'
    '    pip install selenium\n'
    '(set GYRFALCON_CHROMIUM / GYRFALCON_CHROMEDRIVER to use other binaries)'
)

_T = TypeVar('_T')


class BrowserMissing(RuntimeError):
    """Chromium, chromedriver or Selenium is not installed."""


@dataclass
class Browser:
    """Where the browser and its driver are."""

    chromium: str
    chromedriver: str


def require_browser() -> Browser:
    """Find Chromium, chromedriver and Selenium.

    Raises:
        BrowserMissing: One of them is missing; the message says how to
            install it.
    """
    chromium = os.environ.get('GYRFALCON_CHROMIUM') or _which(
        'chromium', 'chromium-browser', 'google-chrome'
    )
    chromedriver = os.environ.get('GYRFALCON_CHROMEDRIVER') or _which('chromedriver')
    missing = [
        name
        for name, path in [('chromium', chromium), ('chromedriver', chromedriver)]
        if not path or not os.access(path, os.X_OK)
    ]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append('selenium (Python package)')
    if missing or chromium is None or chromedriver is None:
        raise BrowserMissing(f'missing: {", ".join(missing)}\n{INSTALL}')
    return Browser(chromium, chromedriver)


def _which(*names: str) -> str | None:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    return None


# -- the demo server -------------------------------------------------------------


@dataclass
class DemoServer:
    """A ``gyrfalcon demo`` subprocess."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def port(self) -> int:
        return int(self.url.rpartition(':')[2])

    def output(self) -> str:
        return self.log.read_text(errors='replace')


@contextlib.contextmanager
def demo_server(port: int = 0) -> Iterator[DemoServer]:
    """Run ``python -m gyrfalcon demo --port <port>``; yield it once it listens.

    Port 0 (the default) picks a free port.
    """
    with tempfile.TemporaryDirectory(prefix='gyrfalcon-demo-') as tmp:
        log = Path(tmp) / 'server.log'
        with log.open('wb') as sink:
            process = subprocess.Popen(
                [sys.executable, '-m', 'gyrfalcon', 'demo', '--port', str(port)],
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        try:
            url = wait_for(lambda: _bound_url(log, process), 'the demo server')
            yield DemoServer(url, process, log)
        finally:
            process.terminate()
            try:
                process.wait(GUARD)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _bound_url(log: Path, process: subprocess.Popen[bytes]) -> str | None:
    """Return the server's URL once it listens; raise if it exited."""
    found = re.search(r'running on (http://127\.0\.0\.1:\d+)', log.read_text())
    if found:
        return found.group(1)
    if process.poll() is not None:
        raise RuntimeError(
            f'gyrfalcon demo exited with {process.returncode}:\n{log.read_text()}'
        )
    return None


def wait_for(predicate: Callable[[], _T | None], what: str) -> _T:
    """Poll `predicate` until it returns a true value, and return that."""
    deadline = time.monotonic() + GUARD
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f'gave up waiting for {what}')
        time.sleep(0.05)


# -- the browser -----------------------------------------------------------------


@contextlib.contextmanager
def chromium(
    browser: Browser, width: int = 1280, height: int = 860
) -> Iterator[WebDriver]:
    """Start headless Chromium; yield its Selenium driver."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser.chromium
    for argument in [
        '--headless=new',
        f'--window-size={width},{height}',
        '--no-sandbox',  # root in a container has no user namespaces
        '--disable-dev-shm-usage',
        '--disable-gpu',
        '--no-first-run',
        '--no-default-browser-check',
        '--force-device-scale-factor=1',
        # Two windows at once: keep the one in the background at full speed.
        '--disable-background-timer-throttling',
        '--disable-backgrounding-occluded-windows',
        '--disable-renderer-backgrounding',
    ]:
        options.add_argument(argument)
    options.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    driver = webdriver.Chrome(
        service=Service(executable_path=browser.chromedriver), options=options
    )
    try:
        driver.set_page_load_timeout(GUARD)
        yield driver
    finally:
        driver.quit()


class Page:
    """One window of the demo page, for a given user name."""

    def __init__(self, driver: WebDriver, handle: str, name: str) -> None:
        self.driver = driver
        self.handle = handle
        self.name = name

    @classmethod
    def open(cls, driver: WebDriver, url: str, name: str, new_window: bool) -> Page:
        if new_window:
            driver.switch_to.new_window('window')
        driver.get(f'{url}/?name={name}')
        return cls(driver, driver.current_window_handle, name)

    def focus(self) -> Page:
        self.driver.switch_to.window(self.handle)
        return self

    def text(self, element_id: str) -> str:
        self.focus()
        from selenium.webdriver.common.by import By

        text: str = self.driver.find_element(By.ID, element_id).text
        return text

    def wait_text(
        self, element_id: str, predicate: Callable[[str], Any], what: str
    ) -> str:
        """Wait until the element's text satisfies `predicate`; return it."""

        def check() -> str | None:
            text = self.text(element_id)
            return text if predicate(text) else None

        return wait_for(check, f'{what} ({self.name})')

    def wait_open(self) -> None:
        """Wait until both connections of the page say ``open``."""
        for room in ('chat', 'feed'):
            self.wait_text(f'{room}-state', lambda t: t == 'open', f'{room} open')

    def say(self, text: str) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys

        self.focus()
        box = self.driver.find_element(By.ID, 'chat-input')
        box.send_keys(text)
        box.send_keys(Keys.ENTER)

    def chat_lines(self) -> list[str]:
        from selenium.webdriver.common.by import By

        self.focus()
        return [
            item.text
            for item in self.driver.find_elements(By.CSS_SELECTOR, '#chat-log li')
        ]

    def feed_seq(self) -> int:
        text = self.text('feed-seq')
        return int(text) if text.isdigit() else 0

    def console_errors(self) -> list[str]:
        """Return the page's console errors (CSP violations, exceptions...)."""
        self.focus()
        # get_log() is Chromium's (not in the W3C WebDriver protocol).
        driver: Any = self.driver
        entries = driver.get_log('browser')
        return [entry['message'] for entry in entries if entry.get('level') == 'SEVERE']
