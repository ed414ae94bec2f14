"""``docs/guide/websockets.md``: its Python blocks run, and match the example.

The guide's ```` ```python ```` blocks are executed in order, in one
namespace, as the reader would run them (top-level ``await`` included). Each
function or class the guide defines that ``examples/proposal_app.py`` also
defines must be the same code, and the guide must show all of them.
"""

from __future__ import annotations
import __future__

import ast
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parents[3]
GUIDE = ROOT / 'docs' / 'guide' / 'websockets.md'
EXAMPLE = ROOT / 'examples' / 'proposal_app.py'

_BLOCK = re.compile(r'^```python\n(.*?)^```$', re.DOTALL | re.MULTILINE)
_FLAGS = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT | __future__.annotations.compiler_flag


def python_blocks() -> list[str]:
    return _BLOCK.findall(GUIDE.read_text())


def definitions(source: str) -> dict[str, str]:
    """Map each top-level function or class name to its AST dump."""
    return {
        node.name: ast.dump(node)
        for node in ast.parse(source).body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }


def test_guide_has_python_blocks() -> None:
    assert len(python_blocks()) >= 10


async def test_blocks_run_in_order() -> None:
    namespace: dict[str, Any] = {'__name__': 'websockets_guide'}
    for number, block in enumerate(python_blocks(), 1):
        code = compile(block, f'<{GUIDE.name} block {number}>', 'exec', flags=_FLAGS)
        result = eval(code, namespace)
        if result is not None:
            await result
    # NOTE: The last blocks drive the app through the simulator; reaching
    #   here means their assertions held.
    assert 'feed_conversation' in namespace


def test_definitions_match_the_example() -> None:
    example = definitions(EXAMPLE.read_text())
    shown: dict[str, str] = {}
    for block in python_blocks():
        shown.update(definitions(block))
    missing = sorted(set(example) - set(shown))
    assert not missing, f'the guide does not show {missing}'
    for name, dump in example.items():
        assert shown[name] == dump, f'{name} differs between the guide and the example'
