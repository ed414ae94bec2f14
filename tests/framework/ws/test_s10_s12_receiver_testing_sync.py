"""Inventory §10 (receive pump), §11 (testing support) and §12 (sync helpers)."""

from __future__ import annotations

import asyncio
import inspect
import warnings
from typing import Any

import pytest
from ws_support import RawConnection, connect, denial, settle

import gyrfalcon as falcon
from gyrfalcon import testing


class Pusher:
    """Sends until the send fails; records the close code it failed with."""

    def __init__(self) -> None:
        self.codes: list[int] = []
        self.flags: list[tuple[bool, bool]] = []

    async def on_websocket(self, req: Any, ws: Any) -> None:
        await ws.accept()
        try:
            while True:
                await ws.send_text('tick')
                await settle(2)
        except falcon.WebSocketDisconnected as ex:
            self.codes.append(ex.code)
            self.flags.append((ws.ready, ws.closed))


# --- §10 ---------------------------------------------------------------------


async def test_purpose_send_only_loop_learns_of_disconnect(app: Any) -> None:
    """§10 Purpose: a loop that only sends still sees the client leave."""
    app.add_route('/', pusher := Pusher())
    raw = RawConnection(app)
    raw.push_disconnect(1001)
    await raw.run()
    assert pusher.codes == [1001]


async def test_start_on_accept_stop_on_close(app: Any) -> None:
    """§10 Start / stop: the pump starts at accept, and stops at close."""
    counts = {}

    class Lifecycle:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await settle()
            counts['before_accept'] = raw.receive_calls
            await ws.accept()
            await settle()
            counts['after_accept'] = raw.receive_calls
            await ws.close()
            raw.push_text('ignored')
            raw.push_text('ignored')
            await settle()
            counts['after_close'] = raw.receive_calls

    app.add_route('/', Lifecycle())
    raw = RawConnection(app)
    await raw.run()
    assert counts['before_accept'] == 1
    assert counts['after_accept'] == 2
    assert counts['after_close'] == 2


async def test_pump_records_the_disconnect_code(app: Any) -> None:
    """§10 ``_pump``: the disconnect's code is kept for later sends."""
    app.add_route('/', pusher := Pusher())
    raw = RawConnection(app)
    raw.push_disconnect(4321)
    await raw.run()
    assert pusher.codes == [4321]
    assert [e for e in raw.sent if e['type'] == 'websocket.close'] == []


async def test_queued_messages_come_before_the_disconnect(app: Any) -> None:
    """§10 ``receive``: messages queued by the pump come before the disconnect."""
    received = []

    class Reader:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            await settle(20)
            assert ws.closed
            try:
                while True:
                    received.append(await ws.receive_text())
            except falcon.WebSocketDisconnected as ex:
                received.append(ex.code)

    app.add_route('/', Reader())
    raw = RawConnection(app)
    for text in ('a', 'b', 'c'):
        raw.push_text(text)
    raw.push_disconnect(4000)
    await raw.run()
    assert received == ['a', 'b', 'c', 4000]


async def test_effect_on_the_app(app: Any) -> None:
    """§10 Effect: closed/ready flip, and sends raise without reaching the server."""
    app.add_route('/', pusher := Pusher())
    async with connect(app) as ws:
        assert await ws.receive_text() == 'tick'
        await ws.close(1001)
    assert pusher.codes == [1001]
    assert pusher.flags == [(False, True)]


async def test_max_receive_queue_zero_bypasses_the_pump(app: Any) -> None:
    """§10 ``max_receive_queue=0``: receives go straight to the server."""
    counts = []

    class Reader:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            await settle()
            counts.append(raw.receive_calls)
            counts.append(await ws.receive_text())
            counts.append(raw.receive_calls)

    app.ws_options.max_receive_queue = 0
    app.add_route('/', Reader())
    raw = RawConnection(app)
    raw.push_text('one')
    await raw.run()
    assert counts == [1, 'one', 2]


async def test_pump_keeps_message_order(app: Any) -> None:
    """§10 Origin (websockets' pattern): FIFO order through the bounded buffer."""
    received = []

    class Reader:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            for __ in range(20):
                received.append(await ws.receive_text())
                await settle(1)

    app.ws_options.max_receive_queue = 3
    app.add_route('/', Reader())
    raw = RawConnection(app)
    for i in range(20):
        raw.push_text(str(i))
    await raw.run()
    assert received == [str(i) for i in range(20)]


# --- §11 ---------------------------------------------------------------------


