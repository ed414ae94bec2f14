"""Checklist F and H: keepalive, shutdown, app errors and logging.

Every test runs against our class and uvicorn's two classes; where they
differ on purpose (1011 on an app error instead of dropping TCP, a disconnect
reason, a graceful close on shutdown), the test states each class's result.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from ws_peers import OP_PING, Peers, eventually, serve, upgrade_request

from gyrfalcon.server.uvicorn import WebSocketProtocol

pytestmark = pytest.mark.network


class Holder:
    """An app that accepts and holds the connection until it is closed."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.done = asyncio.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            await receive()
            await send({'type': 'websocket.accept'})
            while True:
                message = await receive()
                self.messages.append(message)
                if message['type'] == 'websocket.disconnect':
                    return
        finally:
            self.done.set()


# --- F1. keepalive -----------------------------------------------------------


async def test_f1_keepalive_pings_and_pongs(ws_class: str, peers: Peers) -> None:
    app = Holder()
    async with serve(
        app, ws_class, ws_ping_interval=0.05, ws_ping_timeout=5.0
    ) as running:
        client = await peers.connect(running.port)
        protocol = await running.connection()
        for _ in range(2):  # the second ping proves the pong re-armed the timer
            ping = await client.recv_frame()
            assert ping.opcode == OP_PING
            assert len(ping.payload) == 4
            client.send_frame(10, ping.payload)
        assert protocol.ping_sent_at > 0.0
        assert not protocol.transport.is_closing()
        client.send_close()
        await client.recv_close()


async def test_f1_keepalive_timeout_closes_with_1011(
    ws_class: str, ours: bool, peers: Peers
) -> None:
    app = Holder()
    async with serve(
        app, ws_class, ws_ping_interval=0.05, ws_ping_timeout=0.05
    ) as running:
        client = await peers.connect(running.port)
        ping = await client.recv_frame()  # and never answer it
        assert ping.opcode == OP_PING
        assert await client.recv_close() == (1011, 'keepalive ping timeout')
        await client.expect_eof()
        await asyncio.wait_for(app.done.wait(), 10)
    # Ours tells the app why; uvicorn's classes report the lost connection.
    if ours:
        assert app.messages[-1] == {
            'type': 'websocket.disconnect',
            'code': 1011,
            'reason': 'keepalive ping timeout',
        }
    else:
        assert app.messages[-1] == {'type': 'websocket.disconnect', 'code': 1005}


@pytest.mark.parametrize('interval', [None, 0.0])
async def test_f1_keepalive_can_be_disabled(
    ws_class: str, interval: float | None, peers: Peers
) -> None:
    async with serve(Holder(), ws_class, ws_ping_interval=interval) as running:
        client = await peers.connect(running.port)
        protocol = await running.connection()
        assert protocol.ping_timer is None
        client.send_close()
        await client.recv_close()


async def test_f1_pings_without_timeout(ws_class: str, peers: Peers) -> None:
    async with serve(
        Holder(), ws_class, ws_ping_interval=0.02, ws_ping_timeout=None
    ) as running:
        client = await peers.connect(running.port)
        protocol = await running.connection()
        for _ in range(3):  # never answered, never closed
            assert (await client.recv_frame()).opcode == OP_PING
        assert protocol.pong_timer is None
        assert not protocol.transport.is_closing()
        client.send_close()
        await client.recv_close()


# --- H1. shutdown ------------------------------------------------------------


async def test_h1_shutdown_closes_with_1012(
    ws_class: str, ours: bool, peers: Peers
) -> None:
    app = Holder()
    async with serve(app, ws_class) as running:
        client = await peers.connect(running.port)
        await running.connection()
        stopping = asyncio.create_task(running.stop())
        assert await client.recv_close() == (1012, '')
        if ours:
            # Ours waits for the peer's Close before closing TCP.
            client.send_close(1012)
        await client.expect_eof()
        await stopping
    assert app.messages[-1]['code'] == 1012
    if ours:
        assert app.messages[-1] == {
            'type': 'websocket.disconnect',
            'code': 1012,
            'reason': '',
        }
    else:
        assert app.messages[-1] == {'type': 'websocket.disconnect', 'code': 1012}


async def test_h1_shutdown_before_the_handshake_sends_a_500(
    ws_class: str, peers: Peers
) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        while (await receive())['type'] != 'websocket.disconnect':
            pass

    async with serve(app, ws_class) as running:
        client = await peers.open(running.port)
        client.write(upgrade_request(running.port))
        await running.connection()
        stopping = asyncio.create_task(running.stop())
        response = await client.read_response()
        await stopping
    assert response.status == 500


