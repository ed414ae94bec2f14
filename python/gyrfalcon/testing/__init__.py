"""Testing helpers for Gyrfalcon apps and for the WebSocket engine.

The module mirrors ``falcon.testing`` for ASGI apps: ``TestClient`` and the
``simulate_*()`` functions for synchronous tests, ``ASGIConductor`` for
asynchronous ones (interleaved requests, streamed bodies, and WebSocket
connections through ``simulate_ws()``), ``TestCase`` for ``unittest``, and the
building blocks underneath (``create_scope()``, the ASGI event emitters and
collector, ``ASGIWebSocketSimulator``). It drives any ASGI 3 app::

    from gyrfalcon import testing

    def test_get_message():
        client = testing.TestClient(myapp.create())
        assert client.simulate_get('/messages/42').json == {'message': 'hi'}

    async def test_feed():
        async with testing.ASGIConductor(myapp.create()) as conductor:
            async with conductor.simulate_ws('/feed') as ws:
                assert await ws.receive_json() == {'event': 'hello'}

``EnginePair`` (two WebSocket engines connected in memory, from
``gyrfalcon.testing.pair``) is re-exported too when that module is present;
it is imported on first use.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from .client import (
    ASGIConductor,
    Cookie,
    Result,
    ResultBodyStream,
    StreamedResult,
    TestClient,
    simulate_delete,
    simulate_get,
    simulate_head,
    simulate_options,
    simulate_patch,
    simulate_post,
    simulate_put,
    simulate_request,
)
from .helpers import (
    DEFAULT_HOST,
    DEFAULT_UA,
    ASGILifespanEventEmitter,
    ASGIRequestEventEmitter,
    ASGIResponseEventCollector,
    ASGIWebSocketSimulator,
    create_asgi_req,
    create_scope,
    create_scope_ws,
    get_encoding_from_headers,
    get_unused_port,
    rand_string,
)
from .resource import (
    SimpleTestResource,
    SimpleTestResourceAsync,
    capture_responder_args,
    capture_responder_args_async,
    set_resp_defaults,
    set_resp_defaults_async,
)
from .test_case import TestCase

__all__ = [
    # client
    'ASGIConductor',
    'Cookie',
    'Result',
    'ResultBodyStream',
    'StreamedResult',
    'TestClient',
    'simulate_delete',
    'simulate_get',
    'simulate_head',
    'simulate_options',
    'simulate_patch',
    'simulate_post',
    'simulate_put',
    'simulate_request',
    # helpers
    'DEFAULT_HOST',
    'DEFAULT_UA',
    'ASGILifespanEventEmitter',
    'ASGIRequestEventEmitter',
    'ASGIResponseEventCollector',
    'ASGIWebSocketSimulator',
    'create_asgi_req',
    'create_scope',
    'create_scope_ws',
    'get_encoding_from_headers',
    'get_unused_port',
    'rand_string',
    # resource
    'SimpleTestResource',
    'SimpleTestResourceAsync',
    'capture_responder_args',
    'capture_responder_args_async',
    'set_resp_defaults',
    'set_resp_defaults_async',
    # test_case
    'TestCase',
]

_PAIR_MODULE = __name__ + '.pair'

if importlib.util.find_spec(_PAIR_MODULE) is not None:
    __all__ += ['EnginePair']


def __getattr__(name: str) -> Any:
    # NOTE(gyrfalcon): EnginePair is imported lazily, so that importing the
    #   testing package does not load an engine, and works without pair.py.
    if name == 'EnginePair' and 'EnginePair' in __all__:
        return importlib.import_module(_PAIR_MODULE).EnginePair
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
