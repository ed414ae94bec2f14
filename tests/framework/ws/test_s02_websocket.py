"""Inventory §2: ``falcon.asgi.WebSocket``, one test (or class) per row.

Where the "Beyond Falcon" list changes a row (close-code validation, 1005 for
a disconnect without a code, concurrent receives), the test asserts
Gyrfalcon's behaviour and says so.
"""

from __future__ import annotations

from typing import Any

import pytest
from ws_support import RawConnection, connect, denial, settle

import gyrfalcon as falcon

TEXT = falcon.WebSocketPayloadType.TEXT
BINARY = falcon.WebSocketPayloadType.BINARY


class Probe:
    """A responder that runs ``self.script(ws)`` and records what it raises."""

    def __init__(self, script: Any) -> None:
        self.script = script
        self.raised: list[BaseException] = []
        self.results: list[Any] = []

    async def on_websocket(self, req: Any, ws: Any) -> None:
        try:
            self.results.append(await self.script(ws))
        except Exception as ex:
            self.raised.append(ex)


async def run_probe(app: Any, script: Any, **kwargs: Any) -> Probe:
    """Run `script` in a responder behind the simulator; return the probe."""
    probe = Probe(script)
    app.add_route('/', probe)
    try:
        async with connect(app, **kwargs) as ws:
            await settle()
            probe.client = ws  # type: ignore[attr-defined]
    except falcon.WebSocketDisconnected:
        pass
    return probe


class TestInit:
    async def test_media_handlers_bound_at_connection(self, app: Any) -> None:
        """§2 ``__init__``: changing handlers affects new connections only."""

        class Shout(falcon.media.TextBaseHandlerWS):
            def serialize(self, media: object) -> str:
                return 'SHOUT'

            def deserialize(self, payload: str) -> object:
                return payload

        class Sends:
            async def on_websocket(self, req: Any, ws: Any) -> None:
                await ws.accept()
                await ws.receive_text()
                await ws.send_media({'a': 1})

        app.add_route('/', Sends())
        async with connect(app) as first:
            app.ws_options.media_handlers[TEXT] = Shout()
            await first.send_text('go')
            assert await first.receive_json() == {'a': 1}
        async with connect(app) as second:
            await second.send_text('go')
            assert await second.receive_text() == 'SHOUT'

    @pytest.mark.parametrize('missing', [TEXT, BINARY])
    async def test_missing_handler_key_is_a_key_error(
        self, app: Any, missing: Any
    ) -> None:
        """§2 ``__init__``: a missing TEXT or BINARY handler raises ``KeyError``."""

        class Responder:
            async def on_websocket(self, req: Any, ws: Any) -> None:
                await ws.accept()

        app.add_route('/', Responder())
        del app.ws_options.media_handlers[missing]
        with pytest.raises(KeyError):
            await RawConnection(app).run()


async def test_state_machine_handshake_to_closed(app: Any) -> None:
    """§2 state machine: HANDSHAKE goes straight to CLOSED on a denial."""

    async def script(ws: Any) -> Any:
        await ws.close()
        return (ws.unaccepted, ws.ready, ws.closed)

    probe = await run_probe(app, script)
    assert probe.results == [(False, False, True)]


@pytest.mark.parametrize(
    ('offered', 'expected'), [(None, ()), (['a'], ('a',)), (['y', 'x'], ('y', 'x'))]
)
async def test_subprotocols(
    app: Any, offered: list[str] | None, expected: tuple
) -> None:
    """§2 ``subprotocols``: a tuple from the scope, in order; ``()`` if absent."""

    async def script(ws: Any) -> Any:
        return ws.subprotocols

    probe = await run_probe(app, script, subprotocols=offered)
    assert probe.results == [expected]
    assert type(probe.results[0]) is tuple


async def test_unaccepted_false_after_close(app: Any) -> None:
    """§2 ``unaccepted``: becomes False after ``close()``, even unaccepted."""

    async def script(ws: Any) -> Any:
        before = ws.unaccepted
        await ws.close()
        return (before, ws.unaccepted)

    probe = await run_probe(app, script)
    assert probe.results == [(True, False)]


class Watch:
    """Accepts, then records (ready, closed) until the client has left."""

    def __init__(self) -> None:
        self.flags: list[tuple[bool, bool]] = []

    async def on_websocket(self, req: Any, ws: Any) -> None:
        await ws.accept()
        self.flags.append((ws.ready, ws.closed))
        await ws.send_text('go')
        for __ in range(100):
            if ws.closed:
                break
            await settle(1)
        self.flags.append((ws.ready, ws.closed))


