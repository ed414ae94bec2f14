"""``gyrfalcon.testing`` and ``falcon.testing`` driving the same Falcon 4.4 app.

The testing package speaks plain ASGI, so it can drive Falcon's own
``falcon.asgi.App``; the results must be what ``falcon.testing`` reports.
Known, deliberate differences (documented in ``gyrfalcon.testing.ws``):

* The default ``User-Agent`` names Gyrfalcon, so responses that echo it
  differ in that value and in their length.
* Messages the app sent before closing are still delivered by our simulator;
  Falcon's drops them (see ``test_ws_messages_before_close``).
"""

from __future__ import annotations

import asyncio
from types import ModuleType
from typing import Any

import falcon
import falcon.asgi
import falcon.testing as ftesting
import pytest

from gyrfalcon import errors as gerrors, testing as gtesting

# NOTE: Each simulator raises its own framework's exception classes.
DISCONNECTED = (falcon.WebSocketDisconnected, gerrors.WebSocketDisconnected)


class Things:
    async def on_get(self, req: Any, resp: Any, thing_id: int) -> None:
        resp.media = {
            'id': thing_id,
            'q': req.get_param_as_list('q'),
            'host': req.host,
            'url': req.relative_uri,
            'cookie': req.cookies.get('c'),
        }
        resp.set_cookie('seen', str(thing_id), max_age=30, path='/things')
        resp.set_header('X-Thing', 'yes')

    async def on_post(self, req: Any, resp: Any, thing_id: int) -> None:
        resp.media = {'got': await req.get_media()}
        resp.status = falcon.HTTP_201

    async def on_delete(self, req: Any, resp: Any, thing_id: int) -> None:
        raise falcon.HTTPForbidden(title='no', description='not yours')


class Stream:
    async def on_get(self, req: Any, resp: Any) -> None:
        async def chunks() -> Any:
            for i in range(3):
                yield f'part{i};'.encode()

        resp.stream = chunks()
        resp.content_type = falcon.MEDIA_TEXT


class Chat:
    async def on_websocket(self, req: Any, ws: Any, room: str) -> None:
        if room == 'closed':
            await ws.close(4003)
            return
        if room == 'teapot':
            raise falcon.HTTPStatus(418)
        await ws.accept(subprotocol=ws.subprotocols[0] if ws.subprotocols else None)
        await ws.send_text(f'welcome to {room}')
        while True:
            try:
                message = await ws.receive_media()
            except falcon.WebSocketDisconnected:
                return
            if message == 'bye':
                await ws.close(4000, 'see you')
                return
            if message == 'fail':
                raise falcon.HTTPBadRequest()
            await ws.send_media({'echo': message}, falcon.WebSocketPayloadType.BINARY)


def make_app() -> falcon.asgi.App:
    app = falcon.asgi.App()
    app.add_route('/things/{thing_id:int}', Things())
    app.add_route('/stream', Stream())
    app.add_route('/chat/{room}', Chat())
    return app


def http_record(result: Any) -> dict[str, Any]:
    headers = dict(result.headers)
    return {
        'status': result.status,
        'status_code': result.status_code,
        'headers': headers,
        'content': result.content,
        'cookies': {
            name: (c.value, c.max_age, c.path, c.secure, c.http_only, c.same_site)
            for name, c in result.cookies.items()
        },
        'encoding': result.encoding,
        'content_type': result.content_type,
    }


HTTP_CASES = [
    ('GET', '/things/7', {'params': {'q': ['a', 'b']}, 'cookies': {'c': 'v'}}),
    ('GET', '/things/7?q=x', {}),
    ('GET', '/things/nope', {}),
    ('POST', '/things/1', {'json': {'a': [1, 'é']}}),
    (
        'POST',
        '/things/1',
        {'body': '{"raw": true}', 'content_type': 'application/json'},
    ),
    ('POST', '/things/1', {'body': 'not json', 'content_type': 'application/json'}),
    ('DELETE', '/things/1', {'headers': {'Accept': 'application/xml'}}),
    ('DELETE', '/things/1', {}),
    ('PUT', '/things/1', {}),
    ('HEAD', '/things/2', {}),
    ('OPTIONS', '/things/2', {}),
    ('GET', '/stream', {}),
    ('GET', '/missing', {'protocol': 'https', 'port': 8443}),
]


@pytest.mark.parametrize(('method', 'path', 'kwargs'), HTTP_CASES)
def test_http_results_match(method: str, path: str, kwargs: dict[str, Any]) -> None:
    records = [
        http_record(
            module.TestClient(make_app()).simulate_request(method, path, **kwargs)
        )
        for module in (ftesting, gtesting)
    ]
    assert records[0] == records[1]


async def ws_transcript(testing: ModuleType, path: str, **kwargs: Any) -> list[Any]:
    """Run one chat conversation and record what the client saw."""
    transcript: list[Any] = []
    async with testing.ASGIConductor(make_app()) as conductor:
        try:
            async with conductor.simulate_ws(path, **kwargs) as ws:
                transcript.append(('accepted', ws.subprotocol, ws.ready))
                transcript.append(await ws.receive_text())
                for message in ('hi', {'n': 1}, 'fail'):
                    await ws.send_json(message)
                    if message == 'fail':
                        break
                    transcript.append(await ws.receive_msgpack())
                # NOTE: Let the app's close land before we look.
                for __ in range(10):
                    await asyncio.sleep(0)
                transcript.append(('closed', ws.closed, ws.close_code, ws.close_reason))
        except DISCONNECTED as ex:
            transcript.append(('denied', type(ex).__name__, ex.code))
    return transcript


@pytest.mark.parametrize(
    ('path', 'kwargs'),
    [
        ('/chat/lobby', {}),
        ('/chat/lobby', {'subprotocols': ['wamp', 'x'], 'spec_version': '2.3'}),
        ('/chat/closed', {}),
        ('/chat/teapot', {}),
        ('/nowhere', {}),
        ('/things/1', {}),
    ],
)
async def test_ws_transcripts_match(path: str, kwargs: dict[str, Any]) -> None:
    theirs = await ws_transcript(ftesting, path, **kwargs)
    ours = await ws_transcript(gtesting, path, **kwargs)
    assert ours == theirs
    assert theirs  # the conversation happened


async def test_ws_close_by_client_reaches_falcon_app() -> None:
    for testing in (ftesting, gtesting):
        async with testing.ASGIConductor(make_app()) as conductor:
            async with conductor.simulate_ws('/chat/a') as ws:
                assert await ws.receive_text() == 'welcome to a'
                await ws.send_json('bye')
                with pytest.raises(DISCONNECTED):
                    await ws.receive_text()
            assert (ws.close_code, ws.closed) == (4000, True)


async def test_ws_messages_before_close() -> None:
    """Our simulator delivers what the app sent before it closed; Falcon's drops it."""

    class Burst:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            await ws.send_text('one')
            await ws.send_text('two')
            await ws.close(4001)

    app = falcon.asgi.App()
    app.add_route('/', Burst())
    received: dict[str, list[str]] = {}
    for name, testing in (('falcon', ftesting), ('ours', gtesting)):
        received[name] = []
        async with testing.ASGIConductor(app).simulate_ws('/') as ws:
            for __ in range(10):
                await asyncio.sleep(0)
            try:
                while True:
                    received[name].append(await ws.receive_text())
            except DISCONNECTED as ex:
                assert ex.code == 4001
    assert received == {'falcon': [], 'ours': ['one', 'two']}
