"""The ASGI app the adversarial tests attack, served by ``gyrfalcon serve``.

WebSocket paths:

* ``/`` (any other path): accept and echo every message;
* ``/push``: accept, then send 1 KiB binary messages until the client is gone
  (``send`` awaits while the client does not read);
* ``/slow``: accept and never read, until ``/stats`` is asked to release it;
* ``/close``: accept and close with 1000 at once;
* ``/reject``: close before accepting (HTTP 403);
* ``/deny``: deny with ``401`` and a ``www-authenticate`` header;
* ``/raise-before``, ``/raise-after``: raise before or after accepting;
* ``/subprotocols``: accept with the first offered subprotocol and send the
  offered list as JSON.

HTTP: ``GET /stats`` answers JSON with the process id, how many WebSocket
app calls started (``started``), how many are running (``running``), how
many bytes ``/push`` sent (``pushed``), and the disconnect codes the app saw.
``GET /release`` lets every ``/slow`` connection read again; other paths
answer ``ok``.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

STATS: dict[str, Any] = {'started': 0, 'running': 0, 'pushed': 0, 'disconnects': []}
RELEASE = asyncio.Event()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope['type'] == 'lifespan':
        while True:
            message = await receive()
            await send({'type': message['type'] + '.complete'})
            if message['type'] == 'lifespan.shutdown':
                return
    if scope['type'] == 'http':
        await _http(scope, receive, send)
        return
    STATS['started'] += 1
    STATS['running'] += 1
    try:
        await _websocket(scope, receive, send)
    finally:
        STATS['running'] -= 1


async def _http(scope: dict[str, Any], receive: Any, send: Any) -> None:
    while (await receive()).get('more_body'):
        pass
    if scope['path'] == '/stats':
        body = json.dumps({'pid': os.getpid(), **STATS}).encode()
    elif scope['path'] == '/release':
        RELEASE.set()
        body = b'released'
    else:
        body = b'ok'
    await send(
        {
            'type': 'http.response.start',
            'status': 200,
            'headers': [(b'content-type', b'application/json')],
        }
    )
    await send({'type': 'http.response.body', 'body': body})


async def _websocket(scope: dict[str, Any], receive: Any, send: Any) -> None:
    path = scope['path']
    assert (await receive())['type'] == 'websocket.connect'
    if path == '/reject':
        await send({'type': 'websocket.close'})
        return
    if path == '/deny':
        await send(
            {
                'type': 'websocket.http.response.start',
                'status': 401,
                'headers': [(b'www-authenticate', b'Bearer')],
            }
        )
        await send({'type': 'websocket.http.response.body', 'body': b'who?'})
        return
    if path == '/raise-before':
        raise RuntimeError('before accept')
    subprotocols = scope['subprotocols']
    await send(
        {
            'type': 'websocket.accept',
            'subprotocol': subprotocols[0] if path == '/subprotocols' else None,
        }
    )
    if path == '/raise-after':
        raise RuntimeError('after accept')
    if path == '/subprotocols':
        await send({'type': 'websocket.send', 'text': json.dumps(subprotocols)})
    elif path == '/close':
        await send({'type': 'websocket.close', 'code': 1000})
        return
    elif path == '/push':
        await _push(receive, send)
        return
    elif path == '/slow':
        await RELEASE.wait()
    while True:
        message = await receive()
        if message['type'] == 'websocket.disconnect':
            STATS['disconnects'].append(message['code'])
            return
        reply = {k: v for k, v in message.items() if k in ('text', 'bytes')}
        await send({'type': 'websocket.send', **reply})


async def _push(receive: Any, send: Any) -> None:
    chunk = b'x' * 1024

    async def watch() -> None:
        message = await receive()
        while message['type'] != 'websocket.disconnect':
            message = await receive()
        STATS['disconnects'].append(message['code'])

    watcher = asyncio.ensure_future(watch())
    try:
        while not watcher.done():
            await send({'type': 'websocket.send', 'bytes': chunk})
            STATS['pushed'] += len(chunk)
    except OSError:
        pass  # the client is gone: send() raised ClientDisconnected
    finally:
        await watcher
