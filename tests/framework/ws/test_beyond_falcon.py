"""The "Beyond Falcon" list: where Gyrfalcon's WebSocket facade goes further.

One class per item of the list in the framework layout (issue 3).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from ws_support import RawConnection, connect, denial, settle

import gyrfalcon as falcon

TEXT = falcon.WebSocketPayloadType.TEXT
BINARY = falcon.WebSocketPayloadType.BINARY


class TestDeny:
    """``ws.deny(status, headers=, body=)`` over ``websocket.http.response``."""

    @staticmethod
    def denying_app(app: Any) -> Any:
        class Deny:
            denied = False

            async def on_websocket(self, req: Any, ws: Any) -> None:
                await ws.deny(
                    401, headers={'WWW-Authenticate': 'Bearer'}, body=b'token required'
                )
                Deny.denied = True

        app.add_route('/', Deny())
        app.deny_resource = Deny
        return app

    async def test_denial_response(self, app: Any) -> None:
        exception = await denial(self.denying_app(app))
        ws = exception.ws
        assert ws.denial_status == 401
        headers = {(name.lower(), value) for name, value in ws.denial_headers}
        assert (b'www-authenticate', b'Bearer') in headers
        assert ws.denial_body == b'token required'
        assert exception.code == 3401

    async def test_events_sent(self, app: Any) -> None:
        raw = RawConnection(self.denying_app(app))
        await raw.run()
        types = raw.types()
        assert types[0] == 'websocket.http.response.start'
        assert set(types[1:]) == {'websocket.http.response.body'}
        assert raw.sent[0]['status'] == 401
        assert b''.join(e.get('body', b'') for e in raw.sent[1:]) == b'token required'
        assert raw.sent[-1].get('more_body', False) is False

    async def test_falls_back_to_403_without_extension(self, app: Any) -> None:
        # NOTE: A websocket.close before accept is what a server answers with
        #   HTTP 403 (ASGI spec); the close code itself is lost on the wire.
        exception = await denial(self.denying_app(app), extensions={})
        assert exception.ws.denial_status is None
        assert exception.code != 1011  # deny() returned; nothing failed
        assert app.deny_resource.denied
        raw = RawConnection(app, extensions={})
        await raw.run()
        assert raw.types() == ['websocket.close']

    async def test_not_after_accept(self, app: Any) -> None:
        raised = []

        class Late:
            async def on_websocket(self, req: Any, ws: Any) -> None:
                await ws.accept()
                try:
                    await ws.deny(403)
                except falcon.OperationNotAllowed as ex:
                    raised.append(ex)

        app.add_route('/', Late())
        async with connect(app):
            pass
        assert len(raised) == 1


class TestCloseCodeAndReason:
    """``ws.close_code`` / ``ws.close_reason`` after a disconnect (ASGI 2.5)."""

    async def test_after_client_disconnect(self, app: Any) -> None:
        seen = []

        class Watch:
            async def on_websocket(self, req: Any, ws: Any) -> None:
                await ws.accept()
                seen.append((ws.close_code, ws.close_reason))
                try:
                    await ws.receive_text()
                except falcon.WebSocketDisconnected:
                    seen.append((ws.close_code, ws.close_reason))

        app.add_route('/', Watch())
        async with connect(app, spec_version='2.5') as ws:
            await ws.close(4001, 'bye now')
        assert seen == [(None, None), (4001, 'bye now')]

    async def test_disconnect_without_code_is_1005(self, app: Any) -> None:
        seen = []

        class Watch:
            async def on_websocket(self, req: Any, ws: Any) -> None:
                await ws.accept()
                try:
                    await ws.receive_text()
                except falcon.WebSocketDisconnected as ex:
                    seen.append((ex.code, ws.close_code))

        app.add_route('/', Watch())
        raw = RawConnection(app)
        raw.push_disconnect(code=None)
        await raw.run()
        assert seen == [(1005, 1005)]


class TestDisconnectedReason:
    """``WebSocketDisconnected.reason``."""

    def test_attribute(self) -> None:
        assert falcon.WebSocketDisconnected(4000, 'why').reason == 'why'
        assert falcon.WebSocketDisconnected().reason == ''

    async def test_from_client(self, app: Any) -> None:
        reasons = []

        class Watch:
            async def on_websocket(self, req: Any, ws: Any) -> None:
                await ws.accept()
                try:
                    await ws.receive_text()
                except falcon.WebSocketDisconnected as ex:
                    reasons.append(ex.reason)

        app.add_route('/', Watch())
        async with connect(app, spec_version='2.5') as ws:
            await ws.close(1001, 'navigating away')
        assert reasons == ['navigating away']


class TestIteration:
    """``async for message in ws`` and ``iter_text/iter_data/iter_media()``."""

    async def run(self, app: Any, iterate: Any, send: Any) -> list[Any]:
        received: list[Any] = []

        class Iterates:
            async def on_websocket(self, req: Any, ws: Any) -> None:
                await ws.accept()
                async for message in iterate(ws):
                    received.append(message)
                received.append(('done', ws.close_code))

        app.add_route('/', Iterates())
        async with connect(app) as ws:
            await send(ws)
            await ws.close(4000)
        return received

    async def test_async_for(self, app: Any) -> None:
        async def send(ws: Any) -> None:
            await ws.send_text('t')
            await ws.send_data(b'b')

        received = await self.run(app, lambda ws: ws, send)
        assert received == ['t', b'b', ('done', 4000)]

    async def test_iter_text(self, app: Any) -> None:
        async def send(ws: Any) -> None:
            await ws.send_text('one')
            await ws.send_text('two')

        received = await self.run(app, lambda ws: ws.iter_text(), send)
        assert received == ['one', 'two', ('done', 4000)]

    async def test_iter_data(self, app: Any) -> None:
        async def send(ws: Any) -> None:
            await ws.send_data(b'\x01')

        received = await self.run(app, lambda ws: ws.iter_data(), send)
        assert received == [b'\x01', ('done', 4000)]

    async def test_iter_media(self, app: Any) -> None:
        async def send(ws: Any) -> None:
            await ws.send_json({'t': 1})
            await ws.send_msgpack({'b': 2})

        received = await self.run(app, lambda ws: ws.iter_media(), send)
        assert received == [{'t': 1}, {'b': 2}, ('done', 4000)]

    async def test_iter_text_rejects_binary(self, app: Any) -> None:
        raised = []

        class Iterates:
            async def on_websocket(self, req: Any, ws: Any) -> None:
                await ws.accept()
                try:
                    async for __ in ws.iter_text():
                        pass
                except falcon.PayloadTypeError as ex:
                    raised.append(ex)

        app.add_route('/', Iterates())
        async with connect(app) as ws:
            await ws.send_data(b'binary')
            await settle()
        assert len(raised) == 1


class TestConcurrency:
    """Concurrent ``receive_*`` raise ``OperationNotAllowed``; sends are serialised."""

    @pytest.mark.parametrize('max_queue', [4, 0])
    async def test_concurrent_receive(self, app: Any, max_queue: int) -> None:
        raised = []

        class Two:
            async def on_websocket(self, req: Any, ws: Any) -> None:
                await ws.accept()
                first = asyncio.ensure_future(ws.receive_text())
                await settle()
                try:
                    await ws.receive_data()
                except falcon.OperationNotAllowed as ex:
                    raised.append(ex)
                assert await first == 'still works'

        app.ws_options.max_receive_queue = max_queue
        app.add_route('/', Two())
        async with connect(app) as ws:
            await settle()
            await ws.send_text('still works')
            await settle()
        assert len(raised) == 1

    async def test_sends_do_not_interleave(self, app: Any) -> None:
        active = []
        overlaps = []

        async def slow_send(event: dict[str, Any]) -> None:
            if event['type'] == 'websocket.send':
                if active:
                    overlaps.append(event)
                active.append(event)
                await settle(3)
                active.remove(event)

        class Many:
            async def on_websocket(self, req: Any, ws: Any) -> None:
                await ws.accept()
                await asyncio.gather(
                    *(ws.send_text(str(i)) for i in range(5)),
                    *(ws.send_data(bytes([i])) for i in range(5)),
                )

        app.add_route('/', Many())
        raw = RawConnection(app)
        raw.send_hook = slow_send
        await raw.run()
        assert overlaps == []
        assert len([e for e in raw.sent if e['type'] == 'websocket.send']) == 10


class TestCloseValidation:
    """Close codes 1000-4999 minus reserved ones; reasons up to 123 UTF-8 bytes."""

    @pytest.mark.parametrize(
        'code', [999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 10000]
    )
    async def test_rejected_codes(self, app: Any, code: int) -> None:
        raised = []

        class Closes:
            async def on_websocket(self, req: Any, ws: Any) -> None:
                await ws.accept()
                try:
                    await ws.close(code)
                except ValueError as ex:
                    raised.append(ex)

        app.add_route('/', Closes())
        async with connect(app) as ws:
            await settle()
            assert ws.close_code == 1000  # the automatic close after the error
        assert len(raised) == 1

    @pytest.mark.parametrize(
        ('reason', 'ok'),
        [('a' * 123, True), ('a' * 124, False), ('é' * 61, True), ('é' * 62, False)],
    )
    async def test_reason_length(self, app: Any, reason: str, ok: bool) -> None:
        raised = []

        class Closes:
            async def on_websocket(self, req: Any, ws: Any) -> None:
                await ws.accept()
                try:
                    await ws.close(4000, reason)
                except ValueError as ex:
                    raised.append(ex)

        app.add_route('/', Closes())
        async with connect(app, spec_version='2.3') as ws:
            await settle()
            expected = (4000, reason) if ok else (1000, 'Normal Closure')
            assert (ws.close_code, ws.close_reason) == expected
        assert len(raised) == (0 if ok else 1)


@pytest.mark.parametrize('path', ['/missing', '/http-only'])
async def test_routine_404_405_logged_at_info(
    app: Any, logs: pytest.LogCaptureFixture, path: str
) -> None:
    """Routine 404/405 handshakes are logged at INFO, not ERROR."""

    class HttpOnly:
        async def on_get(self, req: Any, resp: Any) -> None:
            pass

    app.add_route('/http-only', HttpOnly())
    await denial(app, path)
    assert any(r.levelno == logging.INFO for r in logs.records)
    assert not [r for r in logs.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize('payload_type', ['BINARY', 2, None, 'text'])
async def test_send_media_rejects_other_payload_types(
    app: Any, payload_type: Any
) -> None:
    """``send_media(payload_type=<not a WebSocketPayloadType>)`` raises."""
    raised = []

    class Sends:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            try:
                await ws.send_media({'a': 1}, payload_type=payload_type)
            except (TypeError, ValueError) as ex:
                raised.append(ex)

    app.add_route('/', Sends())
    raw = RawConnection(app)
    await raw.run()
    assert len(raised) == 1
    assert [e for e in raw.sent if e['type'] == 'websocket.send'] == []


class TestJsonMedia:
    """JSON media: orjson when installed, stdlib for what orjson cannot do."""

    @pytest.mark.parametrize(
        'media',
        [
            {'a': [1, 2.5, None, True, False, 'é', '\u2028', '"\\']},
            [2**63 - 1, -(2**63)],
            {'big': 2**64, 'bigger': -(2**100)},
            [],
            'plain',
        ],
    )
    async def test_round_trip(self, app: Any, media: Any) -> None:
        class Echo:
            async def on_websocket(self, req: Any, ws: Any) -> None:
                await ws.accept()
                await ws.send_media(await ws.receive_media())

        app.add_route('/', Echo())
        async with connect(app) as ws:
            await ws.send_text(json.dumps(media))
            text = await ws.receive_text()
        assert json.loads(text) == media

    def test_handler_is_the_falcon_class(self, app: Any) -> None:
        handler = app.ws_options.media_handlers[TEXT]
        assert type(handler) is falcon.media.JSONHandlerWS
        assert handler.deserialize(handler.serialize({'n': 2**70})) == {'n': 2**70}
        assert 'é' in handler.serialize('é')