async def run_watch(app: Any) -> list[tuple[bool, bool]]:
    app.add_route('/', watch := Watch())
    async with connect(app) as ws:
        assert await ws.receive_text() == 'go'
        await ws.close()
        await settle()
    return watch.flags


async def test_closed_follows_client_disconnect(app: Any) -> None:
    """§2 ``closed``: true once the pump has seen the client disconnect."""
    flags = await run_watch(app)
    assert [closed for __, closed in flags] == [False, True]


async def test_ready_follows_client_disconnect(app: Any) -> None:
    """§2 ``ready``: false once the pump has seen the client disconnect."""
    flags = await run_watch(app)
    assert [ready for ready, __ in flags] == [True, False]


@pytest.mark.parametrize(
    ('spec', 'expected'), [('2.0', False), ('2.1', True), ('2.5', True)]
)
async def test_supports_accept_headers(app: Any, spec: str, expected: bool) -> None:
    """§2 ``supports_accept_headers``: true from ASGI spec 2.1."""

    async def script(ws: Any) -> Any:
        return ws.supports_accept_headers

    probe = await run_probe(app, script, spec_version=spec)
    assert probe.results == [expected]


class TestAccept:
    """§2 ``accept``: points (1) to (5) of the row."""

    async def test_on_closed_connection(self, app: Any) -> None:
        async def script(ws: Any) -> Any:
            await ws.close()
            await ws.accept()

        probe = await run_probe(app, script)
        assert type(probe.raised[0]) is falcon.OperationNotAllowed

    async def test_only_once(self, app: Any) -> None:
        async def script(ws: Any) -> Any:
            await ws.accept()
            await ws.accept()

        probe = await run_probe(app, script)
        assert type(probe.raised[0]) is falcon.OperationNotAllowed
        assert probe.client.ready is False  # type: ignore[attr-defined]

    async def test_subprotocol_must_be_str(self, app: Any) -> None:
        async def script(ws: Any) -> Any:
            await ws.accept(subprotocol=b'wamp')

        probe = await run_probe(app, script, subprotocols=['wamp'])
        assert isinstance(probe.raised[0], ValueError)

    async def test_subprotocol_not_checked_against_offer(self, app: Any) -> None:
        async def script(ws: Any) -> Any:
            await ws.accept(subprotocol='unoffered')
            await ws.receive_text()

        app.add_route('/', Probe(script))
        async with connect(app, subprotocols=['a']) as ws:
            assert ws.subprotocol == 'unoffered'

    @pytest.mark.parametrize(
        'headers',
        [
            {'X-One': '1', 'x-two': '2'},
            [('X-One', '1'), ('x-two', '2')],
            (('X-One', '1'), ('x-two', '2')),
        ],
    )
    async def test_headers_mapping_or_pairs(self, app: Any, headers: Any) -> None:
        async def script(ws: Any) -> Any:
            await ws.accept(headers=headers)
            await ws.receive_text()

        app.add_route('/', Probe(script))
        async with connect(app) as ws:
            assert ws.headers == [(b'x-one', b'1'), (b'x-two', b'2')]

    async def test_headers_on_spec_2_0(self, app: Any) -> None:
        async def script(ws: Any) -> Any:
            await ws.accept(headers={'X-A': 'b'})

        probe = await run_probe(app, script, spec_version='2.0')
        assert type(probe.raised[0]) is falcon.OperationNotAllowed

    @pytest.mark.parametrize(
        'headers', [{'X-Ünï': 'v'}, {'X-A': 'välue'}, {'Sec-WebSocket-Protocol': 'x'}]
    )
    async def test_invalid_headers(self, app: Any, headers: dict[str, str]) -> None:
        async def script(ws: Any) -> Any:
            await ws.accept(headers=headers)

        probe = await run_probe(app, script)
        assert isinstance(probe.raised[0], ValueError)

    async def test_accept_sends_event_then_starts_pump(self, app: Any) -> None:
        async def script(ws: Any) -> Any:
            await ws.accept(subprotocol='p', headers={'A': 'b'})
            await settle()

        app.add_route('/', Probe(script))
        raw = RawConnection(app)
        await raw.run()
        accept = raw.sent[0]
        assert accept['type'] == 'websocket.accept'
        assert accept['subprotocol'] == 'p'
        assert [tuple(h) for h in accept['headers']] == [(b'a', b'b')]
        # NOTE: connect, then at least one receive by the pump.
        assert raw.receive_calls >= 2


