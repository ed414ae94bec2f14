"""``docs/guide/hub.md``: its Python blocks run, in order, as one module."""

from __future__ import annotations
import __future__

import ast
import re
from pathlib import Path
from typing import Any

GUIDE = Path(__file__).parents[2] / 'docs' / 'guide' / 'hub.md'

_BLOCK = re.compile(r'^```python\n(.*?)^```$', re.DOTALL | re.MULTILINE)
_FLAGS = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT | __future__.annotations.compiler_flag


def test_guide_has_python_blocks() -> None:
    blocks = _BLOCK.findall(GUIDE.read_text())
    assert len(blocks) >= 5


async def test_blocks_run_in_order() -> None:
    namespace: dict[str, Any] = {'__name__': 'hub_guide'}
    for number, block in enumerate(_BLOCK.findall(GUIDE.read_text()), 1):
        code = compile(block, f'<{GUIDE.name} block {number}>', 'exec', flags=_FLAGS)
        result = eval(code, namespace)
        if result is not None:
            await result
    # The last block drives the examples through the simulator; reaching
    # here means its assertions held.
    assert 'feed_conversation' in namespace
