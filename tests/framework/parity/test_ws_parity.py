"""WebSocket scenarios, identical on Falcon 4.4 and Gyrfalcon.

Each scenario is an app builder and a conversation, both written against a
``Framework``; the conversation runs through each framework's own simulator
(``fw.testing.ASGIConductor.simulate_ws``) and the transcripts (messages,
errors, close codes and reasons, denials) must be equal.

Conversations are lock-step (the client reads each reply before it sends
the next message), so the simulators' one known difference, Falcon's
dropping messages the app sent just before it closed, does not show.
Behaviours that differ on purpose ("Beyond Falcon": a disconnect without a
code, close-code validation, iteration...) are tested in ``tests/framework/ws``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from parity_support import Framework, Transcript, receive, run_ws


def echo_app(fw: Framework) -> Any:
    class Echo:
        async def on_websocket(self, req: Any, ws: Any, room: str) -> None:
            if room == 'private':
                await ws.close(4003)
                return
            if room == 'teapot':
                raise fw.falcon.HTTPStatus(fw.falcon.HTTP_418)
            if room == 'forbidden':
                raise fw.falcon.HTTPForbidden()
            offered = ws.subprotocols
            await ws.accept(
                subprotocol=offered[-1] if offered else None,
                headers={'X-Room': room},
            )
            await ws.send_media({'welcome': room, 'params': dict(req.params)})
            while True:
                try:
                    message = await ws.receive_media()
                except fw.falcon.WebSocketDisconnected:
                    return
                except fw.falcon.PayloadTypeError:
                    await ws.send_text('no media here')
                    continue
                action = message.get('action') if isinstance(message, dict) else None
                if action == 'close':
                    await ws.close(message.get('code', 1000), message.get('reason'))
                    return
                if action == 'fail':
                    raise RuntimeError('asked to fail')
                if action == 'http':
                    raise fw.falcon.HTTPBadRequest(title='asked for it')
                if action == 'binary':
                    await ws.send_media(message, fw.falcon.WebSocketPayloadType.BINARY)
                    continue
                if action == 'text':
                    await ws.send_text(message['text'])
                    continue
                if action == 'data':
                    await ws.send_data(message['text'].encode())
                    continue
                await ws.send_media({'echo': message})

    app = fw.asgi.App()
    app.add_route('/rooms/{room}', Echo())
    return app


async def chat(fw: Framework, ws: Any, transcript: Transcript) -> None:
    transcript.append(await receive(fw, ws, 'json'))
    for message in (
        {'n': 1},
        {'action': 'text', 'text': 'plain é'},
        {'action': 'data', 'text': 'bytes'},
        {'action': 'binary', 'x': [1, 2]},
        ['not', 'a', 'dict'],
    ):
        await ws.send_json(message)
        kind = {'text': 'text', 'data': 'data', 'binary': 'msgpack'}.get(
            message.get('action') if isinstance(message, dict) else None, 'json'
        )
        transcript.append(await receive(fw, ws, kind))
    await ws.send_msgpack({'from': 'binary'})
    transcript.append(await receive(fw, ws, 'json'))
    await ws.send_text('{not json')
    for __ in range(10):
        await asyncio.sleep(0)
    transcript.append(('after bad json', ws.closed, ws.close_code))


def closing(code: int | None, reason: str | None = None) -> Any:
    async def conversation(fw: Framework, ws: Any, transcript: Transcript) -> None:
        transcript.append(await receive(fw, ws, 'json'))
        message: dict[str, Any] = {'action': 'close'}
        if code is not None:
            message['code'] = code
        if reason is not None:
            message['reason'] = reason
        await ws.send_json(message)
        transcript.append(await receive(fw, ws, 'text'))

    return conversation


def failing(action: str) -> Any:
    async def conversation(fw: Framework, ws: Any, transcript: Transcript) -> None:
        transcript.append(await receive(fw, ws, 'json'))
        await ws.send_json({'action': action})
        transcript.append(await receive(fw, ws, 'json'))

    return conversation


async def nothing(fw: Framework, ws: Any, transcript: Transcript) -> None:
    transcript.append(await receive(fw, ws, 'json'))


async def wrong_type(fw: Framework, ws: Any, transcript: Transcript) -> None:
    transcript.append(await receive(fw, ws, 'data'))
    await ws.send_json({'after': 'wrong type'})
    transcript.append(await receive(fw, ws, 'json'))


async def client_closes(fw: Framework, ws: Any, transcript: Transcript) -> None:
    transcript.append(await receive(fw, ws, 'json'))
    await ws.close(4100, 'client done')
    transcript.append((ws.closed, ws.close_code, ws.close_reason))


SPEC_VERSIONS = ['2.1', '2.3', '2.5']


@pytest.mark.parametrize('spec_version', SPEC_VERSIONS)
@pytest.mark.parametrize(
    ('name', 'path', 'conversation', 'kwargs'),
    [
        ('chat', '/rooms/lobby', chat, {'query_string': 'a=1&b=2'}),
        ('subprotocols', '/rooms/x', nothing, {'subprotocols': ['a', 'wamp']}),
        ('close default', '/rooms/x', closing(None), {}),
        ('close code', '/rooms/x', closing(4000), {}),
        ('close code and reason', '/rooms/x', closing(4001, 'bye'), {}),
        ('close 1001', '/rooms/x', closing(1001), {}),
        ('close http code', '/rooms/x', closing(3404), {}),
        ('fail', '/rooms/x', failing('fail'), {}),
        ('http error', '/rooms/x', failing('http'), {}),
        ('wrong type', '/rooms/x', wrong_type, {}),
        ('client closes', '/rooms/x', client_closes, {}),
        ('deny by close', '/rooms/private', nothing, {}),
        ('deny by status', '/rooms/teapot', nothing, {}),
        ('deny by error', '/rooms/forbidden', nothing, {}),
        ('no route', '/nowhere', nothing, {}),
    ],
)
async def test_same_transcript(
    name: str, path: str, conversation: Any, kwargs: dict[str, Any], spec_version: str
) -> None:
    transcripts = await run_ws(
        echo_app, conversation, path, spec_version=spec_version, **kwargs
    )
    assert transcripts['gyrfalcon'] == transcripts['falcon']
    assert transcripts['falcon']


def middleware_app(fw: Framework) -> Any:
    f = fw.falcon

    class Middleware:
        async def process_request_ws(self, req: Any, ws: Any) -> None:
            if req.path == '/old':
                req.path = '/items/1'
            if req.get_header('X-Block'):
                raise f.HTTPUnauthorized()

        async def process_resource_ws(
            self, req: Any, ws: Any, resource: Any, params: Any
        ) -> None:
            params['injected'] = 'yes'
            req.context.via = 'middleware'

    async def stamp(req: Any, ws: Any, resource: Any, params: Any) -> None:
        params['stamped'] = True

    class Items:
        @f.before(stamp)
        async def on_websocket(self, req: Any, ws: Any, **params: Any) -> None:
            await ws.accept()
            await ws.send_media({'params': params, 'via': req.context.via})
            # NOTE: Wait for the client, so that the message is read before
            #   the connection closes (Falcon's simulator drops it otherwise).
            await ws.receive_text()

    class HttpOnly:
        async def on_get(self, req: Any, resp: Any) -> None:
            pass

    async def sink(req: Any, resp: Any, ws: Any = None, **kwargs: Any) -> None:
        await ws.accept()
        await ws.send_media({'sink': req.path, 'kwargs': kwargs})
        await ws.receive_text()

    app = f.asgi.App(middleware=[Middleware()])
    app.add_route('/items/{item_id:int}', Items())
    app.add_route('/http', HttpOnly())
    app.add_sink(sink, r'/sink/(?P<name>\w+)')
    return app


@pytest.mark.parametrize(
    ('path', 'kwargs'),
    [
        ('/items/7', {}),
        ('/old', {}),
        ('/items/7', {'headers': {'X-Block': '1'}}),
        ('/items/x', {}),
        ('/http', {}),
        ('/sink/abc', {}),
    ],
)
async def test_middleware_hooks_sinks(path: str, kwargs: dict[str, Any]) -> None:
    transcripts = await run_ws(
        middleware_app, nothing, path, spec_version='2.5', **kwargs
    )
    assert transcripts['gyrfalcon'] == transcripts['falcon']


def media_app(fw: Framework) -> Any:
    class Upper(fw.media.TextBaseHandlerWS):  # type: ignore[name-defined, misc]
        def serialize(self, media: object) -> str:
            return json.dumps(media).upper()

        def deserialize(self, payload: str) -> object:
            return json.loads(payload.lower())

    class Echo:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            await ws.send_media(await ws.receive_media())

    app = fw.asgi.App()
    app.ws_options.media_handlers[fw.falcon.WebSocketPayloadType.TEXT] = Upper()
    app.add_route('/', Echo())
    return app


async def test_custom_media_handler() -> None:
    async def conversation(fw: Framework, ws: Any, transcript: Transcript) -> None:
        await ws.send_text('{"A": "B"}')
        transcript.append(await receive(fw, ws, 'text'))

    transcripts = await run_ws(media_app, conversation)
    assert transcripts['gyrfalcon'] == transcripts['falcon']
    assert transcripts['falcon'][1] == ('text', '{"A": "B"}')


def error_handler_app(fw: Framework) -> Any:
    f = fw.falcon

    class Custom(Exception):
        pass

    async def handler(
        req: Any, resp: Any, ex: Any, params: Any, ws: Any = None
    ) -> None:
        await ws.close(4321, 'handled')

    async def to_http(req: Any, resp: Any, ex: Any, params: Any) -> None:
        raise f.HTTPConflict()

    class Raises:
        async def on_websocket(self, req: Any, ws: Any, kind: str) -> None:
            await ws.accept()
            await ws.send_text('ready')
            await ws.receive_text()
            raise Custom() if kind == 'custom' else KeyError(kind)

    app = f.asgi.App()
    app.add_error_handler(Custom, handler)
    app.add_error_handler(KeyError, to_http)
    app.add_route('/{kind}', Raises())
    return app


@pytest.mark.parametrize('kind', ['custom', 'key'])
async def test_error_handlers(kind: str) -> None:
    async def conversation(fw: Framework, ws: Any, transcript: Transcript) -> None:
        transcript.append(await receive(fw, ws, 'text'))
        await ws.send_text('go')
        transcript.append(await receive(fw, ws, 'text'))

    transcripts = await run_ws(
        error_handler_app, conversation, f'/{kind}', spec_version='2.5'
    )
    assert transcripts['gyrfalcon'] == transcripts['falcon']
