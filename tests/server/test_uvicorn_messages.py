"""Checklist D-E: messages the app sends, messages it receives, frames.

Peers: the ``websockets`` client, and ``RawClient`` writing hand-built frames.
Every test runs against our class and uvicorn's two classes.
"""

from __future__ import annotations

import asyncio
import struct
from typing import Any

import pytest
import websockets.exceptions
from websockets.asyncio.client import connect
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.typing import Subprotocol
from ws_peers import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    Peers,
    eventually,
    serve,
    upgrade_request,
)

pytestmark = pytest.mark.network


def disconnect(ours: bool, code: int, reason: str = '') -> dict[str, Any]:
    """The disconnect message each class sends the app.

    Ours always carries ``reason`` (ASGI 2.5); uvicorn's classes include it
    only on some paths, so the tests pass ``ours=True`` where they do too.
    """
    message: dict[str, Any] = {'type': 'websocket.disconnect', 'code': code}
    if ours:
        message['reason'] = reason
    return message


class Recorder:
    """An app that accepts, records every message and stops on disconnect."""

    def __init__(self, accept: bool = True) -> None:
        self.accept = accept
        self.messages: list[dict[str, Any]] = []
        self.done = asyncio.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            await receive()
            if self.accept:
                await send({'type': 'websocket.accept'})
            while True:
                message = await receive()
                self.messages.append(message)
                if message['type'] == 'websocket.disconnect':
                    return
        finally:
            self.done.set()

    @property
    def received(self) -> list[Any]:
        return [
            m.get('text', m.get('bytes'))
            for m in self.messages
            if m['type'] == 'websocket.receive'
        ]

    @property
    def last(self) -> dict[str, Any]:
        return self.messages[-1]


async def expect_close_frame(client: Any, ws_impl: str) -> int | None:
    """Read the server's Close frame and return its code.

    uvicorn's wsproto class drops TCP without a Close frame when the peer
    violates the protocol (the peer sees 1006): ``None`` then.
    """
    if ws_impl == 'wsproto':
        await client.expect_closed_without_close_frame()
        return None
    code: int = (await client.recv_close())[0]
    return code


# --- D1. accept --------------------------------------------------------------


async def test_d1_accept_headers(ws_class: str) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send(
            {
                'type': 'websocket.accept',
                'subprotocol': 'p2',
                'headers': [
                    (b'Server', b'over-ridden'),
                    (b'Server', b'another-value'),
                    (b'x-extra', b'Header Value'),
                ],
            }
        )
        await receive()

    async with serve(app, ws_class) as running:
        async with connect(
            running.url, subprotocols=[Subprotocol('p1'), Subprotocol('p2')]
        ) as client:
            assert client.response is not None
            headers = client.response.headers
            assert client.subprotocol == 'p2'
    assert headers.get_all('server') == ['uvicorn', 'over-ridden', 'another-value']
    assert len(headers.get_all('date')) == 1
    assert headers.get('x-extra') == 'Header Value'


async def test_d1_no_server_or_date_header(ws_class: str) -> None:
    async with serve(
        Recorder(), ws_class, server_header=False, date_header=False
    ) as running:
        async with connect(running.url) as client:
            assert client.response is not None
            headers = client.response.headers
    assert 'server' not in headers
    assert 'date' not in headers


@pytest.mark.parametrize('enabled', [True, False])
async def test_d1_permessage_deflate(ws_class: str, enabled: bool) -> None:
    # Every class accepts the offer unless ws_per_message_deflate is off
    # (tests/server/test_deflate.py covers our negotiation in detail).
    async with serve(Recorder(), ws_class, ws_per_message_deflate=enabled) as running:
        async with connect(
            running.url, extensions=[ClientPerMessageDeflateFactory()]
        ) as client:
            names = [extension.name for extension in client.protocol.extensions]
    assert ('permessage-deflate' in names) == enabled


# --- D2. close before accept -------------------------------------------------


async def test_d2_close_before_accept_is_a_403(
    ws_class: str, ours: bool, peers: Peers
) -> None:
    got: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        # ASGI: the code and reason of a close before accept are ignored.
        await send({'type': 'websocket.close', 'code': 4001, 'reason': 'no'})
        got.append(await receive())

    async with serve(app, ws_class) as running:
        client = await peers.open(running.port)
        client.write(upgrade_request(running.port))
        response = await client.read_response()
        await eventually(lambda: bool(got), 'the disconnect')
    assert response.status == 403
    assert response.get('content-length') == '0'
    assert response.body == b''
    assert got == [disconnect(ours, 1006)]


