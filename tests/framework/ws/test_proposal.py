"""The proposal's example (``examples/proposal_app.py``), one test per branch.

Every test runs three ways: in-process through ``gyrfalcon.testing``'s
simulator, and on real sockets under uvicorn with each of its stock
WebSocket implementations (``websockets-sansio`` and ``wsproto``), driven by
the ``websockets`` client. A ``Client`` adapter gives the tests one
vocabulary for all three.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib.util
import json
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import msgpack
import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from ws_support import uvicorn_server, wait_until

import gyrfalcon as falcon
from gyrfalcon import testing

EXAMPLE = Path(__file__).parents[3] / 'examples' / 'proposal_app.py'
AUTH = {'Authorization': 'Bearer letmein'}


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location('proposal_app', EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


example = load_example()


class Denied(Exception):
    """The server answered the handshake with an HTTP response."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class Conversation:
    """One open connection, whatever the transport."""

    def __init__(self, subprotocol: str | None) -> None:
        self.subprotocol = subprotocol

    async def send(self, message: str | bytes) -> None:
        raise NotImplementedError

    async def recv(self) -> str | bytes:
        raise NotImplementedError

    async def close(self, code: int = 1000) -> None:
        raise NotImplementedError

    async def closed_by_server(self) -> tuple[int, str]:
        """Wait for the server's close; return its code and reason."""
        raise NotImplementedError


class SimulatedConversation(Conversation):
    def __init__(self, ws: Any) -> None:
        super().__init__(ws.subprotocol)
        self.ws = ws

    async def send(self, message: str | bytes) -> None:
        if isinstance(message, str):
            await self.ws.send_text(message)
        else:
            await self.ws.send_data(message)

    async def recv(self) -> str | bytes:
        return await self.ws.receive()  # type: ignore[no-any-return]

    async def close(self, code: int = 1000) -> None:
        await self.ws.close(code)

    async def closed_by_server(self) -> tuple[int, str]:
        with pytest.raises(falcon.WebSocketDisconnected) as exc_info:
            await self.ws.receive()
        return exc_info.value.code, exc_info.value.reason


class SocketConversation(Conversation):
    def __init__(self, connection: Any) -> None:
        super().__init__(connection.subprotocol)
        self.connection = connection

    async def send(self, message: str | bytes) -> None:
        await self.connection.send(message)

    async def recv(self) -> str | bytes:
        return await self.connection.recv()  # type: ignore[no-any-return]

    async def close(self, code: int = 1000) -> None:
        await self.connection.close(code)

    async def closed_by_server(self) -> tuple[int, str]:
        with pytest.raises(ConnectionClosed) as exc_info:
            await self.connection.recv()
        close = exc_info.value.rcvd
        assert close is not None
        return close.code, close.reason


class Client:
    """Opens conversations with the example app over one transport."""

    def __init__(self, transport: str, app: Any, url: str | None = None) -> None:
        self.transport = transport
        self.app = app
        self.url = url

    @contextlib.asynccontextmanager
    async def connect(
        self,
        account: str = '42',
        mode: str | None = None,
        headers: dict[str, str] | None = None,
        subprotocols: list[str] | None = None,
    ) -> AsyncIterator[Conversation]:
        path = f'/{account}/messages'
        query = '' if mode is None else f'mode={mode}'
        headers = AUTH if headers is None else headers
        subprotocols = ['wamp'] if subprotocols is None else subprotocols
        if self.url is None:
            context = testing.ASGIConductor(self.app).simulate_ws(
                path,
                query_string=query,
                headers=headers,
                subprotocols=subprotocols,
                spec_version='2.4',
            )
            try:
                ws = await context.__aenter__()
            except falcon.WebSocketDisconnected:
                # NOTE: Any close before accept() is an HTTP 403 on the wire.
                raise Denied(context.ws.denial_status or 403) from None
            try:
                yield SimulatedConversation(ws)
            finally:
                await context.__aexit__(None, None, None)
            return

        uri = f'{self.url}{path}' + (f'?{query}' if query else '')
        try:
            connection = await ws_connect(
                uri,
                additional_headers=headers,
                subprotocols=subprotocols,  # type: ignore[arg-type]
                proxy=None,
                open_timeout=10,
                close_timeout=10,
            )
        except InvalidStatus as ex:
            raise Denied(ex.response.status_code) from None
        try:
            yield SocketConversation(connection)
        finally:
            await connection.close()


