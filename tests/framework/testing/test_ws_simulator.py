"""The WebSocket simulator, driven against hand-written ASGI apps.

These apps speak raw ASGI, so every test pins the simulator's own behaviour
(both its client side and the server side it plays for the app), independent
of any framework.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgpack
import pytest

from gyrfalcon import errors
from gyrfalcon.testing import ASGIConductor, ASGIWebSocketSimulator

Receive = Any
Send = Any


def conductor(app: Any) -> ASGIConductor:
    return ASGIConductor(app)


async def echo_app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    """Accept with the first offered subprotocol, echo until the client leaves."""
    assert scope['type'] == 'websocket'
    assert (await receive())['type'] == 'websocket.connect'
    subprotocols = scope.get('subprotocols') or [None]
    await send(
        {
            'type': 'websocket.accept',
            'subprotocol': subprotocols[0],
            'headers': [(b'x-echo', b'1')],
        }
    )
    while True:
        event = await receive()
        if event['type'] == 'websocket.disconnect':
            echo_app.disconnects.append(event)  # type: ignore[attr-defined]
            return
        if event.get('text') is not None:
            await send({'type': 'websocket.send', 'text': event['text']})
        else:
            await send({'type': 'websocket.send', 'bytes': event['bytes']})


echo_app.disconnects = []  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _reset_echo() -> None:
    echo_app.disconnects.clear()  # type: ignore[attr-defined]


def scripted(*events: dict[str, Any], then_receive: bool = False) -> Any:
    """An app that receives connect, sends `events`, then returns (or waits)."""

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await receive()
        for event in events:
            await send(event)
        if then_receive:
            app.received.append(await receive())  # type: ignore[attr-defined]

    app.received = []  # type: ignore[attr-defined]
    return app


ACCEPT = {'type': 'websocket.accept'}


class TestHandshake:
    async def test_accept_exposes_subprotocol_and_headers(self) -> None:
        async with conductor(echo_app).simulate_ws(subprotocols=['wamp', 'mqtt']) as ws:
            assert ws.ready
            assert not ws.closed
            assert ws.subprotocol == 'wamp'
            assert ws.headers == [(b'x-echo', b'1')]
            assert ws.close_code is None
            assert ws.close_reason is None

    async def test_headers_none_when_app_sends_none(self) -> None:
        app = scripted(ACCEPT, then_receive=True)
        async with conductor(app).simulate_ws() as ws:
            assert ws.headers is None
            assert ws.subprotocol is None

    async def test_scope_carries_path_query_subprotocols_and_extension(self) -> None:
        seen: list[dict[str, Any]] = []

        async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
            seen.append(scope)
            await receive()
            await send(ACCEPT)
            await receive()

        async with conductor(app).simulate_ws(
            '/feed', query_string='a=1', subprotocols=['x'], spec_version='2.5'
        ):
            pass
        scope = seen[0]
        assert scope['type'] == 'websocket'
        assert scope['path'] == '/feed'
        assert scope['query_string'] == b'a=1'
        assert scope['subprotocols'] == ['x']
        assert scope['scheme'] == 'ws'
        assert scope['asgi']['spec_version'] == '2.5'
        assert scope['extensions'] == {'websocket.http.response': {}}
        assert 'method' not in scope

    @pytest.mark.parametrize(
        ('code', 'expected_code', 'exception'),
        [
            (None, 3403, errors.WebSocketDisconnected),
            (1000, 3403, errors.WebSocketDisconnected),
            (4001, 3403, errors.WebSocketDisconnected),
            (1011, 1011, errors.WebSocketServerError),
            (3404, 3404, errors.WebSocketPathNotFound),
            (3405, 3405, errors.WebSocketHandlerNotFound),
            (3422, 3422, errors.WebSocketDisconnected),
        ],
    )
    async def test_close_before_accept_is_a_denial(
        self, code: int | None, expected_code: int, exception: type[Exception]
    ) -> None:
        event: dict[str, Any] = {'type': 'websocket.close', 'reason': 'why'}
        if code is not None:
            event['code'] = code
        sim = conductor(scripted(event)).simulate_ws()
        with pytest.raises(exception) as exc_info:
            async with sim:
                pytest.fail('a denied connection must not enter the context')
        assert type(exc_info.value) is exception
        assert exc_info.value.code == expected_code

    async def test_denial_code_and_reason_kept_for_3xxx(self) -> None:
        close = {'type': 'websocket.close', 'code': 3401, 'reason': 'Unauthorized'}
        ws = await _denied(scripted(close))
        assert ws.closed
        assert not ws.ready
        assert (ws.close_code, ws.close_reason) == (3401, 'Unauthorized')
        assert ws.denial_status is None
        assert ws.denial_body is None

    async def test_other_denial_codes_become_3403(self) -> None:
        close = {'type': 'websocket.close', 'code': 4000, 'reason': 'nope'}
        ws = await _denied(scripted(close))
        assert (ws.close_code, ws.close_reason) == (3403, '403 Forbidden')

    async def test_denial_response_extension(self) -> None:
        app = scripted(
            {
                'type': 'websocket.http.response.start',
                'status': 401,
                'headers': [(b'www-authenticate', b'Bearer')],
            },
            {'type': 'websocket.http.response.body', 'body': b'no ', 'more_body': True},
            {'type': 'websocket.http.response.body', 'body': b'token'},
        )
        ws = await _denied(app)
        assert ws.denial_status == 401
        assert ws.denial_headers == [(b'www-authenticate', b'Bearer')]
        assert ws.denial_body == b'no token'
        assert ws.close_code == 3401
        assert ws.close_reason == '401 Unauthorized'

    async def test_denial_response_404_raises_path_not_found(self) -> None:
        app = scripted(
            {'type': 'websocket.http.response.start', 'status': 404},
            {'type': 'websocket.http.response.body'},
        )
        with pytest.raises(errors.WebSocketPathNotFound):
            async with conductor(app).simulate_ws():
                pass

    async def test_denial_response_without_extension_is_refused(self) -> None:
        app = scripted({'type': 'websocket.http.response.start', 'status': 403})
        with pytest.raises(errors.OperationNotAllowed, match='http.response'):
            async with conductor(app).simulate_ws(extensions={}):
                pass

    async def test_denial_response_needs_valid_status(self) -> None:
        app = scripted({'type': 'websocket.http.response.start', 'status': 99})
        with pytest.raises(ValueError, match='status'):
            async with conductor(app).simulate_ws():
                pass

    async def test_denial_response_start_only_allows_body_events(self) -> None:
        app = scripted(
            {'type': 'websocket.http.response.start', 'status': 403},
            {'type': 'websocket.send', 'text': 'x'},
        )
        with pytest.raises(errors.OperationNotAllowed, match='response.body'):
            async with conductor(app).simulate_ws():
                pass

    async def test_send_before_receiving_connect_is_refused(self) -> None:
        async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
            await send(ACCEPT)

        with pytest.raises(errors.OperationNotAllowed, match='websocket.connect'):
            async with conductor(app).simulate_ws():
                pass

    async def test_message_before_accept_is_refused(self) -> None:
        app = scripted({'type': 'websocket.send', 'text': 'early'})
        with pytest.raises(errors.OperationNotAllowed, match='accept or'):
            async with conductor(app).simulate_ws():
                pass

    async def test_accept_headers_must_be_bytes(self) -> None:
        app = scripted({'type': 'websocket.accept', 'headers': [('x', 'y')]})
        with pytest.raises(TypeError, match='byte strings'):
            async with conductor(app).simulate_ws():
                pass

    async def test_app_error_before_accept_is_raised_on_enter(self) -> None:
        async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
            await receive()
            raise LookupError('boom')

        with pytest.raises(LookupError, match='boom'):
            async with conductor(app).simulate_ws():
                pass

    async def test_app_returning_without_handshake_is_a_500(self) -> None:
        ws = await _denied(scripted())
        assert ws.denial_status == 500
        assert ws.close_code == 1011
        with pytest.raises(errors.WebSocketServerError):
            await ws.wait_ready()

    async def test_wait_ready_times_out(self) -> None:
        gate = asyncio.Event()

        async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
            await receive()
            await gate.wait()

        sim = conductor(app).simulate_ws(timeout=0.01)
        with pytest.raises(TimeoutError, match='handshake'):
            async with sim:
                pass

    async def test_wait_ready_after_accept(self) -> None:
        async with conductor(echo_app).simulate_ws() as ws:
            await ws.wait_ready()
            await ws.wait_ready(timeout=1)


async def _denied(app: Any) -> ASGIWebSocketSimulator:
    """Connect to `app`, expect a denial, return the simulator."""
    cm = conductor(app).simulate_ws()
    with pytest.raises(errors.WebSocketDisconnected):
        async with cm:
            pass
    return cm.ws


class TestMessages:
    async def test_text_and_data_round_trip(self) -> None:
        async with conductor(echo_app).simulate_ws() as ws:
            await ws.send_text('héllo')
            assert await ws.receive_text() == 'héllo'
            await ws.send_data(bytearray(b'\x00\x01'))
            assert await ws.receive_data() == b'\x00\x01'
            await ws.send_data(memoryview(b'mv'))
            assert await ws.receive_data() == b'mv'

    async def test_receive_any_type(self) -> None:
        async with conductor(echo_app).simulate_ws() as ws:
            await ws.send_text('t')
            await ws.send_data(b'b')
            assert await ws.receive() == 't'
            assert await ws.receive() == b'b'

    async def test_json_and_msgpack_round_trip(self) -> None:
        async with conductor(echo_app).simulate_ws() as ws:
            await ws.send_json({'a': [1, 'é']})
            assert await ws.receive_json() == {'a': [1, 'é']}
            await ws.send_msgpack({'b': b'\xff', 'c': [1, 2]})
            assert await ws.receive_msgpack() == {'b': b'\xff', 'c': [1, 2]}

    async def test_send_json_is_ascii_escaped_text(self) -> None:
        async with conductor(echo_app).simulate_ws() as ws:
            await ws.send_json({'a': 'é'})
            assert await ws.receive_text() == '{"a": "\\u00e9"}'

    async def test_send_msgpack_uses_bin_type(self) -> None:
        async with conductor(echo_app).simulate_ws() as ws:
            await ws.send_msgpack(b'raw')
            assert await ws.receive_data() == msgpack.packb(b'raw', use_bin_type=True)

    async def test_wrong_payload_type_on_receive(self) -> None:
        async with conductor(echo_app).simulate_ws() as ws:
            await ws.send_text('t')
            with pytest.raises(errors.PayloadTypeError, match='Expected BINARY'):
                await ws.receive_data()
            await ws.send_data(b'b')
            with pytest.raises(errors.PayloadTypeError, match='Expected TEXT'):
                await ws.receive_text()

    async def test_wrong_type_on_send(self) -> None:
        async with conductor(echo_app).simulate_ws() as ws:
            with pytest.raises(TypeError, match='payload must be a string'):
                await ws.send_text(b'bytes')  # type: ignore[arg-type]
            with pytest.raises(TypeError, match='payload must be a byte string'):
                await ws.send_data('text')  # type: ignore[arg-type]

    async def test_receive_times_out_instead_of_hanging(self) -> None:
        async with conductor(echo_app).simulate_ws(timeout=0.01) as ws:
            with pytest.raises(TimeoutError, match='message from the app'):
                await ws.receive_text()
            with pytest.raises(TimeoutError):
                await ws.receive_data(timeout=0.01)
            # NOTE: The connection is still usable after a timeout.
            await ws.send_text('late')
            assert await ws.receive_text() == 'late'

    async def test_messages_sent_before_close_are_delivered_first(self) -> None:
        app = scripted(
            ACCEPT,
            {'type': 'websocket.send', 'text': 'a'},
            {'type': 'websocket.send', 'bytes': b'b'},
            {'type': 'websocket.close', 'code': 4001, 'reason': 'bye'},
        )
        async with conductor(app).simulate_ws() as ws:
            await asyncio.sleep(0)
            assert ws.closed
            assert await ws.receive_text() == 'a'
            assert await ws.receive_data() == b'b'
            with pytest.raises(errors.WebSocketDisconnected) as exc_info:
                await ws.receive_text()
        assert exc_info.value.code == 4001
        assert exc_info.value.reason == 'bye'
        assert (ws.close_code, ws.close_reason) == (4001, 'bye')

    async def test_send_event_needs_exactly_one_payload(self) -> None:
        app = scripted(ACCEPT, {'type': 'websocket.send'})
        with pytest.raises(ValueError, match='exactly one'):
            async with conductor(app).simulate_ws():
                pass

    async def test_bytearray_from_app_is_delivered_as_bytes(self) -> None:
        app = scripted(ACCEPT, {'type': 'websocket.send', 'bytes': bytearray(b'z')})
        async with conductor(app).simulate_ws() as ws:
            data = await ws.receive_data()
        assert type(data) is bytes
        assert data == b'z'

    async def test_receive_before_accept_fails_at_once(self) -> None:
        ws = ASGIWebSocketSimulator()
        with pytest.raises(errors.OperationNotAllowed, match='not yet been accepted'):
            await ws.receive_text()
        with pytest.raises(errors.OperationNotAllowed):
            await ws.send_text('x')


class TestClosing:
    async def test_client_close_reaches_the_app_once(self) -> None:
        async with conductor(echo_app).simulate_ws() as ws:
            await ws.close(4002, 'done')
            assert ws.closed
            assert not ws.ready
            await ws.close(1000)  # a no-op once closed
        assert echo_app.disconnects == [  # type: ignore[attr-defined]
            {'type': 'websocket.disconnect', 'code': 4002, 'reason': 'done'}
        ]
        assert (ws.close_code, ws.close_reason) == (4002, 'done')

    async def test_context_exit_closes_with_1000(self) -> None:
        async with conductor(echo_app).simulate_ws() as ws:
            pass
        assert echo_app.disconnects == [  # type: ignore[attr-defined]
            {'type': 'websocket.disconnect', 'code': 1000}
        ]
        assert (ws.close_code, ws.close_reason) == (1000, '')

    async def test_send_after_close_raises(self) -> None:
        async with conductor(echo_app).simulate_ws() as ws:
            await ws.close()
            with pytest.raises(errors.WebSocketDisconnected):
                await ws.send_text('x')

    async def test_app_send_after_client_close_raises_oserror(self) -> None:
        outcome: list[BaseException] = []

        async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
            await receive()
            await send(ACCEPT)
            assert (await receive())['type'] == 'websocket.disconnect'
            try:
                await send({'type': 'websocket.send', 'text': 'late'})
            except OSError as ex:
                outcome.append(ex)

        async with conductor(app).simulate_ws() as ws:
            await ws.close(1001)
        assert isinstance(outcome[0], errors.WebSocketDisconnected)
        assert outcome[0].code == 1001

    async def test_second_disconnect_receive_is_refused(self) -> None:
        outcome: list[BaseException] = []

        async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
            await receive()
            await send(ACCEPT)
            await receive()
            try:
                await receive()
            except errors.OperationNotAllowed as ex:
                outcome.append(ex)

        async with conductor(app).simulate_ws():
            pass
        assert len(outcome) == 1

    async def test_app_close_is_seen_by_the_app_receive(self) -> None:
        events: list[dict[str, Any]] = []

        async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
            await receive()
            await send(ACCEPT)
            await send({'type': 'websocket.close', 'code': 4100, 'reason': 'r'})
            events.append(await receive())

        async with conductor(app).simulate_ws() as ws:
            pass
        assert events == [{'type': 'websocket.disconnect', 'code': 4100, 'reason': 'r'}]
        assert ws.close_code == 4100

    async def test_app_returning_after_accept_drops_with_1006(self) -> None:
        async with conductor(scripted(ACCEPT)).simulate_ws() as ws:
            with pytest.raises(errors.WebSocketDisconnected) as exc_info:
                await ws.receive_text()
        assert exc_info.value.code == 1006
        assert ws.close_code == 1006

    async def test_client_close_during_handshake_wakes_the_app(self) -> None:
        events: list[dict[str, Any]] = []
        sim = ASGIWebSocketSimulator()

        async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
            await receive()
            events.append(await receive())

        task = asyncio.create_task(app({}, sim._emit, sim._collect))
        await asyncio.sleep(0)
        await sim.close(1001)
        await task
        assert events == [{'type': 'websocket.disconnect', 'code': 1001}]

    async def test_exit_times_out_on_a_stuck_app(self) -> None:
        async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
            await receive()
            await send(ACCEPT)
            await asyncio.Event().wait()

        with pytest.raises(TimeoutError, match='WebSocket task to complete'):
            async with conductor(app).simulate_ws(timeout=0.01):
                pass

    async def test_app_error_after_accept_is_raised_on_exit(self) -> None:
        async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
            await receive()
            await send(ACCEPT)
            await receive()
            raise LookupError('after')

        with pytest.raises(LookupError, match='after'):
            async with conductor(app).simulate_ws():
                pass

    async def test_websocket_alias(self) -> None:
        async with conductor(echo_app).websocket('/x') as ws:
            await ws.send_text('alias')
            assert await ws.receive_text() == 'alias'