# --- D3. denial responses ----------------------------------------------------


def deny(*messages: dict[str, Any]) -> Any:
    got: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert 'websocket.http.response' in scope['extensions']
        await receive()
        for message in messages:
            await send(message)
        got.append(await receive())

    app.got = got  # type: ignore[attr-defined]
    return app


async def denial(ws_class: str, app: Any, peers: Peers) -> Any:
    async with serve(app, ws_class) as running:
        client = await peers.open(running.port)
        client.write(upgrade_request(running.port))
        return await client.read_response()


async def test_d3_denial_with_one_body(
    ws_class: str, ws_impl: str, peers: Peers
) -> None:
    app = deny(
        {'type': 'websocket.http.response.start', 'status': 403, 'headers': []},
        {'type': 'websocket.http.response.body', 'body': b'hardbody'},
    )
    response = await denial(ws_class, app, peers)
    assert response.status == 403
    assert response.body == b'hardbody'
    if ws_impl == 'wsproto':
        assert response.get('transfer-encoding') == 'chunked'
    else:
        # A single final body is sent with its length (ours and SIO).
        assert response.get('content-length') == '8'
    assert app.got == [disconnect(ws_impl == 'gyrfalcon', 1006)]


async def test_d3_denial_streams_bodies(
    ws_class: str, ws_impl: str, peers: Peers
) -> None:
    app = deny(
        {'type': 'websocket.http.response.start', 'status': 400, 'headers': []},
        {'type': 'websocket.http.response.body', 'body': b'x' * 10, 'more_body': True},
        {'type': 'websocket.http.response.body', 'body': b'y' * 10},
    )
    response = await denial(ws_class, app, peers)
    assert response.status == 400
    assert response.body == b'x' * 10 + b'y' * 10
    if ws_impl == 'websockets-sansio':
        # SIO buffers the whole body and adds a length.
        assert response.get('content-length') == '20'
    else:
        assert response.get('transfer-encoding') == 'chunked'


async def test_d3_denial_keeps_content_headers_once(
    ws_class: str, peers: Peers
) -> None:
    body = b'{"detail":"Unauthorized"}'
    app = deny(
        {
            'type': 'websocket.http.response.start',
            'status': 401,
            'headers': [
                (b'content-type', b'application/json'),
                (b'content-length', str(len(body)).encode()),
            ],
        },
        {'type': 'websocket.http.response.body', 'body': body},
    )
    response = await denial(ws_class, app, peers)
    assert response.status == 401
    assert response.body == body
    assert response.get_all('content-length') == [str(len(body))]
    assert response.get_all('content-type') == ['application/json']


async def test_d3_invalid_status_gives_a_500(ws_class: str, peers: Peers) -> None:
    app = deny(
        {'type': 'websocket.http.response.start', 'status': 700, 'headers': []},
    )
    response = await denial(ws_class, app, peers)
    assert response.status == 500
    assert response.body == b'Internal Server Error'
    assert response.get('content-length') == '21'
    assert response.get('connection') == 'close'


async def test_d3_second_start_raises(
    ws_class: str, ws_impl: str, peers: Peers
) -> None:
    errors: list[str] = []
    start = {
        'type': 'websocket.http.response.start',
        'status': 404,
        'headers': [(b'content-length', b'0')],
    }

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send(start)
        try:
            await send(start)
        except RuntimeError as ex:
            errors.append(str(ex))

    async with serve(app, ws_class) as running:
        client = await peers.open(running.port)
        client.write(upgrade_request(running.port))
        raw = await client.read_to_eof()
    assert errors == [
        "Expected ASGI message 'websocket.http.response.body' but got "
        "'websocket.http.response.start'."
    ]
    if ws_impl == 'websockets-sansio':
        # SIO buffers the start until the body, which never comes: the
        # client gets no response at all.
        assert raw == b''
    else:
        assert raw.startswith(b'HTTP/1.1 404 ')