class Echo:
    async def on_websocket(self, req: Any, ws: Any) -> None:
        await ws.accept(subprotocol=(ws.subprotocols or (None,))[0])
        while True:
            try:
                await ws.send_text(await ws.receive_text())
            except falcon.WebSocketDisconnected:
                return


async def test_conductor_runs_lifespan(app: Any) -> None:
    """§11 ``ASGIConductor(app, headers=None)``: lifespan on enter and exit."""
    events = []

    class Lifespan:
        async def process_startup(self, scope: Any, event: Any) -> None:
            events.append('startup')

        async def process_shutdown(self, scope: Any, event: Any) -> None:
            events.append('shutdown')

    app.add_middleware(Lifespan())
    app.add_route('/', Echo())
    async with testing.ASGIConductor(app) as conductor:
        assert events == ['startup']
        async with conductor.simulate_ws() as ws:
            await ws.send_text('x')
            assert await ws.receive_text() == 'x'
    assert events == ['startup', 'shutdown']


class TestSimulateWs:
    """§11 ``ASGIConductor.simulate_ws(path='/', timeout=None, **kwargs)``."""

    async def test_without_entering_the_conductor(self, app: Any) -> None:
        app.add_route('/', Echo())
        async with testing.ASGIConductor(app).simulate_ws(
            '/', subprotocols=['a']
        ) as ws:
            assert ws.subprotocol == 'a'

    async def test_enter_reraises_the_app_error(self) -> None:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            await receive()
            raise LookupError('raw app')

        with pytest.raises(LookupError):
            async with testing.ASGIConductor(app).simulate_ws():
                pass

    async def test_enter_raises_on_denial(self, app: Any) -> None:
        exception = await denial(app, '/missing')
        assert type(exception) is falcon.WebSocketPathNotFound

    async def test_timeout_on_exit(self, app: Any) -> None:
        class Stuck:
            async def on_websocket(self, req: Any, ws: Any) -> None:
                await ws.accept()
                while True:
                    await asyncio.sleep(0.01)

        app.add_route('/', Stuck())
        with pytest.raises(TimeoutError):
            async with testing.ASGIConductor(app).simulate_ws('/', timeout=0.05):
                pass

    async def test_timeout_on_enter(self, app: Any) -> None:
        class Slow:
            async def on_websocket(self, req: Any, ws: Any) -> None:
                await asyncio.sleep(10)

        app.add_route('/', Slow())
        with pytest.raises(TimeoutError):
            async with testing.ASGIConductor(app).simulate_ws('/', timeout=0.05):
                pass


async def test_websocket_alias(app: Any) -> None:
    """§11 ``ASGIConductor.websocket(...)``: an alias of ``simulate_ws``."""
    app.add_route('/', Echo())
    async with testing.ASGIConductor(app).websocket('/') as ws:
        await ws.send_text('alias')
        assert await ws.receive_text() == 'alias'


def test_no_websocket_on_test_client() -> None:
    """§11 ``TestClient`` / module level: no WebSocket support."""
    assert not hasattr(testing.TestClient, 'simulate_ws')
    assert not hasattr(testing, 'simulate_ws')


def test_create_scope_ws_signature() -> None:
    """§11 ``create_scope_ws``: Falcon's arguments and defaults."""
    parameters = inspect.signature(testing.create_scope_ws).parameters
    expected = {
        'path': '/',
        'query_string': '',
        'headers': None,
        'host': testing.DEFAULT_HOST,
        'scheme': None,
        'port': None,
        'http_version': '1.1',
        'remote_addr': None,
        'root_path': None,
        'include_server': True,
        'subprotocols': None,
        'spec_version': '2.1',
    }
    for name, default in expected.items():
        assert parameters[name].default == default
    scope = testing.create_scope_ws(subprotocols=['x'])
    assert 'method' not in scope
    assert scope['subprotocols'] == ['x']


async def test_simulator_states_and_default_timeout(app: Any) -> None:
    """§11 ``ASGIWebSocketSimulator``: CONNECT, HANDSHAKE, ACCEPTED/DENIED, CLOSED."""
    assert testing.ASGIWebSocketSimulator.DEFAULT_TIMEOUT == 5.0
    ws = testing.ASGIWebSocketSimulator()
    assert (ws.ready, ws.closed) == (False, False)
    app.add_route('/', Echo())
    async with connect(app) as ws:
        assert (ws.ready, ws.closed) == (True, False)
    assert (ws.ready, ws.closed) == (False, True)
    exception = await denial(app, '/nope')
    assert (exception.ws.ready, exception.ws.closed) == (False, True)


