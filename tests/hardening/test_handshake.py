"""Adversarial handshakes against ``gyrfalcon serve``: §2.5 D (HTTP layer).

The cases D29–D36 of ``users-reliability-scale.md`` §2.5, one test each, on
raw sockets, plus the connection limit (``--ws-max-connections``). Each
asserts the HTTP status (or the close), that the ``bystander`` and a new
client are still served, and the ``memory`` bound (16 MiB of RSS growth).

``gyrfalcon serve`` reads the request head with its own HTTP protocol class
(``gyrfalcon.server.http``), so the head limits here are ours, not
httptools'. The method check answers 405 (with ``Allow: GET``), not 400:
that is the engine contract's status for a non-GET upgrade.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os

import pytest
from hardening_server import (
    Server,
    open_client,
    raw_client,
    start_server,
    still_served,
)
from ws_peers import GUARD, RawClient, upgrade_request

pytestmark = pytest.mark.network


def request(server: Server, *extra: tuple[str, str], **kwargs: object) -> bytes:
    return upgrade_request(server.port, extra=extra, **kwargs)  # type: ignore[arg-type]


async def http_exchange(server: Server, data: bytes) -> tuple[RawClient, int]:
    client = await raw_client(server)
    client.write(data)
    response = await client.read_response()
    return client, response.status


async def test_d29_slowloris_head_is_closed(server, bystander, memory) -> None:
    # --http-head-timeout 1: the head trickles one byte at a time (slower
    # than it takes the timeout to fire); the server answers 408 and closes,
    # and no app code ran.
    started = server.stats()['started']
    client = await raw_client(server)
    data = request(server)
    answer = b''
    for sent in range(len(data) - 1):
        client.write(data[sent : sent + 1])
        try:
            answer = await asyncio.wait_for(client.reader.read(65536), 0.2)
        except TimeoutError:
            continue
        break
    assert sent < len(data) - 2, 'the whole head was accepted'
    answer += await client.read_to_eof()
    assert answer.startswith(b'HTTP/1.1 408 '), answer
    assert server.stats()['started'] == started
    await still_served(server, bystander)


async def test_d29_silent_connection_is_closed(server, bystander, memory) -> None:
    client = await raw_client(server)
    assert await client.read_to_eof() == b''
    await still_served(server, bystander)


async def test_d30_request_line_too_long(server, bystander, memory) -> None:
    _, status = await http_exchange(server, request(server, path='/' + 'a' * 8200))
    assert status == 414
    await still_served(server, bystander)


async def test_d30_header_line_too_long(server, bystander, memory) -> None:
    _, status = await http_exchange(server, request(server, ('X-Big', 'b' * 8200)))
    assert status == 431
    await still_served(server, bystander)


@pytest.mark.parametrize('count', [129, 2000])
async def test_d30_too_many_headers(server, bystander, memory, count: int) -> None:
    headers = [(f'X-H{i}', 'v') for i in range(count)]
    _, status = await http_exchange(server, request(server, *headers))
    assert status == 431
    await still_served(server, bystander)


async def test_d30_huge_header_in_tiny_packets(server, bystander, memory) -> None:
    # A 1 MB header line sent a byte at a time is refused once it crosses
    # 8192 bytes (the rest is never sent): linear work, not a re-parse per
    # packet.
    client = await raw_client(server)
    client.write(b'GET / HTTP/1.1\r\nHost: x\r\nX-Big: ')
    for _ in range(8300):
        client.write(b'b')
        await client.writer.drain()
    response = await client.read_response()
    assert response.status == 431
    await still_served(server, bystander)


@pytest.mark.parametrize(
    ('kwargs', 'status'),
    [
        ({'key': None}, 400),
        ({'key': 'c2hvcnQ='}, 400),
        ({'version': '12'}, 426),
        ({'method': 'POST'}, 405),
    ],
    ids=['no-key', 'short-key', 'version-12', 'post'],
)
async def test_d31_bad_upgrade_request(
    server, bystander, memory, kwargs: dict[str, object], status: int
) -> None:
    client = await raw_client(server)
    client.write(request(server, **kwargs))
    response = await client.read_response()
    assert response.status == status
    if status == 426:
        assert response.get('sec-websocket-version') == '13'
    await still_served(server, bystander)


async def test_d31_http_10_upgrade_is_refused(server, bystander, memory) -> None:
    # uvicorn's own HTTP classes rewrite this request line to HTTP/1.1.
    data = request(server).replace(b'HTTP/1.1', b'HTTP/1.0', 1)
    _, status = await http_exchange(server, data)
    assert status == 400
    await still_served(server, bystander)


async def test_d31_connection_token_list_is_accepted(server, bystander, memory) -> None:
    key = base64.b64encode(os.urandom(16)).decode()
    data = request(server, key=key).replace(
        b'Connection: Upgrade', b'Connection: keep-alive, UPGRADE'
    )
    client = await raw_client(server)
    client.write(data)
    assert (await client.read_head()).status == 101
    await still_served(server, bystander)


@pytest.mark.parametrize(
    ('origin', 'status'),
    [
        ('http://good.example', 101),
        ('https://app.example.com', 101),
        ('https://a.b.example.com', 101),
        ('https://example.com.evil.com', 403),
        ('https://evil-example.com', 403),
        ('https://example.com', 403),
        ('http://app.example.com', 403),
        ('http://good.example:8080', 403),
        ('null', 403),
    ],
)
async def test_d32_origin_allow_list(
    server, bystander, memory, origin: str, status: int
) -> None:
    # --ws-allowed-origins http://good.example,https://*.example.com,none
    started = server.stats()['started']
    client = await raw_client(server)
    client.write(request(server, ('Origin', origin)))
    response = await client.read_head()
    assert response.status == status
    if status == 403:
        await client.read_to_eof()
        assert server.stats()['started'] == started  # no app code ran
    await still_served(server, bystander)


async def test_d33_close_before_accept_and_denial(server, bystander, memory) -> None:
    _, status = await http_exchange(server, request(server, path='/reject'))
    assert status == 403
    client = await raw_client(server)
    client.write(request(server, path='/deny'))
    response = await client.read_response()
    assert response.status == 401
    assert response.get('www-authenticate') == 'Bearer'
    assert response.body == b'who?'
    await still_served(server, bystander)


async def test_d34_subprotocol_list_is_split(server, bystander, memory) -> None:
    client = await raw_client(server)
    await client.handshake(
        '/subprotocols', [('Sec-WebSocket-Protocol', 'bokeh, Token')]
    )
    assert client.response is not None
    assert client.response.get('sec-websocket-protocol') == 'bokeh'
    assert json.loads(await client.recv_message()) == ['bokeh', 'Token']
    await still_served(server, bystander)


async def test_d35_bytes_after_a_refused_upgrade_are_not_http(
    server, bystander, memory
) -> None:
    # The second request (a smuggled /release) must never be served.
    smuggled = b'GET /release HTTP/1.1\r\nHost: x\r\n\r\n'
    client = await raw_client(server)
    client.write(request(server, version='12') + smuggled)
    response = await client.read_response()
    assert response.status == 426
    assert b'HTTP/1.1' not in response.body
    await still_served(server, bystander)


async def test_d35_frame_pipelined_after_the_upgrade(server, bystander, memory) -> None:
    # Parsed as a WebSocket frame after the 101; uvicorn's HTTP classes
    # drop it.
    client = await raw_client(server)
    key = base64.b64encode(os.urandom(16)).decode()
    mask = os.urandom(4)
    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(b'early'))
    client.write(request(server, key=key) + b'\x81\x85' + mask + payload)
    assert (await client.read_head()).status == 101
    assert await client.recv_message() == 'early'
    await still_served(server, bystander)


async def test_d36_frames_without_a_handshake(server, bystander, memory) -> None:
    mask = os.urandom(4)
    _, status = await http_exchange(server, b'\x81\x85' + mask + b'hello')
    assert status == 400
    await still_served(server, bystander)


async def test_max_connections_answers_503() -> None:
    with start_server('--ws-max-connections', '2') as server:
        first = await open_client(server)
        second = await open_client(server)
        refused = await raw_client(server)
        refused.write(request(server))
        response = await refused.read_response()
        assert response.status == 503
        # The others are still served, and a slot frees when one leaves.
        first.send_text('one')
        assert await first.recv_message() == 'one'
        second.send_close(1000)
        await second.recv_close()
        await second.expect_eof()
        third = await asyncio.wait_for(_connect_when_free(server), GUARD)
        third.send_text('three')
        assert await third.recv_message() == 'three'


async def _connect_when_free(server: Server) -> RawClient:
    while True:
        client = await raw_client(server)
        client.write(request(server, key=base64.b64encode(os.urandom(16)).decode()))
        response = await client.read_head()
        if response.status == 101:
            return client
        await asyncio.sleep(0.02)