class TestClose:
    """§2 ``close``: defaults, validation, reasons, before accept."""

    async def test_default_code_1000(self, app: Any) -> None:
        async def script(ws: Any) -> Any:
            await ws.accept()
            await ws.close()

        app.add_route('/', Probe(script))
        raw = RawConnection(app)
        await raw.run()
        assert [event['code'] for event in raw.closes()] == [1000]

    @pytest.mark.parametrize('code', ['1000', 1000.0, b'1000'])
    async def test_code_must_be_int(self, app: Any, code: Any) -> None:
        async def script(ws: Any) -> Any:
            await ws.accept()
            await ws.close(code)

        probe = await run_probe(app, script)
        assert isinstance(probe.raised[0], ValueError)

    @pytest.mark.parametrize(
        'code',
        [0, 999, 1004, 1005, 1006, 1015, 1016, 1999, 2000, 2999, 5000, 65535],
    )
    async def test_invalid_codes(self, app: Any, code: int) -> None:
        """Falcon rejects < 1000, 1004-1006 and 1015-1999; Gyrfalcon also
        rejects 2000-2999 and >= 5000 ("Beyond Falcon")."""

        async def script(ws: Any) -> Any:
            await ws.accept()
            await ws.close(code)

        probe = await run_probe(app, script)
        assert isinstance(probe.raised[0], ValueError)

    @pytest.mark.parametrize(
        'code', [1000, 1001, 1003, 1007, 1014, 3000, 3999, 4000, 4999]
    )
    async def test_valid_codes(self, app: Any, code: int) -> None:
        async def script(ws: Any) -> Any:
            await ws.accept()
            await ws.close(code)

        app.add_route('/', Probe(script))
        async with connect(app) as ws:
            await settle()
            assert ws.close_code == code

    async def test_validation_before_closed_check(self, app: Any) -> None:
        async def script(ws: Any) -> Any:
            await ws.accept()
            await ws.close()
            await ws.close(4000)  # silently ignored
            await ws.close(1005)

        probe = await run_probe(app, script)
        assert isinstance(probe.raised[0], ValueError)
        assert probe.client.close_code == 1000  # type: ignore[attr-defined]

    @pytest.mark.parametrize(
        ('code', 'reason', 'expected'),
        [
            (1000, None, 'Normal Closure'),
            (3404, None, 'Not Found'),
            (4000, None, ''),
            (4000, 'custom', 'custom'),
            (1000, '', 'Normal Closure'),
        ],
    )
    async def test_reason_defaults(
        self, app: Any, code: int, reason: str | None, expected: str
    ) -> None:
        async def script(ws: Any) -> Any:
            await ws.accept()
            await ws.close(code, reason)

        app.add_route('/', Probe(script))
        async with connect(app, spec_version='2.3') as ws:
            await settle()
            assert (ws.close_code, ws.close_reason) == (code, expected)

    async def test_reason_only_sent_from_spec_2_3(self, app: Any) -> None:
        async def script(ws: Any) -> Any:
            await ws.accept()
            await ws.close(4000, 'why')

        app.add_route('/', Probe(script))
        for spec, expected in (('2.2', None), ('2.3', 'why')):
            raw = RawConnection(app, spec_version=spec)
            await raw.run()
            assert raw.closes()[0].get('reason') == expected

    async def test_before_accept_is_a_denial(self, app: Any) -> None:
        async def script(ws: Any) -> Any:
            await ws.close(3401, 'who are you')

        app.add_route('/', Probe(script))
        exception = await denial(app, spec_version='2.3')
        assert exception.code == 3401
        assert exception.ws.close_reason == 'who are you'


