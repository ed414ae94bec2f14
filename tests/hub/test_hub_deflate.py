"""permessage-deflate subscribers: compressed once per window, on real sockets.

NOTE(gyrfalcon): The protocol class does not negotiate permessage-deflate
    yet (another change turns it on); these tests build the engine with
    ``compression=True`` through ``engine_class``, so the real engine
    negotiates in the real handshake and the hub sees what it will see then.
"""

from __future__ import annotations

import functools
import zlib
from typing import Any

import pytest
from hub_peers import hub_app
from websockets.asyncio.client import connect
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from ws_peers import Peers, serve

from gyrfalcon.hub import _hub
from gyrfalcon.protocol import ServerConnection
from gyrfalcon.server.uvicorn import WebSocketProtocol

pytestmark = pytest.mark.network


class DeflateProtocol(WebSocketProtocol):
    """Our class, with an engine that accepts permessage-deflate offers."""

    engine_class = functools.partial(  # type: ignore[assignment]
        ServerConnection, compression=True, deflate_window_bits=12
    )


def offer(window: int | None, takeover: bool) -> ClientPerMessageDeflateFactory:
    return ClientPerMessageDeflateFactory(
        server_no_context_takeover=not takeover,
        server_max_window_bits=window,
    )


async def test_compressed_once_per_window_and_per_takeover_peer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prepared: list[tuple[str, int | None]] = []
    real = _hub.prepare_frame

    def counting(data: Any, **kwargs: Any) -> bytes:
        prepared.append((data[:4], kwargs.get('deflate_window_bits')))
        return real(data, **kwargs)

    monkeypatch.setattr(_hub, 'prepare_frame', counting)
    served, app, subscriber = hub_app('fast')
    peers = Peers()
    async with serve(served, DeflateProtocol) as server:
        url = f'{server.url}/sub/t'
        offers = {
            'w10 a': [offer(10, takeover=False)],
            'w10 b': [offer(10, takeover=False)],
            'w12': [offer(None, takeover=False)],  # the server's 12 bits
            'takeover': [offer(None, takeover=True)],
            'plain': None,
        }
        clients = {}
        for name, extensions in offers.items():
            if extensions is None:
                clients[name] = await connect(url, compression=None)
            else:
                clients[name] = await connect(
                    url, compression=None, extensions=extensions
                )
            assert await clients[name].recv() == 'subscribed'
        # A raw peer shows the bytes on the wire: RSV1 and a 10-bit stream.
        raw = await peers.connect(
            server.port,
            '/sub/t',
            [
                (
                    'Sec-WebSocket-Extensions',
                    'permessage-deflate; server_no_context_takeover; '
                    'server_max_window_bits=10',
                )
            ],
        )
        assert raw.response is not None
        assert 'server_no_context_takeover' in (
            raw.response.get('sec-websocket-extensions') or ''
        )
        assert await raw.recv_message() == 'subscribed'
        deflates = [s.ws._channel.deflate for s in subscriber.subscriptions]
        assert [d and d.server_no_context_takeover for d in deflates] == [
            True, True, True, False, None, True
        ]  # fmt: skip

        messages = [f'{i:04d} ' + 'tick ' * 60 for i in range(3)]  # 305 chars
        for text in messages:
            assert await app.hub.publish('t', text) == 6
        short = 'short, sent uncompressed to everyone'
        await app.hub.publish('t', short)

        for name, client in clients.items():
            for text in [*messages, short]:
                assert await client.recv() == text, name
        for text in messages:
            frame = await raw.recv_frame()
            assert frame.rsv == 4 and frame.fin  # RSV1: compressed
            inflate = zlib.decompressobj(-10)
            assert inflate.decompress(frame.payload + b'\x00\x00\xff\xff') == (
                text.encode()
            )
        frame = await raw.recv_frame()
        assert (frame.rsv, frame.payload) == (0, short.encode())

        # Per message: one 10-bit frame for three peers, one 12-bit frame,
        # one plain frame; the takeover peer compressed with its own
        # context. The short message: one plain frame for all.
        for i in ('0000', '0001', '0002'):
            assert sorted((p for p in prepared if p[0] == i), key=str) == sorted(
                [(i, 10), (i, 12), (i, None)], key=str
            )
        assert [p for p in prepared if p[0] == 'shor'] == [('shor', None)]
        assert len(prepared) == 10
        for client in clients.values():
            await client.close()
        await peers.aclose()
