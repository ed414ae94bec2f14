"""The proposal's example (``examples/proposal_app.py``) on Gyrfalcon's class.

``tests/framework/ws/test_proposal.py`` runs every branch of the example on
the simulator and on uvicorn's stock classes; the same tests run here on
Gyrfalcon's protocol class, with the app called directly (``[fast]``: the
facade uses the engine channel, which the server's counters confirm) and
behind an ASGI middleware that wraps ``receive`` and ``send`` (``[dict]``).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / 'ws'))

from test_proposal import (
    Client,
    events,
    example,
    middleware,
    test_accept_with_wamp,
    test_event_feed,
    test_event_feed_ends_when_client_leaves,
    test_middleware_calls,
    test_parallel_sink_loop,
    test_parallel_sink_wrong_type,
    test_reject_branch,
    test_request_response_binary_media,
    test_request_response_client_leaves,
    test_request_response_done,
    test_request_response_invalid_json,
    test_request_response_text_media,
    test_request_response_wrong_type,
    test_unknown_mode,
    test_wamp_subprotocol_required,
)
from ws_sockets import CountingProtocol, serving, wrap_receive_send

pytestmark = pytest.mark.network

__all__ = [
    'events',
    'middleware',
    'test_accept_with_wamp',
    'test_event_feed',
    'test_event_feed_ends_when_client_leaves',
    'test_middleware_calls',
    'test_parallel_sink_loop',
    'test_parallel_sink_wrong_type',
    'test_reject_branch',
    'test_request_response_binary_media',
    'test_request_response_client_leaves',
    'test_request_response_done',
    'test_request_response_invalid_json',
    'test_request_response_text_media',
    'test_request_response_wrong_type',
    'test_unknown_mode',
    'test_wamp_subprotocol_required',
]


@pytest.fixture(params=['fast', 'dict'])
async def client(
    request: pytest.FixtureRequest, events: Any, middleware: Any
) -> AsyncIterator[Client]:
    """The example app on Gyrfalcon's class, on the fast or the dict path."""
    app = example.create_app(events, middleware)
    wrap = wrap_receive_send if request.param == 'dict' else None
    async with serving(CountingProtocol, wrap=wrap) as server:
        await server.start()
        server.app = app if wrap is None else wrap(app)
        yield Client('gyrfalcon', app, f'ws://127.0.0.1:{server.port}')
        await server.stop()
    assert server.served, 'the test opened no connection'
    if request.param == 'fast':
        for served in server.served.values():
            protocol = served.receive.__self__
            assert protocol.asgi_receive_calls <= 1, 'receive() after connect'
            assert 'websocket.send' not in protocol.asgi_send_types