async def test_h1_shutdown_while_the_close_reply_is_pending(
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
        assert protocol.close_timer is not None
        protocol.shutdown()
        # No second Close frame: TCP just ends.
        await client.expect_eof()
        assert protocol.close_timer is None


# --- H2. the app task and its errors -----------------------------------------


async def test_h2_exception_before_accept_is_a_500(
    ws_class: str, peers: Peers, uvicorn_log: Any
) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        raise RuntimeError('boom')

    async with serve(app, ws_class) as running:
        client = await peers.open(running.port)
        client.write(upgrade_request(running.port))
        response = await client.read_response()
    assert response.status == 500
    assert response.body == b'Internal Server Error'
    assert response.get('content-length') == '21'
    assert response.get('connection') == 'close'
    assert 'Exception in ASGI application\n' in uvicorn_log.messages(logging.ERROR)


async def test_h2_return_without_accept_is_a_500(
    ws_class: str, peers: Peers, uvicorn_log: Any
) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        pass

    async with serve(app, ws_class) as running:
        client = await peers.open(running.port)
        client.write(upgrade_request(running.port))
        response = await client.read_response()
    assert response.status == 500
    assert uvicorn_log.messages(logging.ERROR) == [
        'ASGI callable returned without completing handshake.'
    ]


async def test_h2_exception_after_accept(
    ws_class: str, ours: bool, peers: Peers, uvicorn_log: Any
) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({'type': 'websocket.accept'})
        raise RuntimeError('boom')

    async with serve(app, ws_class) as running:
        client = await peers.connect(running.port)
        if ours:
            # Ours closes with 1011 and finishes the close handshake.
            assert await client.recv_close() == (1011, '')
            client.send_close(1011)
            await client.expect_eof()
        else:
            # uvicorn's classes drop TCP: the client sees 1006.
            await client.expect_closed_without_close_frame()
    assert 'Exception in ASGI application\n' in uvicorn_log.messages(logging.ERROR)


async def test_h2_return_value_after_accept(
    ws_class: str, ours: bool, peers: Peers, uvicorn_log: Any
) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> int:
        await receive()
        await send({'type': 'websocket.accept'})
        return 123

    async with serve(app, ws_class) as running:
        client = await peers.connect(running.port)
        if ours:
            assert await client.recv_close() == (1011, '')
            client.send_close(1011)
            await client.expect_eof()
        else:
            await client.expect_closed_without_close_frame()
    assert uvicorn_log.messages(logging.ERROR) == [
        "ASGI callable should return None, but returned '123'."
    ]


async def test_h2_return_after_accept_without_close(
    ws_class: str, ours: bool, peers: Peers
) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({'type': 'websocket.accept'})
        await send({'type': 'websocket.send', 'text': 'bye'})

    async with serve(app, ws_class) as running:
        client = await peers.connect(running.port)
        assert await client.recv_message() == 'bye'
        if ours:
            # Like websockets' server: a handler that returns closes with 1000.
            assert await client.recv_close() == (1000, '')
            client.send_close(1000)
            await client.expect_eof()
        else:
            await client.expect_closed_without_close_frame()


class DropOnAppExit(WebSocketProtocol):
    close_on_app_exit = False


async def test_h2_close_on_app_exit_can_be_turned_off(peers: Peers) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({'type': 'websocket.accept'})
        raise RuntimeError('boom')

    async with serve(app, DropOnAppExit) as running:
        client = await peers.connect(running.port)
        await client.expect_closed_without_close_frame()


async def test_h2_client_disconnected_is_not_logged(
    ws_class: str, peers: Peers, uvicorn_log: Any
) -> None:
    raised: list[BaseException] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({'type': 'websocket.accept'})
        while (await receive())['type'] != 'websocket.disconnect':
            pass
        try:
            await send({'type': 'websocket.send', 'text': 'too late'})
        except OSError as ex:
            raised.append(ex)
            raise

    async with serve(app, ws_class) as running:
        client = await peers.connect(running.port)
        await running.connection()
        await client.aclose()
        await eventually(lambda: bool(raised), 'the send error')
        await eventually(lambda: not running.server.server_state.tasks, 'app end')
    assert uvicorn_log.messages(logging.ERROR) == []


# --- H3. logging -------------------------------------------------------------


async def test_h3_access_lines_go_to_uvicorn_error(
    ws_class: str, peers: Peers, uvicorn_log: Any
) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        if scope['path'] == '/yes':
            await send({'type': 'websocket.accept'})
            await send({'type': 'websocket.close'})
        elif scope['path'] == '/no':
            await send({'type': 'websocket.close'})
        else:
            await send(
                {'type': 'websocket.http.response.start', 'status': 401, 'headers': []}
            )
            await send({'type': 'websocket.http.response.body', 'body': b''})

    async with serve(app, ws_class) as running:
        accepted = await peers.connect(running.port, '/yes?a=1')
        await accepted.recv_close()
        accepted.send_close()
        for path in ('/no', '/deny'):
            client = await peers.open(running.port)
            client.write(upgrade_request(running.port, path))
            await client.read_response()
    lines = uvicorn_log.messages(logging.INFO)
    assert any(line.endswith(' - "WebSocket /yes?a=1" [accepted]') for line in lines)
    assert any(line.endswith(' - "WebSocket /no" 403') for line in lines)
    assert any(line.endswith(' - "WebSocket /deny" 401') for line in lines)


class QuickClose(WebSocketProtocol):
    close_timeout = 0.1


async def test_h1_shutdown_with_a_peer_that_stopped_reading(peers: Peers) -> None:
    # The peer never reads: the 1012 Close cannot even be written. Ours gives
    # up after close_timeout, then aborts the transport whose buffer cannot
    # drain, so shutdown completes. (uvicorn's classes call
    # transport.close(), which waits for the buffer to drain: shutdown then
    # waits for timeout_graceful_shutdown, if one is set.)
    paused = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({'type': 'websocket.accept'})
        payload = b'x' * 65536
        try:
            while True:
                await send({'type': 'websocket.send', 'bytes': payload})
        except OSError:
            paused.set()

    async with serve(app, QuickClose) as running:
        client = await peers.connect(running.port)
        protocol = await running.connection()
        await eventually(lambda: protocol._write_paused, 'writing to pause')
        await running.stop()
        assert running.connections == []
        assert protocol.transport.is_closing()
    assert paused.is_set()
    del client