class TestSendMedia:
    """§2 ``send_media``."""

    async def test_requires_accepted(self, app: Any) -> None:
        async def script(ws: Any) -> Any:
            await ws.send_media({'a': 1})

        probe = await run_probe(app, script)
        assert type(probe.raised[0]) is falcon.OperationNotAllowed

    async def test_text_and_binary(self, app: Any) -> None:
        async def script(ws: Any) -> Any:
            await ws.accept()
            await ws.send_media({'t': 1})
            await ws.send_media({'t': 2}, payload_type=TEXT)
            await ws.send_media({'b': 3}, BINARY)
            await ws.receive_text()

        app.add_route('/', Probe(script))
        async with connect(app) as ws:
            assert await ws.receive_json() == {'t': 1}
            assert await ws.receive_json() == {'t': 2}
            assert await ws.receive_msgpack() == {'b': 3}

    async def test_invalid_payload_type_raises(self, app: Any) -> None:
        """Falcon silently sends BINARY; Gyrfalcon raises ("Beyond Falcon")."""

        async def script(ws: Any) -> Any:
            await ws.accept()
            await ws.send_media({'a': 1}, payload_type='binary')

        probe = await run_probe(app, script)
        assert isinstance(probe.raised[0], (TypeError, ValueError))

    async def test_serializer_errors_propagate(self, app: Any) -> None:
        async def script(ws: Any) -> Any:
            await ws.accept()
            await ws.send_media({'not': {1, 2}})

        probe = await run_probe(app, script)
        assert isinstance(probe.raised[0], TypeError)


class TestSendText:
    """§2 ``send_text``."""

    async def test_requires_str(self, app: Any) -> None:
        async def script(ws: Any) -> Any:
            await ws.accept()
            await ws.send_text(b'bytes')

        probe = await run_probe(app, script)
        assert type(probe.raised[0]) is TypeError

    async def test_requires_accepted(self, app: Any) -> None:
        async def script(ws: Any) -> Any:
            await ws.send_text('early')

        probe = await run_probe(app, script)
        assert type(probe.raised[0]) is falcon.OperationNotAllowed


class TestSendData:
    """§2 ``send_data``."""

    @pytest.mark.parametrize('payload', ['text', 1, [1]])
    async def test_requires_bytes_like(self, app: Any, payload: Any) -> None:
        async def script(ws: Any) -> Any:
            await ws.accept()
            await ws.send_data(payload)

        probe = await run_probe(app, script)
        assert type(probe.raised[0]) is TypeError

    async def test_payload_is_copied_to_bytes(self, app: Any) -> None:
        buffer = bytearray(b'abc')

        async def script(ws: Any) -> Any:
            await ws.accept()
            await ws.send_data(buffer)
            buffer[0] = ord('z')
            await ws.send_data(memoryview(buffer)[1:])

        app.add_route('/', Probe(script))
        raw = RawConnection(app)
        await raw.run()
        sent = [
            event['bytes'] for event in raw.sent if event['type'] == 'websocket.send'
        ]
        assert sent == [b'abc', b'bc']
        assert all(type(payload) is bytes for payload in sent)


class TestReceive:
    """§2 ``receive_text``, ``receive_data`` and ``receive_media``."""

    async def test_receive_text_wrong_type(self, app: Any) -> None:
        async def script(ws: Any) -> Any:
            await ws.accept()
            return await ws.receive_text()

        app.add_route('/', probe := Probe(script))
        async with connect(app) as ws:
            await ws.send_data(b'x')
            await settle()
        assert type(probe.raised[0]) is falcon.PayloadTypeError
        assert 'TEXT' in str(probe.raised[0])

    async def test_receive_data_wrong_type(self, app: Any) -> None:
        async def script(ws: Any) -> Any:
            await ws.accept()
            return await ws.receive_data()

        app.add_route('/', probe := Probe(script))
        async with connect(app) as ws:
            await ws.send_text('x')
            await settle()
        assert type(probe.raised[0]) is falcon.PayloadTypeError
        assert 'BINARY' in str(probe.raised[0])

    async def test_receive_disconnect(self, app: Any) -> None:
        async def script(ws: Any) -> Any:
            await ws.accept()
            return await ws.receive_text()

        app.add_route('/', probe := Probe(script))
        async with connect(app) as ws:
            await ws.close(4002)
        assert type(probe.raised[0]) is falcon.WebSocketDisconnected
        assert probe.raised[0].code == 4002

    async def test_receive_media_by_frame_type(self, app: Any) -> None:
        async def script(ws: Any) -> Any:
            await ws.accept()
            return [await ws.receive_media(), await ws.receive_media()]

        app.add_route('/', probe := Probe(script))
        async with connect(app) as ws:
            await ws.send_json({'t': 'é'})
            await ws.send_msgpack({'b': [1, b'\x00']})
            await settle()
        assert probe.results == [[{'t': 'é'}, {'b': [1, b'\x00']}]]

    async def test_receive_media_neither_payload(self, app: Any) -> None:
        async def script(ws: Any) -> Any:
            await ws.accept()
            return await ws.receive_media()

        app.add_route('/', probe := Probe(script))
        raw = RawConnection(app)
        raw.push({'type': 'websocket.receive', 'text': None, 'bytes': None})
        raw.push_disconnect()
        await raw.run()
        assert type(probe.raised[0]) is falcon.PayloadTypeError

    @pytest.mark.parametrize(
        ('send', 'error'),
        [('send_text', ValueError), ('send_data', ValueError)],
    )
    async def test_deserializer_errors_propagate(
        self, app: Any, send: str, error: type
    ) -> None:
        async def script(ws: Any) -> Any:
            await ws.accept()
            return await ws.receive_media()

        app.add_route('/', probe := Probe(script))
        async with connect(app) as ws:
            await getattr(ws, send)('{not json' if send == 'send_text' else b'\xc1')
            await settle()
        assert isinstance(probe.raised[0], error)

    async def test_json_decode_error_is_json_decode_error(self, app: Any) -> None:
        import json

        async def script(ws: Any) -> Any:
            await ws.accept()
            return await ws.receive_media()

        app.add_route('/', probe := Probe(script))
        async with connect(app) as ws:
            await ws.send_text('{')
            await settle()
        assert isinstance(probe.raised[0], json.JSONDecodeError)


