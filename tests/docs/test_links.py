"""Relative links in ``docs/`` and ``README.md`` lead somewhere real.

Every relative Markdown link must name an existing file or directory, and
every ``#anchor`` must name a heading of its target page, computed as GitHub
computes heading anchors (lowercased, punctuation dropped, spaces to
hyphens, ``-1``, ``-2`` for repeats). Links inside code are not links.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PAGES = sorted([ROOT / 'README.md', *(ROOT / 'docs').rglob('*.md')])

_FENCE = re.compile(r'^(```|~~~)')
_CODE_SPAN = re.compile(r'(`+).+?\1')
_LINK = re.compile(r'!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)')
_HEADING = re.compile(r'^(#{1,6})\s+(.*?)\s*#*\s*$')


def prose_lines(text: str) -> list[str]:
    """Return the lines outside fenced code blocks, with code spans removed."""
    lines, fenced = [], False
    for line in text.splitlines():
        if _FENCE.match(line.lstrip()):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(_CODE_SPAN.sub('', line))
    return lines


def slug(heading: str) -> str:
    heading = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', heading)  # links: keep text
    heading = re.sub(r'<[^>]+>', '', heading)  # inline HTML
    return re.sub(r'[^\w\- ]', '', heading.strip().lower()).replace(' ', '-')


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    fenced = False
    for line in page.read_text(encoding='utf-8').splitlines():
        if _FENCE.match(line.lstrip()):
            fenced = not fenced
            continue
        match = None if fenced else _HEADING.match(line)
        if match:
            base = slug(match.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f'{base}-{count}')
    return found


def links(page: Path) -> list[str]:
    return [
        match.group(1)
        for line in prose_lines(page.read_text(encoding='utf-8'))
        for match in _LINK.finditer(line)
    ]


def test_pages_found() -> None:
    assert ROOT / 'docs' / 'index.md' in PAGES
    assert len(PAGES) >= 10


def test_slug_matches_github() -> None:
    assert slug('`App.add_route()`') == 'appadd_route'
    assert slug('The handshake: reject, check the subprotocol, accept') == (
        'the-handshake-reject-check-the-subprotocol-accept'
    )
    assert slug('Two loops in parallel') == 'two-loops-in-parallel'
    assert slug('Constants of `gyrfalcon.protocol`') == 'constants-of-gyrfalconprotocol'


@pytest.mark.parametrize('page', PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for target in links(page):
        if re.match(r'^[a-z][a-z0-9+.-]*:', target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition('#')
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f'{target}: no such file')
        elif anchor and file.suffix == '.md' and anchor not in anchors(file):
            broken.append(f'{target}: no heading with that anchor')
    assert not broken, f'{page.relative_to(ROOT)}: ' + '; '.join(broken)