async def test_d3_app_returning_after_start_sends_the_head(
    ws_class: str, ws_impl: str, peers: Peers
) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send(
            {
                'type': 'websocket.http.response.start',
                'status': 404,
                'headers': [(b'content-length', b'0')],
            }
        )

    async with serve(app, ws_class) as running:
        client = await peers.open(running.port)
        client.write(upgrade_request(running.port))
        raw = await client.read_to_eof()
    if ws_impl == 'websockets-sansio':
        assert raw == b''  # buffered until a body that never came
    else:
        assert raw.startswith(b'HTTP/1.1 404 ')
        assert raw.endswith(b'\r\n\r\n')


# --- D4. websocket.send ------------------------------------------------------


async def test_d4_send_payload_forms(ws_class: str, ws_impl: str, peers: Peers) -> None:
    errors: list[type[BaseException]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({'type': 'websocket.accept'})
        await send({'type': 'websocket.send', 'bytes': b'b', 'text': 't'})
        await send({'type': 'websocket.send', 'bytes': None, 'text': 't'})
        await send({'type': 'websocket.send', 'bytes': bytearray(b'ba')})
        await send({'type': 'websocket.send', 'bytes': memoryview(b'mv')})
        await send({'type': 'websocket.send', 'text': ''})
        await send({'type': 'websocket.send', 'bytes': b''})
        try:
            await send({'type': 'websocket.send'})
        except TypeError as ex:
            errors.append(type(ex))
        await send({'type': 'websocket.send', 'text': 'end'})
        await receive()

    async with serve(app, ws_class) as running:
        client = await peers.connect(running.port)
        got = [await client.recv_message() for _ in range(7)]
        client.send_close()
    assert got == [b'b', 't', b'ba', b'mv', '', b'', 'end']
    # A send with neither key: a TypeError from ours and wsproto; SIO sends
    # nothing and says nothing.
    assert errors == ([] if ws_impl == 'websockets-sansio' else [TypeError])


# --- D5. close after accept --------------------------------------------------


@pytest.mark.parametrize('code', [None, 1000, 1001, 4000])
@pytest.mark.parametrize(
    'reason', [None, 'test', False], ids=['none', 'text', 'absent']
)
async def test_d5_app_close(ws_class: str, ours: bool, code: Any, reason: Any) -> None:
    app_saw: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({'type': 'websocket.accept'})
        await receive()
        message: dict[str, Any] = {'type': 'websocket.close'}
        if code is not None:
            message['code'] = code
        if reason is not False:
            message['reason'] = reason
        await send(message)
        app_saw.append(await receive())

    async with serve(app, ws_class) as running:
        async with connect(running.url) as client:
            await client.send('abc')
            with pytest.raises(websockets.exceptions.ConnectionClosed):
                await client.recv()
        await eventually(lambda: bool(app_saw), 'the disconnect')
    assert client.close_code == (code or 1000)
    assert client.close_reason == (reason or '')
    # The app gets its own code and reason back.
    assert app_saw == [
        {'type': 'websocket.disconnect', 'code': code or 1000, 'reason': reason or ''}
    ]
    del ours


async def test_d5_reserved_close_codes_never_reach_the_wire(
    ws_class: str, ws_impl: str, peers: Peers
) -> None:
    errors: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({'type': 'websocket.accept'})
        try:
            await send({'type': 'websocket.close', 'code': 1005})
        except Exception as ex:
            errors.append(type(ex).__name__)
            await send({'type': 'websocket.close', 'code': 4000})
        await receive()

    async with serve(app, ws_class) as running:
        client = await peers.connect(running.port)
        code, _ = await client.recv_close()
        client.send_close(code)
    if ws_impl == 'wsproto':
        # wsproto turns 1005 into 1000 on the wire (wsproto #182).
        assert (errors, code) == ([], 1000)
    elif ws_impl == 'websockets-sansio':
        assert (errors, code) == (['ProtocolError'], 4000)
    else:
        assert (errors, code) == (['ValueError'], 4000)


async def test_d5_close_waits_for_the_peer_close_frame(
    ws_class: str, peers: Peers
) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({'type': 'websocket.accept'})
        await send({'type': 'websocket.send', 'text': 'last words'})
        await send({'type': 'websocket.close', 'code': 1001})

    async with serve(app, ws_class) as running:
        client = await peers.connect(running.port)
        protocol = await running.connection()
        assert await client.recv_message() == 'last words'
        assert await client.recv_close() == (1001, '')
        await eventually(lambda: not running.server.server_state.tasks, 'app end')
        # The server keeps TCP open for our Close (uvicorn #3047).
        assert not protocol.transport.is_closing()
        assert protocol.close_timer is not None
        client.send_close(1001)
        await client.expect_eof()
        assert protocol.close_timer is None


async def test_d5_close_gives_up_after_close_timeout(
    ws_class: str, peers: Peers
) -> None:
    go = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({'type': 'websocket.accept'})
        await go.wait()
        await send({'type': 'websocket.close'})

    async with serve(app, ws_class) as running:
        client = await peers.connect(running.port)
        protocol = await running.connection()
        protocol.close_timeout = 0.05
        go.set()
        assert await client.recv_close() == (1000, '')
        # Never answer: the server closes TCP after close_timeout.
        await client.expect_eof()
        assert protocol.close_timer is None


# --- D6. wrong messages ------------------------------------------------------


async def test_d6_send_before_accept_is_an_error(ws_class: str, peers: Peers) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({'type': 'websocket.send', 'text': '123'})

    response = await denial(ws_class, app, peers)
    assert response.status == 500


async def test_d6_wrong_message_after_accept(
    ws_class: str, ours: bool, peers: Peers
) -> None:
    errors: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({'type': 'websocket.accept'})
        try:
            await send({'type': 'websocket.accept'})
        except RuntimeError as ex:
            errors.append(str(ex))
            raise

    async with serve(app, ws_class) as running:
        client = await peers.connect(running.port)
        if ours:
            # An app error after accept: Close 1011 (uvicorn drops TCP: 1006).
            assert await client.recv_close() == (1011, '')
            client.send_close(1011)
            await client.expect_eof()
        else:
            await client.expect_closed_without_close_frame()
    assert errors == [
        "Expected ASGI message 'websocket.send' or 'websocket.close', but got "
        "'websocket.accept'."
    ]


async def test_d6_send_after_close_is_a_runtime_error(ws_class: str) -> None:
    errors: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({'type': 'websocket.accept'})
        await send({'type': 'websocket.close'})
        try:
            await send({'type': 'websocket.send', 'text': '123'})
        except RuntimeError as ex:
            errors.append(str(ex))

    async with serve(app, ws_class) as running:
        async with connect(running.url) as client:
            await client.wait_closed()
    assert errors == [
        "Unexpected ASGI message 'websocket.send', after sending 'websocket.close'."
    ]


async def test_d6_send_after_peer_close_raises_oserror(
    ws_class: str, ours: bool, peers: Peers
) -> None:
    errors: list[BaseException] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({'type': 'websocket.accept'})
        assert (await receive())['type'] == 'websocket.disconnect'
        try:
            await send({'type': 'websocket.send', 'text': 'x'})
        except OSError as ex:
            errors.append(ex)

    async with serve(app, ws_class) as running:
        client = await peers.connect(running.port)
        client.send_close(4001, 'bye')
        # Our engine echoes the code without the reason; uvicorn's classes
        # echo the reason too.
        assert await client.recv_close() == (4001, '' if ours else 'bye')
        await eventually(lambda: bool(errors), 'the send error')
    from uvicorn.protocols.utils import ClientDisconnected

    assert isinstance(errors[0], ClientDisconnected)
    if ours:
        from gyrfalcon.errors import WebSocketDisconnected

        assert isinstance(errors[0], WebSocketDisconnected)
        assert (errors[0].code, errors[0].reason) == (4001, 'bye')


# --- E1. whole messages ------------------------------------------------------


async def test_e1_messages_arrive_whole(ws_class: str, peers: Peers) -> None:
    app = Recorder()
    async with serve(app, ws_class) as running:
        client = await peers.connect(running.port)
        client.send_text('héllo')
        client.send_binary(b'\x00\xff')
        client.send_text('')
        client.send_binary(b'')
        # A fragmented TEXT message with a multi-byte character split across
        # fragments, and a Ping between the fragments.
        data = 'añb€'.encode()
        client.send_frame(OP_TEXT, data[:2], fin=False)
        client.send_frame(OP_PING, b'between')
        client.send_frame(OP_CONT, data[2:5], fin=False)
        client.send_frame(OP_CONT, data[5:])
        pong = await client.recv_frame()
        client.send_frame(OP_BINARY, b'ab', fin=False)
        client.send_frame(OP_CONT, b'cd')
        client.send_close()
        await client.recv_close()
        await asyncio.wait_for(app.done.wait(), 10)
    assert (pong.opcode, pong.payload) == (OP_PONG, b'between')
    assert app.received == ['héllo', b'\x00\xff', '', b'', 'añb€', b'abcd']


async def test_e1_invalid_utf8_closes_with_1007(
    ws_class: str, ws_impl: str, peers: Peers
) -> None:
    app = Recorder()
    async with serve(app, ws_class) as running:
        client = await peers.connect(running.port)
        client.send_frame(OP_TEXT, b'ok \xff')
        code = await expect_close_frame(client, ws_impl)
        await asyncio.wait_for(app.done.wait(), 10)
    assert code == (None if ws_impl == 'wsproto' else 1007)
    assert app.received == []
    assert app.last['code'] == 1007


# --- E2. frame rules ---------------------------------------------------------

BAD_FRAMES = {
    'unmasked': dict(opcode=OP_TEXT, payload=b'hi', masked=False),
    'rsv1-without-extension': dict(opcode=OP_TEXT, payload=b'hi', rsv1=True),
    'reserved-opcode': dict(opcode=3, payload=b''),
    'fragmented-control': dict(opcode=OP_PING, payload=b'', fin=False),
    'continuation-first': dict(opcode=OP_CONT, payload=b'x'),
    'one-byte-close': dict(opcode=OP_CLOSE, payload=b'\x03'),
    'close-code-1005': dict(opcode=OP_CLOSE, payload=struct.pack('!H', 1005)),
}


@pytest.mark.parametrize('case', list(BAD_FRAMES))
async def test_e2_protocol_violations_close_with_1002(
    ws_class: str, ws_impl: str, case: str, peers: Peers
) -> None:
    app = Recorder()
    async with serve(app, ws_class) as running:
        client = await peers.connect(running.port)
        frame = BAD_FRAMES[case]
        if case == 'fragmented-control':
            # encode_frame refuses it: build the two header bytes by hand.
            client.write(b'\x09\x80' + b'\x00\x00\x00\x00')
        else:
            client.send_frame(**frame)  # type: ignore[arg-type]
        code = await expect_close_frame(client, ws_impl)
        await asyncio.wait_for(app.done.wait(), 10)
    assert code == (None if ws_impl == 'wsproto' else 1002)
    assert app.last['code'] == 1002


async def test_e2_control_frame_longer_than_125_bytes(
    ws_class: str, ws_impl: str, peers: Peers
) -> None:
    app = Recorder()
    async with serve(app, ws_class) as running:
        client = await peers.connect(running.port)
        # A Ping with a 126-byte payload (encode_frame refuses to build one).
        client.write(b'\x89\xfe\x00\x7e' + b'\x00' * 4 + b'p' * 126)
        code = await expect_close_frame(client, ws_impl)
        await asyncio.wait_for(app.done.wait(), 10)
    assert code == (None if ws_impl == 'wsproto' else 1002)
    assert app.last['code'] == 1002


# --- E3. ws_max_size ---------------------------------------------------------


@pytest.mark.parametrize('size, expected', [(10, None), (11, 1009)])
async def test_e3_max_size(
    ws_class: str, size: int, expected: int | None, peers: Peers
) -> None:
    app = Recorder()
    async with serve(app, ws_class, ws_max_size=10) as running:
        client = await peers.connect(running.port)
        client.send_binary(b'x' * size)
        if expected is None:
            client.send_close()
        code, _ = await client.recv_close()
        await asyncio.wait_for(app.done.wait(), 10)
    if expected is None:
        assert app.received == [b'x' * 10]
    else:
        assert code == expected
        assert app.received == []
        assert app.last['code'] == expected


async def test_e3_fragments_past_max_size(ws_class: str, peers: Peers) -> None:
    app = Recorder()
    async with serve(app, ws_class, ws_max_size=2048) as running:
        client = await peers.connect(running.port)
        client.send_frame(OP_BINARY, b'a' * 1024, fin=False)
        client.send_frame(OP_CONT, b'a' * 1024, fin=False)
        client.send_frame(OP_CONT, b'a' * 1024, fin=False)
        code, _ = await client.recv_close()
        await asyncio.wait_for(app.done.wait(), 10)
    assert code == 1009
    assert app.last['code'] == 1009


# --- E4. control frames ------------------------------------------------------


async def test_e4_ping_is_answered_and_pongs_are_ignored(
    ws_class: str, peers: Peers
) -> None:
    app = Recorder()
    async with serve(app, ws_class) as running:
        client = await peers.connect(running.port)
        client.send_frame(OP_PONG, b'unsolicited')
        client.send_frame(OP_PING, b'payload')
        frame = await client.recv_frame()
        client.send_text('still open')
        client.send_close()
        await client.recv_close()
        await asyncio.wait_for(app.done.wait(), 10)
    assert (frame.opcode, frame.payload) == (OP_PONG, b'payload')
    assert app.received == ['still open']


async def test_e4_data_after_our_close_is_dropped_but_the_close_is_read(
    ws_class: str, peers: Peers
) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({'type': 'websocket.accept'})
        await send({'type': 'websocket.close', 'code': 1000})

    async with serve(app, ws_class) as running:
        client = await peers.connect(running.port)
        protocol = await running.connection()
        assert await client.recv_close() == (1000, '')
        # Data that crossed our Close, then the reply, in one write.
        client.send_text('crossing')
        client.send_close(1000)
        await client.expect_eof()
        assert protocol.close_timer is None


# --- E5. the peer's close ----------------------------------------------------


@pytest.mark.parametrize('code, reason', [(1001, 'custom reason'), (None, '')])
async def test_e5_peer_close(
    ws_class: str, ours: bool, code: int | None, reason: str, peers: Peers
) -> None:
    app = Recorder()
    async with serve(app, ws_class) as running:
        client = await peers.connect(running.port)
        client.send_text('abc')
        client.send_close(code, reason)
        echo = await client.recv_close()
        await client.expect_eof()  # the server closes TCP after the echo
        await asyncio.wait_for(app.done.wait(), 10)
    assert echo[0] == (code or 1005)
    assert app.received == ['abc']
    expected: dict[str, Any] = {
        'type': 'websocket.disconnect',
        'code': code or 1005,
        'reason': reason,
    }
    assert app.last == expected


# --- E6. connection lost -----------------------------------------------------


async def test_e6_connection_lost_after_the_handshake(
    ws_class: str, ours: bool, peers: Peers
) -> None:
    app = Recorder()
    async with serve(app, ws_class) as running:
        client = await peers.connect(running.port)
        await running.connection()
        await client.aclose()
        await asyncio.wait_for(app.done.wait(), 10)
        await eventually(lambda: not running.connections, 'connection removal')
    assert app.last == disconnect(ours, 1005)


async def test_e6_connection_lost_before_the_handshake(
    ws_class: str, ours: bool, peers: Peers
) -> None:
    gone = asyncio.Event()
    got: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await gone.wait()
        got.append(await receive())
        try:
            await send({'type': 'websocket.accept'})
        except OSError as ex:
            errors.append(ex)

    async with serve(app, ws_class) as running:
        client = await peers.open(running.port)
        client.write(upgrade_request(running.port))
        await running.connection()
        await client.aclose()
        await eventually(lambda: not running.connections, 'connection removal')
        gone.set()
        await eventually(lambda: bool(errors), 'the accept error')
    assert got == [disconnect(ours, 1006)]


async def test_e6_frame_after_the_close_handshake_is_ignored(
    ws_class: str, peers: Peers
) -> None:
    app = Recorder()
    async with serve(app, ws_class) as running:
        client = await peers.connect(running.port)
        protocol = await running.connection()
        client.send_close()
        await client.recv_close()
        await asyncio.wait_for(app.done.wait(), 10)
        protocol.data_received(b'\x8a\x80\x00\x00\x00\x00')  # a masked Pong
        assert protocol.transport.is_closing()


async def test_e1_concurrent_receivers_each_get_a_message(
    ws_class: str, peers: Peers
) -> None:
    got: list[Any] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({'type': 'websocket.accept'})
        cancelled = asyncio.ensure_future(receive())
        first = asyncio.ensure_future(receive())
        second = asyncio.ensure_future(receive())
        await asyncio.sleep(0)
        cancelled.cancel()  # a cancelled receiver must not take a message
        await send({'type': 'websocket.send', 'text': 'waiting'})
        got.extend(m['text'] for m in await asyncio.gather(first, second))
        got.append((await receive())['text'])
        await send({'type': 'websocket.close'})

    async with serve(app, ws_class) as running:
        client = await peers.connect(running.port)
        assert await client.recv_message() == 'waiting'
        for text in ('a', 'b', 'c'):
            client.send_text(text)
        await client.recv_close()
        client.send_close()
    assert sorted(got[:2]) == ['a', 'b']
    assert got[2] == 'c'