TRANSPORTS = [
    'simulator',
    pytest.param('websockets-sansio', marks=pytest.mark.network),
    pytest.param('wsproto', marks=pytest.mark.network),
]


@pytest.fixture
def events() -> Any:
    return example.EventSource()


@pytest.fixture
def middleware() -> Any:
    return example.SomeMiddleware()


@pytest.fixture(params=TRANSPORTS)
async def client(request: Any, events: Any, middleware: Any) -> AsyncIterator[Client]:
    app = example.create_app(events, middleware)
    if request.param == 'simulator':
        yield Client('simulator', app)
        return
    async with uvicorn_server(app, request.param) as url:
        yield Client(request.param, app, url)


# --- the handshake -------------------------------------------------------------


@pytest.mark.parametrize('headers', [{}, {'Authorization': 'Bearer wrong'}])
async def test_reject_branch(client: Client, headers: dict[str, str]) -> None:
    """Without the right Authorization header, close() before accept(): 403."""
    with pytest.raises(Denied) as exc_info:
        async with client.connect(headers=headers):
            pytest.fail('the connection was accepted')
    assert exc_info.value.status == 403


async def test_wamp_subprotocol_required(client: Client) -> None:
    """Without 'wamp' offered, the responder returns; the automatic close is a 403."""
    with pytest.raises(Denied) as exc_info:
        async with client.connect(subprotocols=['mqtt']):
            pytest.fail('the connection was accepted')
    assert exc_info.value.status == 403


async def test_accept_with_wamp(client: Client) -> None:
    """With auth and 'wamp' offered (among others), 'wamp' is accepted."""
    async with client.connect(subprotocols=['mqtt', 'wamp']) as conversation:
        assert conversation.subprotocol == 'wamp'


async def test_middleware_calls(client: Client, middleware: Any) -> None:
    """``process_request_ws`` then ``process_resource_ws``, for every handshake."""
    async with client.connect(account='7', mode='rpc'):
        pass
    with pytest.raises(Denied):
        async with client.connect(account='8', headers={}):
            pass
    assert middleware.calls == [
        ('process_request_ws', '/7/messages'),
        ('process_resource_ws', 'SomeResource', '7'),
        ('process_request_ws', '/8/messages'),
        ('process_resource_ws', 'SomeResource', '8'),
    ]


# --- the event feed ------------------------------------------------------------


async def test_event_feed(client: Client, events: Any) -> None:
    """Each event goes out as TEXT, as BINARY, and as media (compact JSON)."""
    async with client.connect(account='42') as conversation:
        await wait_until(lambda: events.subscriber_count('42') == 1, 'subscribed')
        events.publish('42', 'login')
        events.publish('42', 'logout')
        events.publish('other', 'not for us')
        received = [await conversation.recv() for __ in range(6)]
    assert received == [
        'login',
        b'login',
        '{"event":"login"}',
        'logout',
        b'logout',
        '{"event":"logout"}',
    ]


async def test_event_feed_ends_when_client_leaves(client: Client, events: Any) -> None:
    """The feed's send fails once the client is gone; it unsubscribes."""
    async with client.connect(account='9') as conversation:
        await wait_until(lambda: events.subscriber_count('9') == 1, 'subscribed')
        events.publish('9', 'one')
        assert await conversation.recv() == 'one'
        await conversation.close(1001)
    events.publish('9', 'after the client left')
    await wait_until(lambda: events.subscriber_count('9') == 0, 'unsubscribed')


# --- the request-response loop ---------------------------------------------------


def decode(reply: str | bytes) -> Any:
    assert isinstance(reply, bytes), 'replies are media in BINARY messages'
    return msgpack.unpackb(reply, raw=False, timestamp=3)


