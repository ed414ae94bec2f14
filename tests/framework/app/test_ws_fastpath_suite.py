"""The WebSocket suite (``tests/framework/ws``) again, on a real server.

Every test there that talks to the app through ``connect()`` or ``denial()``
(the in-process simulator) runs here over real sockets, on uvicorn with
Gyrfalcon's WebSocket protocol class, twice:

* ``[fast]``: the app gets the server's own ``receive`` and ``send``, so the
  ``WebSocket`` facade takes the fast path (the engine channel). After each
  test, the server's counters prove it: no ``receive()`` call after
  ``websocket.connect`` and no ``websocket.send`` message went through ASGI.
* ``[dict]``: the app sits behind an ASGI middleware that wraps ``receive``
  and ``send``, so the facade takes the standard dict path (and runs its
  receive pump) on the same server.

``ws_sockets.SocketServer.connect()`` stands in for the simulator (same
signature, same client API), and ``settle()`` gives the loop more turns, as
each exchange now crosses the loopback interface.

The few tests that check what only the simulator can show are listed in
``SIMULATOR_ONLY`` with the reason; a real server answers every close before
``accept()`` with HTTP 403, so the close code the app chose (3404, 1011...)
never reaches a client.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import gyrfalcon as falcon

sys.path.insert(0, str(Path(__file__).parents[1] / 'ws'))

import test_beyond_falcon
import test_docs_guide
import test_s00_summary
import test_s01_app
import test_s02_websocket
import test_s03_s04_options_errors
import test_s05_error_matrix
import test_s06_s07_denial_middleware
import test_s08_s09_request_media
import test_s10_s12_receiver_testing_sync
import ws_support
from ws_sockets import CountingProtocol, SocketServer, serving, wrap_receive_send

pytestmark = pytest.mark.network

SUITE: list[ModuleType] = [
    test_beyond_falcon,
    test_docs_guide,
    test_s00_summary,
    test_s01_app,
    test_s02_websocket,
    test_s03_s04_options_errors,
    test_s05_error_matrix,
    test_s06_s07_denial_middleware,
    test_s08_s09_request_media,
    test_s10_s12_receiver_testing_sync,
]

_DENIAL_CODE = (
    'a real server answers a close before accept() with HTTP 403; '
    "the app's close code stays on the server"
)
_REAL_SCOPE = (
    "the scope's host, scheme, root path and client address are the real connection's"
)
SIMULATOR_ONLY: dict[str, str] = {
    # test (qualified name in its module, optionally with [param id]): reason
    'TestDeny.test_falls_back_to_403_without_extension': (
        'needs a server without the websocket.http.response extension'
    ),
    'test_row_12_accept_headers': 'needs an ASGI 2.1 server',
    'test_row_13_close_reason[2.2-bye-]': 'needs an ASGI 2.2 server',
    'test_supports_accept_headers[2.0-False]': 'needs an ASGI 2.0 server',
    'test_supports_accept_headers[2.1-True]': 'needs an ASGI 2.1 server',
    'TestAccept.test_headers_on_spec_2_0': 'needs an ASGI 2.0 server',
    'TestAccept.test_subprotocol_not_checked_against_offer': (
        'a client fails a handshake that names a subprotocol it did not offer '
        '(RFC 6455 §4.1)'
    ),
    **{
        f'test_row_22_http_errors_map_to_3000_plus_status[{case}-False]': _DENIAL_CODE
        for case in (
            'error0-3400-Bad Request',
            'error1-3422-Unprocessable Entity',
            'error2-3200-OK',
        )
    },
    'test_row_24_no_route_no_responder_static': _DENIAL_CODE,
    'test_on_request_default_responder_skips_websocket': _DENIAL_CODE,
    'TestClose.test_before_accept_is_a_denial': _DENIAL_CODE,
    'test_simulator_only_subclasses': 'the simulator-only exception subclasses',
    'TestFailurePaths': (
        f'{_DENIAL_CODE}; test_failure_paths_after_accept() runs the accepted cases'
    ),
    'test_no_route_is_3404': _DENIAL_CODE,
    'test_route_without_on_websocket_is_3405': _DENIAL_CODE,
    'test_static_route_is_3400': _DENIAL_CODE,
    'test_responder_signature_mismatch': _DENIAL_CODE,
    'test_simulator_view_of_a_denial[1011-1011-given]': _DENIAL_CODE,
    'test_simulator_view_of_a_denial[3000-3000-given]': _DENIAL_CODE,
    'test_simulator_view_of_a_denial[3999-3999-given]': _DENIAL_CODE,
    'TestSimulateWs.test_enter_raises_on_denial': _DENIAL_CODE,
    'test_wait_ready_raises_specific_errors': _DENIAL_CODE,
    'test_scheme': _REAL_SCOPE,
    'test_everything_else_works': _REAL_SCOPE,
    'test_handshake_path_and_url': _REAL_SCOPE,
}


def _talks_to_the_app(obj: object, helpers: set[str]) -> bool:
    """Tell whether a test (or test class) connects through the simulator."""
    source = inspect.getsource(obj)  # type: ignore[arg-type]
    return any(f'{name}(' in source for name in ('connect', 'denial', *helpers))


def _collect(module: ModuleType) -> dict[str, Any]:
    """Return the tests of `module` to run here, under unique names."""
    # Helpers of the module that connect (e.g. run_probe) count as connecting.
    own = {
        name: obj
        for name, obj in vars(module).items()
        if getattr(obj, '__module__', None) == module.__name__
    }
    helpers = {
        name
        for name, obj in own.items()
        if inspect.isfunction(obj)
        and not name.startswith('test_')
        and _talks_to_the_app(obj, set())
    }
    short = module.__name__.removeprefix('test_')
    tests: dict[str, Any] = {}
    for name, obj in own.items():
        if name in SIMULATOR_ONLY:
            continue
        if name.startswith('test_') and inspect.isfunction(obj):
            if _talks_to_the_app(obj, helpers):
                tests[f'test_{short}__{name.removeprefix("test_")}'] = obj
        elif name.startswith('Test') and inspect.isclass(obj):
            if _talks_to_the_app(obj, helpers):
                tests[f'Test_{short}__{name.removeprefix("Test")}'] = obj
    return tests


for _module in SUITE:
    globals().update(_collect(_module))


@pytest.mark.parametrize(
    ('site', 'error', 'code', 'reason'), test_s05_error_matrix.CASES
)
async def test_failure_paths_after_accept(
    site: str,
    error: BaseException,
    code: int,
    reason: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """§5: what the client sees when a failure ends an accepted connection."""
    await test_s05_error_matrix.TestFailurePaths().test_what_the_client_sees(
        site, True, error, code, reason, caplog
    )


# --- fixtures ------------------------------------------------------------------


@pytest.fixture
def app() -> Any:
    return falcon.asgi.App()


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def _simulator_only(request: pytest.FixtureRequest) -> str | None:
    node = request.node
    name = node.function.__name__
    if node.cls is not None:
        name = f'{node.cls.__name__}.{name}'
    if name in SIMULATOR_ONLY:
        return SIMULATOR_ONLY[name]
    # NOTE: The path ('fast' or 'dict') comes first in the parameter id.
    case = node.callspec.id.split('-', 1)
    if len(case) == 2:
        return SIMULATOR_ONLY.get(f'{name}[{case[1]}]')
    return None


@pytest.fixture(params=['fast', 'dict'])
async def socket_server(request: pytest.FixtureRequest) -> AsyncIterator[SocketServer]:
    """A server on Gyrfalcon's class; the app takes the fast or the dict path."""
    wrap: Callable[[Any], Any] | None = None
    if request.param == 'dict':
        wrap = wrap_receive_send
    async with serving(CountingProtocol, wrap=wrap) as server:
        yield server
    if request.param == 'fast':
        for served in server.served.values():
            protocol = served.receive.__self__
            assert protocol.asgi_receive_calls <= 1, 'receive() after connect'
            assert 'websocket.send' not in protocol.asgi_send_types


@pytest.fixture(autouse=True)
def over_sockets(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    socket_server: SocketServer,
) -> None:
    """Point the suite's ``connect()`` and ``settle()`` at the real server."""
    reason = _simulator_only(request)
    if reason is not None:
        pytest.skip(f'simulator only: {reason}')

    def connect(app: Any, path: str = '/', **kwargs: Any) -> Any:
        return socket_server.connect(app, path, **kwargs)

    async def settle(rounds: int = 10) -> None:
        # NOTE: One exchange now crosses the loopback interface: a read, the
        #   app's turn and a write on each side.
        for __ in range(rounds * 5):
            await asyncio.sleep(0)

    for module in [ws_support, *SUITE]:
        monkeypatch.setattr(module, 'connect', connect, raising=False)
        monkeypatch.setattr(module, 'settle', settle, raising=False)