class TestRequireAccepted:
    """§2 ``_require_accepted``: before accept and after close."""

    @pytest.mark.parametrize(
        'call',
        ['receive_text', 'receive_data', 'receive_media', 'send_text', 'send_data'],
    )
    async def test_before_accept(self, app: Any, call: str) -> None:
        args = {'send_text': ('x',), 'send_data': (b'x',)}.get(call, ())

        async def script(ws: Any) -> Any:
            await getattr(ws, call)(*args)

        probe = await run_probe(app, script)
        assert type(probe.raised[0]) is falcon.OperationNotAllowed

    async def test_after_close(self, app: Any) -> None:
        async def script(ws: Any) -> Any:
            await ws.accept()
            await ws.close(4005)
            await ws.send_text('late')

        probe = await run_probe(app, script)
        assert type(probe.raised[0]) is falcon.WebSocketDisconnected
        assert probe.raised[0].code == 4005


class TestSendInternals:
    """§2 ``_send``: disconnects seen by the pump, server errors on send."""

    async def test_send_after_pump_saw_disconnect(self, app: Any) -> None:
        async def script(ws: Any) -> Any:
            await ws.accept()
            for __ in range(100):
                if ws.closed:
                    break
                await settle(1)
            await ws.send_text('late')

        app.add_route('/', probe := Probe(script))
        raw = RawConnection(app)
        raw.push_disconnect(4444)
        await raw.run()
        assert type(probe.raised[0]) is falcon.WebSocketDisconnected
        assert probe.raised[0].code == 4444
        assert [e for e in raw.sent if e['type'] == 'websocket.send'] == []

    async def test_other_send_errors_are_reraised(self, app: Any) -> None:
        async def script(ws: Any) -> Any:
            await ws.accept()
            await ws.send_text('x')

        async def fail(event: dict[str, Any]) -> None:
            if event['type'] == 'websocket.send':
                raise LookupError('not an OSError')

        app.add_route('/', probe := Probe(script))
        raw = RawConnection(app)
        raw.send_hook = fail
        await raw.run()
        assert type(probe.raised[0]) is LookupError


class TestReceiveInternals:
    """§2 ``_receive``: disconnect codes, repeated receives."""

    async def test_disconnect_without_code_is_1005(self, app: Any) -> None:
        """Falcon says 1000; ASGI (and Gyrfalcon, "Beyond Falcon") say 1005."""

        async def script(ws: Any) -> Any:
            await ws.accept()
            await ws.receive_text()

        app.add_route('/', probe := Probe(script))
        raw = RawConnection(app)
        raw.push_disconnect(code=None)
        await raw.run()
        assert probe.raised[0].code == 1005

    async def test_repeat_receive_raises_again(self, app: Any) -> None:
        codes = []

        async def script(ws: Any) -> Any:
            await ws.accept()
            for __ in range(3):
                try:
                    await ws.receive_text()
                except falcon.WebSocketDisconnected as ex:
                    codes.append(ex.code)

        app.add_route('/', Probe(script))
        raw = RawConnection(app)
        raw.push_disconnect(4010)
        await raw.run()
        assert codes == [4010, 4010, 4010]


