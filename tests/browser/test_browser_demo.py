"""The demo page in a real browser: headless Chromium, two windows.

``gyrfalcon demo`` runs in a subprocess on a free port; Selenium drives the
system's Chromium through the system's chromedriver. One window is Alice,
the other Bob. The test checks what a person would see: both connections
say "open", a chat message typed in one window shows up in the other, the
feed's counter keeps going up, the page counts messages per second, and the
console stays free of errors (a Content-Security-Policy violation would
show up there).

Without Chromium, chromedriver or Selenium the test fails, saying how to
install them (``apt-get install -y chromium chromium-driver``,
``pip install selenium``); it never skips.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import pytest
from browser_harness import (
    Browser,
    BrowserMissing,
    DemoServer,
    Page,
    chromium,
    demo_server,
    require_browser,
)

pytestmark = [pytest.mark.browser, pytest.mark.network, pytest.mark.slow]


@pytest.fixture(scope='module')
def browser() -> Browser:
    try:
        return require_browser()
    except BrowserMissing as ex:
        problem = str(ex)
    pytest.fail(problem, pytrace=False)


@pytest.fixture(scope='module')
def server() -> Iterator[DemoServer]:
    with demo_server() as running:
        yield running


def test_two_windows_chat_and_watch_the_feed(
    browser: Browser, server: DemoServer
) -> None:
    with chromium(browser) as driver:
        alice = Page.open(driver, server.url, 'alice', new_window=False)
        bob = Page.open(driver, server.url, 'bob', new_window=True)
        alice.wait_open()
        bob.wait_open()
        assert bob.text('me') == 'bob'
        alice.wait_text('online', lambda t: t == 'alice, bob', 'both online')

        # A message typed by Alice appears in Bob's window, under her name.
        alice.say('hello from alice')
        line = bob.wait_text(
            'chat-log', lambda t: 'hello from alice' in t, 'the message in Bob'
        )
        assert 'alice' in line
        heard = [text for text in bob.chat_lines() if 'hello from alice' in text]
        assert len(heard) == 1 and 'alice' in heard[0]

        # And Bob's answer in Alice's.
        bob.say('hi alice')
        alice.wait_text('chat-log', lambda t: 'hi alice' in t, 'the answer in Alice')

        # The feed keeps counting, in both windows.
        for page in (alice, bob):
            start = page.feed_seq()
            page.wait_text(
                'feed-seq',
                functools.partial(_beyond, start + 2),
                'the counter to go up',
            )
            page.wait_text('feed-listeners', lambda t: t == '2', 'two listeners')
            page.wait_text('rate', lambda t: t.isdigit() and int(t) > 0, 'msgs/s')
            assert page.text('feed-server').startswith(
                '10 events/s, gyrfalcon engine ('
            )

        # /quit closes Bob's chat cleanly; Alice sees him go.
        bob.say('/quit')
        bob.wait_text(
            'chat-state', lambda t: t == 'closed (1000 Goodbye)', 'the clean close'
        )
        alice.wait_text('chat-log', lambda t: 'bob left.' in t, 'bob leaving')
        assert alice.text('chat-state') == 'open'
        assert bob.text('feed-state') == 'open'

        assert alice.console_errors() == []


def _beyond(floor: int, text: str) -> bool:
    return text.isdigit() and int(text) > floor


def test_page_reconnects_after_the_server_restarts(browser: Browser) -> None:
    with chromium(browser) as driver:
        with demo_server() as first:
            page = Page.open(driver, first.url, 'carol', new_window=False)
            page.wait_open()
            port = first.port
        # The server is gone: the page says so (and keeps retrying)...
        page.wait_text(
            'feed-state', lambda t: t != 'open', 'the page to notice the server left'
        )
        # ...and once a server listens on the same port again, both
        # connections come back by themselves, with a fresh token.
        with demo_server(port=port):
            page.wait_open()
            page.wait_text('online', lambda t: t == 'carol', 'carol back online')
        assert page.console_errors() == [] or all(
            # Failed reconnection attempts while the server was down.
            'ERR_CONNECTION_REFUSED' in error or 'WebSocket' in error
            for error in page.console_errors()
        )
