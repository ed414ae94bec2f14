"""The API reference in ``docs/reference/`` is complete and up to date.

The pages are generated from docstrings by ``docs/reference/generate.py``
(``make docs``). A docstring or ``__all__`` change without regenerating fails
here, and so does a public class, function or method without a docstring,
or with a summary line that is not one sentence of at most 79 characters
ending with a period (Falcon's rule).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import os
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[2]
REFERENCE = ROOT / 'docs' / 'reference'

# The modules issue 3 names, each documented in full (its whole ``__all__``).
REQUIRED = [
    'gyrfalcon',
    'gyrfalcon.asgi',
    'gyrfalcon.errors',
    'gyrfalcon.constants',
    'gyrfalcon.status_codes',
    'gyrfalcon.hooks',
    'gyrfalcon.media',
    'gyrfalcon.testing',
    'gyrfalcon.server',
    'gyrfalcon.server.uvicorn',
    'gyrfalcon.cli',
    'gyrfalcon.protocol',
]


def load_generator() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(
        'gyrfalcon_docs_generate', REFERENCE / 'generate.py'
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


generate = load_generator()


@pytest.fixture(scope='module')
def pages() -> dict[str, str]:
    result: dict[str, str] = generate.generate()
    return result


def test_generator_documents_this_tree() -> None:
    # The tree itself, or an installed copy of exactly its sources (CI).
    import gyrfalcon

    assert generate.stale_sources(Path(gyrfalcon.__file__).resolve().parent) == []


def test_committed_pages_are_up_to_date(pages: dict[str, str]) -> None:
    committed = {p.name: p.read_text(encoding='utf-8') for p in REFERENCE.glob('*.md')}
    stale = sorted(name for name in pages if committed.get(name) != pages[name])
    extra = sorted(set(committed) - set(pages))
    assert not stale and not extra, (
        f'docs/reference/ is out of date (stale: {stale}, not generated: '
        f'{extra}); run `make docs` and commit the result'
    )


def test_generator_writes_the_pages(tmp_path: Path, pages: dict[str, str]) -> None:
    assert generate.main(['--out', str(tmp_path)]) == 0
    written = {p.name: p.read_text(encoding='utf-8') for p in tmp_path.iterdir()}
    assert written == pages


def test_required_modules_have_a_page_each() -> None:
    for module in REQUIRED:
        names: list[str] = []
        for page in generate.PAGES:
            for section in page.sections:
                if section.module == module:
                    names += section.names or list(
                        importlib.import_module(module).__all__
                    )
        assert names, f'{module} is on no page'
        if module != 'gyrfalcon':  # its re-exports are documented in place
            assert sorted(names) == sorted(importlib.import_module(module).__all__)


def documented_names(text: str) -> set[str]:
    names = set()
    for line in text.splitlines():
        if line.startswith('### `') and line.endswith('`'):
            names.add(line[5:-1])
        elif line.startswith('| `'):
            names.add(line.split('`')[1])
    return names


def test_every_public_name_appears(pages: dict[str, str]) -> None:
    missing = []
    for page in generate.PAGES:
        shown = documented_names(pages[page.file])
        for section in page.sections:
            module = importlib.import_module(section.module)
            for name in section.names or module.__all__:
                if name not in shown:
                    missing.append(f'{section.module}.{name} ({page.file})')
    import gyrfalcon

    table = pages['gyrfalcon.md'].split('## Names in `gyrfalcon`', 1)[1]
    for name in gyrfalcon.__all__:
        if f'| [`{name}`](' not in table:
            missing.append(f'gyrfalcon.{name} (gyrfalcon.md, unlinked or absent)')
    assert not missing, missing


def test_cli_page_shows_the_real_help(pages: dict[str, str]) -> None:
    env = {**os.environ, 'COLUMNS': '80'}
    for command in generate.CLI_COMMANDS:
        result = subprocess.run(
            [sys.executable, '-m', 'gyrfalcon', *command, '--help'],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        assert result.stdout.strip() in pages['cli.md']
        assert f'### `gyrfalcon {" ".join([*command, "--help"])}`' in pages['cli.md']


def docstrings() -> Iterator[tuple[str, str | None]]:
    """Yield (dotted name, docstring) for every public callable documented."""
    _, stub_nodes = generate.stub()
    for page in generate.PAGES:
        for section in page.sections:
            module = importlib.import_module(section.module)
            for name in section.names or module.__all__:
                obj = getattr(module, name)
                node = (
                    stub_nodes.get(name)
                    if section.module == 'gyrfalcon.protocol'
                    else None
                )
                item = generate.Item(section.module, name, obj, node)
                path = f'{section.module}.{name}'
                if node is not None:
                    yield path, ast.get_docstring(node)
                    for member, member_node, _ in generate.members(item):
                        yield f'{path}.{member}', ast.get_docstring(member_node)
                    continue
                if generate.is_constant(item) or not str(
                    getattr(obj, '__module__', '')
                ).startswith('gyrfalcon'):
                    continue  # data, modules, and re-exports of the stdlib
                if inspect.isclass(obj):
                    yield path, vars(obj).get('__doc__')
                else:
                    yield path, obj.__doc__
                for member, value, _ in generate.members(item):
                    yield f'{path}.{member}', member_doc(value)


def member_doc(value: Any) -> str | None:
    if isinstance(value, property):
        return value.__doc__
    if isinstance(value, (staticmethod, classmethod)):
        value = value.__func__
    return inspect.getdoc(value)


def test_every_public_callable_has_a_docstring() -> None:
    found = list(docstrings())
    assert len(found) > 500
    missing = [name for name, doc in found if not (doc and doc.strip())]
    assert not missing, f'no docstring: {missing}'


def test_summary_lines_follow_falcon_style() -> None:
    bad = []
    for name, doc in docstrings():
        summary = inspect.cleandoc(doc or '').split('\n', 1)[0]
        if not summary.endswith('.') or len(summary) > 79:
            bad.append(f'{name}: {summary!r}')
    assert not bad, bad


def test_sections_become_lists(pages: dict[str, str]) -> None:
    websocket = pages['websocket.md']
    section = websocket.split('#### `WebSocket.send_text()`', 1)[1].split('####', 1)[0]
    assert '**Raises:**' in section
    assert '- [`WebSocketDisconnected`](errors.md#websocketdisconnected): ' in section
    assert 'Raises:\n' not in websocket


def test_engine_page_comes_from_the_stub(pages: dict[str, str]) -> None:
    stub = ast.parse((ROOT / 'python' / 'gyrfalcon' / '_native.pyi').read_text())
    server = next(
        n
        for n in stub.body
        if isinstance(n, ast.ClassDef) and n.name == 'ServerConnection'
    )
    receive = next(
        n
        for n in server.body
        if isinstance(n, ast.FunctionDef) and n.name == 'receive_data'
    )
    doc = ast.get_docstring(receive)
    assert doc is not None
    protocol = pages['protocol.md']
    assert '#### `ServerConnection.receive_data()`' in protocol
    assert 'receive_data(data: bytes | bytearray | memoryview) -> int' in protocol
    assert doc.split('\n', 1)[0] in protocol
