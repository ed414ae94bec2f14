"""The WebSocket facade beyond Falcon 4.4, driven by a hand-written ASGI peer.

FC's suite covers Falcon's behaviour through the testing package; these
tests pin what Gyrfalcon adds: ``deny()``, ``close_code``/``close_reason``,
1005 for a disconnect without a code, iteration, the receive guard, the send
lock, close-code and reason validation, and strict ``send_media()``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import falcon
import pytest

from gyrfalcon.asgi.ws import WebSocket, WebSocketOptions, validate_close_code
from gyrfalcon.constants import WebSocketPayloadType
from gyrfalcon.errors import (
    OperationNotAllowed,
    PayloadTypeError,
    WebSocketDisconnected,
)


class Peer:
    """The ASGI server side of one connection: queued events in, sent events out."""

    def __init__(self) -> None:
        self.inbound: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sent: list[dict[str, Any]] = []
        self.on_send: Callable[[dict[str, Any]], Any] | None = None

    async def receive(self) -> dict[str, Any]:
        return await self.inbound.get()

    async def send(self, event: dict[str, Any]) -> None:
        if self.on_send is not None:
            await self.on_send(event)
        self.sent.append(event)

    def text(self, text: str) -> None:
        self.inbound.put_nowait({'type': 'websocket.receive', 'text': text})

    def data(self, data: bytes) -> None:
        self.inbound.put_nowait({'type': 'websocket.receive', 'bytes': data})

    def disconnect(self, code: int | None = None, reason: str | None = None) -> None:
        event: dict[str, Any] = {'type': 'websocket.disconnect'}
        if code is not None:
            event['code'] = code
        if reason is not None:
            event['reason'] = reason
        self.inbound.put_nowait(event)


def make_ws(
    peer: Peer,
    *,
    spec: str = '2.5',
    queue: int = 4,
    extensions: dict[str, Any] | None = None,
    subprotocols: tuple[str, ...] = (),
) -> WebSocket:
    options = WebSocketOptions()
    scope = {
        'type': 'websocket',
        'subprotocols': list(subprotocols),
        'extensions': {} if extensions is None else extensions,
    }
    return WebSocket(
        spec,
        scope,
        peer.receive,
        peer.send,
        options.media_handlers,
        queue,
        options.default_close_reasons,
    )


@pytest.fixture(params=[4, 0], ids=['buffered', 'direct'])
def queue(request: pytest.FixtureRequest) -> int:
    return int(request.param)


# -- deny() ------------------------------------------------------------------------


async def test_deny_sends_an_http_response_over_the_extension() -> None:
    peer = Peer()
    ws = make_ws(peer, extensions={'websocket.http.response': {}})
    assert ws.supports_deny

    await ws.deny(401, headers={'WWW-Authenticate': 'Bearer'}, body='who are you?')

    start, body = peer.sent
    assert start == {
        'type': 'websocket.http.response.start',
        'status': 401,
        'headers': [
            (b'www-authenticate', b'Bearer'),
            (b'content-type', b'text/plain; charset=utf-8'),
            (b'content-length', b'12'),
        ],
    }
    assert body == {'type': 'websocket.http.response.body', 'body': b'who are you?'}
    assert ws.closed and not ws.unaccepted and not ws.ready
    assert (ws.close_code, ws.close_reason) == (3401, '401 Unauthorized')


async def test_deny_without_the_extension_closes_before_the_handshake() -> None:
    peer = Peer()
    ws = make_ws(peer, spec='2.3')
    assert not ws.supports_deny

    await ws.deny(404, body=b'ignored')

    assert peer.sent == [
        {'type': 'websocket.close', 'code': 3404, 'reason': 'Not Found'}
    ]
    assert ws.close_code == 3404


async def test_deny_is_only_for_the_handshake() -> None:
    peer = Peer()
    ws = make_ws(peer, extensions={'websocket.http.response': {}})
    await ws.accept()
    with pytest.raises(OperationNotAllowed, match='before accept'):
        await ws.deny()
    with pytest.raises(ValueError, match='invalid HTTP status'):
        await make_ws(Peer()).deny(600)


# -- close codes, reasons and 1005 -----------------------------------------------


@pytest.mark.parametrize('code', [1000, 1003, 1007, 1014, 3000, 4999])
def test_valid_close_codes(code: int) -> None:
    assert validate_close_code(code) == code


@pytest.mark.parametrize('code', [999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])
async def test_invalid_close_codes(code: int) -> None:
    with pytest.raises(ValueError, match='Invalid close code'):
        await make_ws(Peer()).close(code)


async def test_close_code_must_be_an_int() -> None:
    with pytest.raises(ValueError, match='must be an int'):
        await make_ws(Peer()).close('1000')  # type: ignore[arg-type]
    with pytest.raises(ValueError, match='must be an int'):
        await make_ws(Peer()).close(True)


async def test_close_reason_is_limited_to_123_bytes() -> None:
    peer = Peer()
    ws = make_ws(peer)
    await ws.accept()
    with pytest.raises(ValueError, match='123 bytes'):
        await ws.close(4000, 'é' * 62)
    assert ws.ready
    await ws.close(4000, 'é' * 61 + 'x')
    assert peer.sent[-1] == {
        'type': 'websocket.close',
        'code': 4000,
        'reason': 'é' * 61 + 'x',
    }
    assert (ws.close_code, ws.close_reason) == (4000, 'é' * 61 + 'x')


async def test_disconnect_code_and_reason_are_kept(queue: int) -> None:
    peer = Peer()
    ws = make_ws(peer, queue=queue)
    await ws.accept()
    assert (ws.close_code, ws.close_reason) == (None, None)
    peer.disconnect(4002, 'bye now')

    with pytest.raises(WebSocketDisconnected) as info:
        await ws.receive_text()

    assert (info.value.code, info.value.reason) == (4002, 'bye now')
    assert (ws.close_code, ws.close_reason) == (4002, 'bye now')
    assert ws.closed


async def test_disconnect_without_a_code_means_1005(queue: int) -> None:
    peer = Peer()
    ws = make_ws(peer, queue=queue)
    await ws.accept()
    peer.disconnect()

    with pytest.raises(WebSocketDisconnected) as info:
        await ws.receive_data()

    assert info.value.code == 1005
    assert (ws.close_code, ws.close_reason) == (1005, '')


async def test_pump_reports_a_disconnect_while_the_app_only_sends() -> None:
    peer = Peer()
    ws = make_ws(peer)
    await ws.accept()
    peer.text('queued')
    peer.disconnect(1001, 'going away')
    while not ws.closed:
        await asyncio.sleep(0)

    assert (ws.close_code, ws.close_reason) == (1001, 'going away')
    assert not ws.ready
    # NOTE(gyrfalcon): A message that came before the disconnect is not lost.
    assert await ws.receive_text() == 'queued'
    with pytest.raises(WebSocketDisconnected) as info:
        await ws.send_text('too late')
    assert (info.value.code, info.value.reason) == (1001, 'going away')
    assert peer.sent == [{'type': 'websocket.accept'}]


async def test_server_oserror_on_send_becomes_a_disconnect() -> None:
    peer = Peer()
    ws = make_ws(peer, queue=0)
    await ws.accept()

    async def refuse(event: dict[str, Any]) -> None:
        try:
            raise RuntimeError(
                'received 1001 (going away); then sent 1001 (going away)'
            )
        except RuntimeError as cause:
            raise ConnectionResetError('gone') from cause

    peer.on_send = refuse
    with pytest.raises(WebSocketDisconnected) as info:
        await ws.send_text('x')
    assert info.value.code == 1001
    assert ws.closed and ws.close_code == 1001

    other = make_ws(Peer(), queue=0)
    await other.accept()

    async def refuse_plainly(event: dict[str, Any]) -> None:
        raise ConnectionResetError('gone')

    other._asgi_send = refuse_plainly
    with pytest.raises(WebSocketDisconnected) as info:
        await other.send_data(b'x')
    assert info.value.code == 1005


# -- iteration --------------------------------------------------------------------


async def test_async_for_yields_text_and_bytes_until_disconnect(queue: int) -> None:
    peer = Peer()
    ws = make_ws(peer, queue=queue)
    await ws.accept()
    peer.text('one')
    peer.data(b'two')
    peer.disconnect(1000)

    assert [message async for message in ws] == ['one', b'two']
    assert ws.close_code == 1000


async def test_iter_helpers(queue: int) -> None:
    peer = Peer()
    ws = make_ws(peer, queue=queue)
    await ws.accept()
    peer.text('a')
    peer.text(json.dumps({'b': 1}))
    peer.data(b'c')
    peer.disconnect(1000)

    texts = ws.iter_text()
    assert await texts.__anext__() == 'a'
    assert [media async for media in _take(ws.iter_media(), 1)] == [{'b': 1}]
    with pytest.raises(PayloadTypeError):
        await texts.__anext__()
    assert [data async for data in ws.iter_data()] == []


async def test_iteration_ends_when_the_app_closes(queue: int) -> None:
    peer = Peer()
    ws = make_ws(peer, queue=queue)
    await ws.accept()
    await ws.close(4001)
    assert [message async for message in ws] == []
    assert [data async for data in ws.iter_data()] == []


async def _take(iterator: Any, count: int) -> Any:
    for _ in range(count):
        yield await iterator.__anext__()


# -- concurrency ------------------------------------------------------------------


async def test_concurrent_receives_are_refused(queue: int) -> None:
    peer = Peer()
    ws = make_ws(peer, queue=queue)
    await ws.accept()
    first = asyncio.create_task(ws.receive_text())
    await asyncio.sleep(0)

    with pytest.raises(OperationNotAllowed, match='already waiting'):
        await ws.receive_text()

    peer.text('hello')
    assert await first == 'hello'
    peer.text('again')
    assert await ws.receive_text() == 'again'


async def test_concurrent_sends_take_turns() -> None:
    peer = Peer()
    ws = make_ws(peer)
    await ws.accept()
    log: list[str] = []
    release = asyncio.Event()

    async def slow_send(event: dict[str, Any]) -> None:
        log.append('start ' + event['text'])
        if event['text'] == 'first':
            await release.wait()
        log.append('end ' + event['text'])

    peer.on_send = slow_send
    first = asyncio.create_task(ws.send_text('first'))
    second = asyncio.create_task(ws.send_text('second'))
    for _ in range(5):
        await asyncio.sleep(0)
    assert log == ['start first']
    release.set()
    await asyncio.gather(first, second)
    assert log == ['start first', 'end first', 'start second', 'end second']


# -- send_media -------------------------------------------------------------------


async def test_send_media_requires_a_payload_type() -> None:
    peer = Peer()
    ws = make_ws(peer)
    await ws.accept()
    for wrong in ('binary', 2, falcon.WebSocketPayloadType.BINARY, None):
        with pytest.raises(TypeError, match='payload_type'):
            await ws.send_media({'a': 1}, payload_type=wrong)  # type: ignore[arg-type]
    await ws.send_media({'a': 1}, payload_type=WebSocketPayloadType.BINARY)
    await ws.send_media({'a': 1})
    binary, text = peer.sent[1:]
    assert binary == {'type': 'websocket.send', 'bytes': b'\x81\xa1a\x01'}
    assert json.loads(text['text']) == {'a': 1}
