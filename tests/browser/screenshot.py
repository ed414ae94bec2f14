"""Regenerate ``docs/images/demo.png``: the demo in headless Chromium.

Run from anywhere::

    python3 tests/browser/screenshot.py [--output docs/images/demo.png]

It starts ``gyrfalcon demo`` on a free port, opens the page as Alice and as
Bob, has them chat, lets the feed run for a few seconds so its chart has a
shape, and saves Alice's window. Needs what the browser tests need
(``apt-get install -y chromium chromium-driver``, ``pip install selenium``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from browser_harness import Page, chromium, demo_server, require_browser

ROOT = Path(__file__).resolve().parents[2]

CONVERSATION = [
    ('alice', 'Hi Bob! The feed on the right is pushed by the server.'),
    ('bob', 'Ten events a second, and the chat shares the same server.'),
    ('alice', 'Open this page in another window to see messages both ways.'),
    ('bob', 'Nice. Try /quit for a clean close (code 1000).'),
]


def _containing(part: str) -> Callable[[str], bool]:
    return lambda text: part in text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--output', type=Path, default=ROOT / 'docs' / 'images' / 'demo.png'
    )
    parser.add_argument(
        '--events', type=int, default=60, help='feed events to wait for first'
    )
    args = parser.parse_args(argv)

    browser = require_browser()
    with demo_server() as server, chromium(browser, 1280, 760) as driver:
        alice = Page.open(driver, server.url, 'alice', new_window=False)
        bob = Page.open(driver, server.url, 'bob', new_window=True)
        alice.wait_open()
        bob.wait_open()
        for speaker, text in CONVERSATION:
            page = alice if speaker == 'alice' else bob
            page.say(text)
            alice.wait_text('chat-log', _containing(text), 'the line')
        alice.wait_text(
            'feed-seq',
            lambda t: t.isdigit() and int(t) >= args.events,
            f'{args.events} feed events',
        )
        alice.focus()
        args.output.parent.mkdir(parents=True, exist_ok=True)
        if not driver.save_screenshot(str(args.output)):
            print(f'could not save {args.output}', file=sys.stderr)
            return 1
    print(f'saved {args.output}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
