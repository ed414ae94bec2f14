"""The HTTP protocol class of ``gyrfalcon serve`` and the admission checks.

``gyrfalcon.server.http:HttpToolsProtocol`` runs in-process under
``uvicorn.Server`` (real sockets on 127.0.0.1): plain HTTP keeps working
(keep-alive, pipelining, bodies), the head limits and the head timeout
answer with a status, and the upgrade reaches the WebSocket class as
received. The Origin policy is tested as a table; the WebSocket class's
Origin and connection checks also run under uvicorn's own HTTP class.
``tests/hardening`` attacks the same code through ``gyrfalcon serve``.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from ws_peers import GUARD, Peers, serve, upgrade_request

from gyrfalcon import cli
from gyrfalcon.server._origins import OriginPolicy
from gyrfalcon.server.http import HttpToolsProtocol
from gyrfalcon.server.uvicorn import WebSocketProtocol

pytestmark = pytest.mark.network


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope['type'] == 'http':
        body = b''
        while True:
            message = await receive()
            body += message.get('body', b'')
            if not message.get('more_body'):
                break
        reply = f'{scope["method"]} {scope["path"]} {len(body)}'.encode()
        await send({'type': 'http.response.start', 'status': 200, 'headers': []})
        await send({'type': 'http.response.body', 'body': reply})
        return
    await receive()
    await send({'type': 'websocket.accept'})
    while True:
        message = await receive()
        if message['type'] == 'websocket.disconnect':
            return
        await send({'type': 'websocket.send', 'text': message['text']})


class SmallHead(HttpToolsProtocol):
    max_headers = 4
    max_head_size = 300
    head_timeout = 0.2


class Strict(WebSocketProtocol):
    allowed_origins = ('https://example.com',)
    max_connections = 1


def full(host: str) -> list[bytes]:
    return [host.encode()]


# --- the Origin policy -------------------------------------------------------


@pytest.mark.parametrize(
    ('origin', 'allowed'),
    [
        ('https://example.com', True),
        ('https://EXAMPLE.com', True),
        ('HTTPS://example.com:443', True),
        ('https://example.com:8443', False),
        ('http://example.com', False),
        ('https://example.com.evil.com', False),
        ('https://evil-example.com', False),
        ('https://evilexample.com', False),
        ('https://a.example.org', True),
        ('https://a.b.example.org', True),
        ('https://example.org', False),
        ('https://.example.org', False),
        ('https://a..example.org', False),
        ('https://a.example.org.evil.com', False),
        ('https://example.com/', False),
        ('https://user@example.com', False),
        ('https://example.com:0443x', False),
        ('http://[::1]:8000', True),
        ('http://[::1]', False),
        ('null', False),
        ('', False),
    ],
)
def test_origin_policy(origin: str, allowed: bool) -> None:
    policy = OriginPolicy(
        ['https://example.com', 'https://*.example.org', 'http://[::1]:8000']
    )
    assert policy.allows([origin.encode()]) is allowed


def test_origin_policy_missing_and_null() -> None:
    assert OriginPolicy(['https://example.com']).allows([]) is False
    assert OriginPolicy(['https://example.com', 'none']).allows([]) is True
    assert OriginPolicy(['null']).allows([b'null']) is True
    # Two Origin headers are ambiguous: refused even if both are allowed.
    policy = OriginPolicy(['https://example.com'])
    assert policy.allows([b'https://example.com', b'https://example.com']) is False


@pytest.mark.parametrize(
    'entry',
    ['example.com', 'https://example.com/', 'https://*', '*', 'https://a.*.com'],
)
def test_origin_policy_refuses_bad_entries(entry: str) -> None:
    with pytest.raises(ValueError, match='invalid allowed origin'):
        OriginPolicy([entry])


def test_cli_refuses_a_bad_origin_before_serving(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(['serve', 'x:app', '--ws-allowed-origins', 'example.com'])
    assert exit_info.value.code == 2
    assert 'invalid allowed origin' in capsys.readouterr().err


def test_cli_limits_reach_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith('GYRFALCON_'):
            monkeypatch.delenv(name)
    ran: dict[str, Any] = {}
    monkeypatch.setattr(cli, '_run', lambda app, **kwargs: ran.update(kwargs) or 0)
    argv = [
        'serve', 'x:app', '--http-head-timeout', '3', '--http-max-headers', '50',
        '--ws-allowed-origins', 'https://a.example, https://*.b.example',
        '--ws-allowed-origins', 'none', '--ws-max-connections', '0',
    ]  # fmt: skip
    assert cli.main(argv) == 0
    assert ran['http'] == cli.DEFAULT_HTTP
    assert os.environ['GYRFALCON_HTTP_HEAD_TIMEOUT'] == '3.0'
    assert os.environ['GYRFALCON_HTTP_MAX_HEADERS'] == '50'
    assert os.environ['GYRFALCON_WS_MAX_CONNECTIONS'] == '0'
    assert os.environ['GYRFALCON_WS_ALLOWED_ORIGINS'] == (
        'https://a.example,https://*.b.example,none'
    )


# --- the HTTP protocol class -------------------------------------------------


async def test_keep_alive_pipelining_and_bodies(peers: Peers) -> None:
    async with serve(
        app, 'gyrfalcon.server.uvicorn:WebSocketProtocol', http=HttpToolsProtocol
    ) as running:
        client = await peers.open(running.port)
        client.write(
            b'GET /a HTTP/1.1\r\nHost: x\r\n\r\n'
            b'POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello'
            b'POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n'
            b'3\r\nabc\r\n0\r\n\r\n'
            b'GET /d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
        )
        data = await client.read_to_eof()
    bodies = [
        part.split(b'\r\n', 1)[1] for part in data.split(b'\r\n\r\n')[1::1] if part
    ]
    assert data.count(b'HTTP/1.1 200 OK') == 4
    for expected in (b'GET /a 0', b'POST /b 5', b'POST /c 3', b'GET /d 0'):
        assert expected in data, (expected, bodies)


async def test_head_split_at_every_byte_still_upgrades(peers: Peers) -> None:
    async with serve(
        app, 'gyrfalcon.server.uvicorn:WebSocketProtocol', http=HttpToolsProtocol
    ) as running:
        head = upgrade_request(running.port)
        for split in range(1, len(head), 7):
            client = await peers.open(running.port)
            client.write(head[:split])
            await client.writer.drain()
            await asyncio.sleep(0)
            client.write(head[split:])
            assert (await client.read_head()).status == 101
        await peers.aclose()  # before the server stops: no 1012 wait


async def test_limits_of_a_subclass(peers: Peers) -> None:
    async with serve(
        app, 'gyrfalcon.server.uvicorn:WebSocketProtocol', http=SmallHead
    ) as running:
        too_many = await peers.open(running.port)
        too_many.write(b'GET / HTTP/1.1\r\n' + b'A: b\r\n' * 5 + b'\r\n')
        assert (await too_many.read_response()).status == 431
        too_big = await peers.open(running.port)
        too_big.write(b'GET / HTTP/1.1\r\nA: ' + b'b' * 300 + b'\r\n\r\n')
        response = await too_big.read_response()
        assert response.status == 431
        assert b'request head exceeds 300 bytes' in response.body
        slow = await peers.open(running.port)
        slow.write(b'GET / HTTP/1.1\r\n')
        response = await slow.read_response()
        assert response.status == 408
        # A keep-alive connection: the timeout runs per head, not per
        # connection, and only from a head's first byte.
        kept = await peers.open(running.port)
        kept.write(b'GET /1 HTTP/1.1\r\nHost: x\r\n\r\n')
        assert (await kept.read_head()).status == 200
        await asyncio.sleep(SmallHead.head_timeout * 2)
        kept.write(b'GET /2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
        assert b'GET /2 0' in await kept.read_to_eof()


async def test_admission_under_uvicorns_own_http_class(peers: Peers) -> None:
    # The Origin list and the connection limit live in the WebSocket class:
    # they work without gyrfalcon's HTTP class too.
    async with serve(app, Strict, http='httptools') as running:
        port = running.port
        wrong = await peers.open(port)
        wrong.write(
            upgrade_request(port, extra=[('Origin', 'https://example.com.evil.com')])
        )
        assert (await wrong.read_response()).status == 403
        missing = await peers.open(port)
        missing.write(upgrade_request(port))
        assert (await missing.read_response()).status == 403
        first = await peers.connect(port, extra=[('Origin', 'https://example.com')])
        second = await peers.open(port)
        second.write(upgrade_request(port, extra=[('Origin', 'https://example.com')]))
        assert (await second.read_response()).status == 503
        first.send_text('served')
        assert await first.recv_message() == 'served'
        await peers.aclose()  # before the server stops: no 1012 wait


async def test_upgrade_keeps_the_bytes_after_the_head(peers: Peers) -> None:
    # uvicorn's HTTP classes drop them (uvicorn-integration.md, 3.3).
    async with serve(
        app, 'gyrfalcon.server.uvicorn:WebSocketProtocol', http=HttpToolsProtocol
    ) as running:
        client = await peers.open(running.port)
        mask = os.urandom(4)
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(b'first'))
        client.write(upgrade_request(running.port) + b'\x81\x85' + mask + payload)
        assert (await client.read_head()).status == 101
        assert await asyncio.wait_for(client.recv_message(), GUARD) == 'first'
        await peers.aclose()  # before the server stops: no 1012 wait