async def test_simulator_properties(app: Any) -> None:
    """§11 properties: ready, closed, close_code, close_reason, subprotocol, headers."""

    class Accept:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept(subprotocol='b', headers={'X-Y': 'z'})
            await ws.receive_text()
            await ws.close(4003, 'because')

    app.add_route('/', Accept())
    async with connect(app, subprotocols=['a', 'b'], spec_version='2.3') as ws:
        assert (ws.close_code, ws.close_reason) == (None, None)
        assert ws.subprotocol == 'b'
        assert ws.headers == [(b'x-y', b'z')]
        await ws.send_text('close please')
        await settle()
        assert (ws.close_code, ws.close_reason) == (4003, 'because')


async def test_wait_ready_raises_specific_errors(app: Any) -> None:
    """§11 ``wait_ready``: 3404, 1011 and 3405 raise the specific subclasses."""

    class HttpOnly:
        async def on_get(self, req: Any, resp: Any) -> None:
            pass

    class Crash:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            raise RuntimeError

    class Forbidden:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            raise falcon.HTTPForbidden()

    app.add_route('/http', HttpOnly())
    app.add_route('/crash', Crash())
    app.add_route('/forbidden', Forbidden())
    expected = {
        '/none': falcon.WebSocketPathNotFound,
        '/crash': falcon.WebSocketServerError,
        '/http': falcon.WebSocketHandlerNotFound,
        '/forbidden': falcon.WebSocketDisconnected,
    }
    for path, cls in expected.items():
        assert type(await denial(app, path)) is cls


async def test_simulator_close(app: Any) -> None:
    """§11 ``close(code=None, reason=None)``: 1000 and ''; no-op once closed."""
    disconnects = []

    class Watch:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            try:
                await ws.receive_text()
            except falcon.WebSocketDisconnected as ex:
                disconnects.append(ex.code)

    app.add_route('/', Watch())
    async with connect(app) as ws:
        await ws.close()
        assert (ws.close_code, ws.close_reason) == (1000, '')
        await ws.close(4000)
        assert ws.close_code == 1000
    assert disconnects == [1000]


async def test_simulator_sends(app: Any) -> None:
    """§11 sends: text, data (TypeError on the wrong type), JSON, MessagePack."""
    app.add_route('/', Echo())
    async with connect(app) as ws:
        await ws.send_json({'a': 'é'})
        assert await ws.receive_text() == '{"a": "\\u00e9"}'
        with pytest.raises(TypeError):
            await ws.send_data('text')  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            await ws.send_text(b'bytes')  # type: ignore[arg-type]


async def test_simulator_receives(app: Any) -> None:
    """§11 receives: ``PayloadTypeError`` on a mismatch; JSON and MessagePack."""

    class Mixed:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            await ws.send_media({'t': 1})
            await ws.send_media({'b': [1, 2]}, falcon.WebSocketPayloadType.BINARY)
            await ws.receive_text()

    app.add_route('/', Mixed())
    async with connect(app) as ws:
        with pytest.raises(falcon.PayloadTypeError):
            await ws.receive_data()
        assert await ws.receive_msgpack() == {'b': [1, 2]}


async def test_simulator_asgi_side(app: Any) -> None:
    """§11 ASGI side: connect first, one disconnect, OSError on late sends."""
    events = []

    class Late:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            try:
                await ws.receive_text()
            except falcon.WebSocketDisconnected as ex:
                events.append(ex.code)
            try:
                await ws.send_text('late')
            except OSError as ex:
                events.append(type(ex))

    app.add_route('/', Late())
    async with connect(app) as ws:
        await ws.close(1001)
    assert events == [1001, falcon.WebSocketDisconnected]


# --- §12 ---------------------------------------------------------------------


async def test_create_task_is_not_deprecated() -> None:
    """§12 ``falcon.create_task``: exists, works, and is not deprecated here."""
    with warnings.catch_warnings():
        warnings.simplefilter('error')

        async def answer() -> int:
            return 42

        task = falcon.create_task(answer())
        assert await task == 42
        assert falcon.get_running_loop() is asyncio.get_running_loop()


def test_runs_sync_and_async_to_sync() -> None:
    """§12 ``falcon.runs_sync`` / ``falcon.async_to_sync``: drive coroutines."""

    async def add(a: int, b: int) -> int:
        await asyncio.sleep(0)
        return a + b

    assert falcon.async_to_sync(add, 1, b=2) == 3
    assert falcon.runs_sync(add)(2, 3) == 5