class TestTranslateWebServerError:
    """§2 ``_translate_webserver_error``: what servers raise from ``send()``."""

    @staticmethod
    async def run_with_send_error(app: Any, error: BaseException) -> Probe:
        async def script(ws: Any) -> Any:
            await ws.accept(subprotocol='p')
            await ws.send_text('x')

        async def fail(event: dict[str, Any]) -> None:
            if event['type'] == 'websocket.send':
                raise error

        app.add_route('/', probe := Probe(script))
        app.ws_options.max_receive_queue = 0
        raw = RawConnection(app)
        raw.send_hook = fail
        await raw.run()
        return probe

    async def test_websockets_ok_close(self, app: Any) -> None:
        probe = await self.run_with_send_error(
            app,
            RuntimeError('sent 1000 (OK); then received 1000 (OK): code = 1000 (OK)'),
        )
        assert type(probe.raised[0]) is falcon.WebSocketDisconnected
        assert probe.raised[0].code == 1000

    async def test_subprotocol_from_the_list(self, app: Any) -> None:
        probe = await self.run_with_send_error(
            app, RuntimeError('protocol accepted must be from the list')
        )
        assert type(probe.raised[0]) is ValueError
        assert 'subprotocol' in str(probe.raised[0])

    async def test_oserror_with_code_in_cause(self, app: Any) -> None:
        error = OSError('gone')
        error.__cause__ = RuntimeError('received 1001 (going away)')
        probe = await self.run_with_send_error(app, error)
        assert type(probe.raised[0]) is falcon.WebSocketDisconnected
        assert probe.raised[0].code == 1001

    async def test_plain_oserror(self, app: Any) -> None:
        """Falcon reports 1000; no code was received, so Gyrfalcon says 1005."""
        probe = await self.run_with_send_error(app, ConnectionResetError('reset'))
        assert type(probe.raised[0]) is falcon.WebSocketDisconnected
        assert probe.raised[0].code == 1005


async def test_missing_members_are_provided(app: Any) -> None:
    """§2 Missing members: Gyrfalcon adds close_code/close_reason and iteration."""

    async def script(ws: Any) -> Any:
        await ws.accept()
        return [
            hasattr(ws, name)
            for name in (
                'close_code',
                'close_reason',
                '__aiter__',
                'iter_text',
                'iter_data',
                'iter_media',
                'deny',
            )
        ]

    probe = await run_probe(app, script)
    assert probe.results == [[True] * 7]


async def test_no_instance_dict(app: Any) -> None:
    """§2 header: ``WebSocket`` uses ``__slots__``; use ``req.context`` instead."""

    async def script(ws: Any) -> Any:
        ws.custom = 1

    probe = await run_probe(app, script)
    assert type(probe.raised[0]) is AttributeError


class TestConcurrency:
    """§2 Concurrency: Falcon asserts; Gyrfalcon raises and serialises sends."""

    async def test_concurrent_receives_raise(self, app: Any) -> None:
        import asyncio

        async def script(ws: Any) -> Any:
            await ws.accept()
            first = asyncio.ensure_future(ws.receive_text())
            await settle()
            try:
                await ws.receive_text()
            finally:
                await ws.close()
                first.cancel()
                await asyncio.gather(first, return_exceptions=True)

        probe = await run_probe(app, script)
        assert type(probe.raised[0]) is falcon.OperationNotAllowed

    async def test_concurrent_sends_are_serialised(self, app: Any) -> None:
        import asyncio

        trace: list[str] = []

        async def slow(event: dict[str, Any]) -> None:
            if event['type'] == 'websocket.send':
                trace.append('start ' + event['text'])
                await settle(3)
                trace.append('end ' + event['text'])

        async def script(ws: Any) -> Any:
            await ws.accept()
            await asyncio.gather(*(ws.send_text(str(i)) for i in range(3)))

        app.add_route('/', Probe(script))
        raw = RawConnection(app)
        raw.send_hook = slow
        await raw.run()
        assert len(trace) == 6
        for i in range(0, 6, 2):
            assert trace[i].split()[1] == trace[i + 1].split()[1]
            assert trace[i].startswith('start') and trace[i + 1].startswith('end')
