"""``docs/guide/hub-redis.md``: its examples run and its defaults are true."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

from gyrfalcon.hub.redis import RedisBackend

GUIDE = Path(__file__).parents[3] / 'docs' / 'guide' / 'hub-redis.md'
BLOCK = re.compile(r'^```python\n(.*?)^```', re.DOTALL | re.MULTILINE)


def blocks() -> list[str]:
    return BLOCK.findall(GUIDE.read_text())


def test_the_python_blocks_run() -> None:
    namespace: dict[str, object] = {}
    for block in blocks():
        exec(compile(block, str(GUIDE), 'exec'), namespace)
    hub = namespace['hub']
    backend = hub.backend  # type: ignore[attr-defined]
    assert isinstance(backend, RedisBackend)
    assert hub.options('feed:prices').retain == 1000  # type: ignore[attr-defined]


def test_the_options_block_shows_the_defaults() -> None:
    (call,) = [b for b in blocks() if b.lstrip().startswith('RedisBackend(')]
    expression = ast.parse(call, mode='eval').body
    assert isinstance(expression, ast.Call)
    parameters = inspect.signature(RedisBackend).parameters
    shown = {k.arg: ast.literal_eval(k.value) for k in expression.keywords}
    assert shown.pop('connection_options') == {}
    assert parameters['connection_options'].default is None
    assert shown == {
        name: p.default
        for name, p in parameters.items()
        if p.kind is p.KEYWORD_ONLY and name != 'connection_options'
    }
    assert ast.literal_eval(expression.args[0]) == parameters['url'].default