async def test_request_response_text_media(client: Client) -> None:
    """TEXT, BINARY, then TEXT media (JSON): a BINARY media reply."""
    async with client.connect(mode='rpc') as conversation:
        await conversation.send('hello')
        await conversation.send(b'\x00\x01\x02')
        await conversation.send(json.dumps({'q': 'é'}))
        assert decode(await conversation.recv()) == {
            'event': 'message',
            'text': 'hello',
            'size': 3,
            'media': {'q': 'é'},
        }


async def test_request_response_binary_media(client: Client) -> None:
    """The media message as BINARY (MessagePack, with a timestamp)."""
    at = datetime.datetime(2020, 5, 25, 12, 30, tzinfo=datetime.UTC)
    async with client.connect(mode='rpc') as conversation:
        await conversation.send('when')
        await conversation.send(b'')
        await conversation.send(msgpack.packb({'at': at}, datetime=True))
        reply = decode(await conversation.recv())
    assert reply['media'] == {'at': at}
    assert reply['size'] == 0


async def test_request_response_wrong_type(client: Client) -> None:
    """BINARY where TEXT is expected: ``TypeError`` branch, an error notice."""
    async with client.connect(mode='rpc') as conversation:
        await conversation.send(b'not text')
        assert await conversation.recv() == '{"error":"unexpected payload type"}'
        await conversation.send('text')
        await conversation.send('also text')
        assert await conversation.recv() == '{"error":"unexpected payload type"}'


async def test_request_response_invalid_json(client: Client) -> None:
    """Invalid JSON as TEXT media: ``JSONDecodeError`` branch, an error notice."""
    async with client.connect(mode='rpc') as conversation:
        await conversation.send('text')
        await conversation.send(b'data')
        await conversation.send('{not json')
        assert await conversation.recv() == '{"error":"invalid JSON"}'
        await conversation.send('again')
        await conversation.send(b'data')
        await conversation.send('[1]')
        assert decode(await conversation.recv())['media'] == [1]


async def test_request_response_done(client: Client) -> None:
    """'bye' ends the conversation: ``close(code=1000)``."""
    async with client.connect(mode='rpc') as conversation:
        await conversation.send('bye')
        await conversation.send(b'')
        await conversation.send('null')
        assert await conversation.closed_by_server() == (1000, 'Normal Closure')


async def test_request_response_client_leaves(client: Client) -> None:
    """The client closing mid-request ends the loop without an error."""
    async with client.connect(mode='rpc') as conversation:
        await conversation.send('half')
        await conversation.close()


# --- the parallel loops ----------------------------------------------------------


async def test_parallel_sink_loop(client: Client) -> None:
    """A sink task receives; the responder sends each message back."""
    async with client.connect(mode='chat') as conversation:
        for message in ('a', 'b', 'c'):
            await conversation.send(message)
        assert [await conversation.recv() for __ in range(3)] == ['a', 'b', 'c']
        await conversation.send('d')
        assert await conversation.recv() == 'd'
        await conversation.close()


async def test_parallel_sink_wrong_type(client: Client) -> None:
    """A BINARY message in chat mode fails the sink: the app closes with 1011."""
    async with client.connect(mode='chat') as conversation:
        await conversation.send(b'binary')
        code, __ = await conversation.closed_by_server()
    assert code == 1011


async def test_unknown_mode(client: Client) -> None:
    """An unknown mode is closed with an application code and a reason."""
    async with client.connect(mode='dance') as conversation:
        assert await conversation.closed_by_server() == (4400, 'unknown mode: dance')


# --- HTTP beside WebSocket -------------------------------------------------------


async def test_http_get_beside_websocket(events: Any) -> None:
    """The resource answers plain HTTP too (the proposal's ``on_get``)."""
    app = example.create_app(events)
    result = await testing.ASGIConductor(app).simulate_get('/42/messages')
    assert result.json == {'account_id': '42', 'events': []}


def test_module_level_app() -> None:
    """``uvicorn examples.proposal_app:app`` finds an app."""
    assert isinstance(example.app, falcon.asgi.App)
