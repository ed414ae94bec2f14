"""TestClient, ASGIConductor and Result, driven against hand-written ASGI apps."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import msgpack
import pytest

from gyrfalcon import errors, testing

Receive = Any
Send = Any


class EchoApp:
    """An ASGI app that answers with what it received, as JSON.

    It supports the lifespan protocol and records the lifespan events.
    """

    def __init__(self) -> None:
        self.lifespan: list[str] = []

    async def __call__(
        self, scope: dict[str, Any], receive: Receive, send: Send
    ) -> None:
        if scope['type'] == 'lifespan':
            while True:
                event = await receive()
                self.lifespan.append(event['type'])
                if event['type'] == 'lifespan.startup':
                    await send({'type': 'lifespan.startup.complete'})
                elif event['type'] == 'lifespan.shutdown':
                    await send({'type': 'lifespan.shutdown.complete'})
                    return
            return

        body = b''
        while True:
            event = await receive()
            body += event.get('body', b'')
            if not event.get('more_body', False):
                break
        doc = {
            'method': scope['method'],
            'path': scope['path'],
            'raw_path': scope['raw_path'].decode(),
            'query_string': scope['query_string'].decode(),
            'headers': [[n.decode(), v.decode()] for n, v in scope['headers']],
            'scheme': scope.get('scheme'),
            'client': list(scope.get('client', [])),
            'extra': scope.get('extra'),
            'body': body.decode('latin1'),
        }
        payload = json.dumps(doc).encode()
        await send(
            {
                'type': 'http.response.start',
                'status': 200,
                'headers': [
                    (b'content-type', b'application/json'),
                    (
                        b'set-cookie',
                        b'session=abc; Max-Age=60; Path=/; Secure; HttpOnly',
                    ),
                    (b'set-cookie', b'pref=dark; Domain=example.com; SameSite=Lax'),
                    (b'set-cookie', b'old=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT'),
                    (b'x-multi', b'1'),
                ],
            }
        )
        await send({'type': 'http.response.body', 'body': payload})


def header(doc: dict[str, Any], name: str) -> list[str]:
    return [v for n, v in doc['headers'] if n == name]


@pytest.fixture
def app() -> EchoApp:
    return EchoApp()


@pytest.fixture
def client(app: EchoApp) -> testing.TestClient:
    return testing.TestClient(app)


class TestSimulateRequest:
    def test_runs_the_lifespan_around_the_request(
        self, app: EchoApp, client: testing.TestClient
    ) -> None:
        result = client.simulate_get('/x')
        assert result.status == '200 OK'
        assert app.lifespan == [
            'lifespan.startup',
            'lifespan._nonstandard_event',
            'lifespan.shutdown',
        ]

    @pytest.mark.parametrize(
        'method', ['GET', 'HEAD', 'POST', 'PUT', 'OPTIONS', 'PATCH', 'DELETE']
    )
    def test_methods_and_aliases(self, client: testing.TestClient, method: str) -> None:
        name = method.lower()
        assert getattr(client, 'simulate_' + name)('/m').json['method'] == method
        assert getattr(client, name)('/m').json['method'] == method
        assert (
            getattr(testing, 'simulate_' + name)(client.app, '/m').json['method']
            == method
        )
        assert client.request(method, '/m').json['method'] == method

    def test_custom_method(self, client: testing.TestClient) -> None:
        assert client.simulate_request('LOCK', '/files').json['method'] == 'LOCK'

    def test_params(self, client: testing.TestClient) -> None:
        doc = client.simulate_get('/', params={'a': [1, 2], 'b': True, 'c': 'x y'}).json
        assert doc['query_string'] == 'a=1&a=2&b=true&c=x%20y'
        doc = client.simulate_get('/', params={'a': [1, 2]}, params_csv=True).json
        assert doc['query_string'] == 'a=1,2'

    def test_query_in_path_or_query_string(self, client: testing.TestClient) -> None:
        assert client.simulate_get('/p?x=1').json['query_string'] == 'x=1'
        assert (
            client.simulate_get('/p', query_string='y=2').json['query_string'] == 'y=2'
        )
        with pytest.raises(ValueError, match='may not contain a query string'):
            client.simulate_get('/p?x=1', params={'y': 2})
        with pytest.raises(ValueError, match="start with '?'"):
            client.simulate_get('/p', query_string='?y=2')
        with pytest.raises(ValueError, match="start with '/'"):
            client.simulate_get('p')

    def test_path_is_decoded_raw_path_is_not(self, client: testing.TestClient) -> None:
        doc = client.simulate_get('/a%20b').json
        assert (doc['path'], doc['raw_path']) == ('/a b', '/a%20b')

    def test_body_json_msgpack_and_content_type(
        self, client: testing.TestClient
    ) -> None:
        doc = client.simulate_post('/', body='héllo', content_type='text/plain').json
        assert doc['body'] == 'héllo'.encode().decode('latin1')
        assert header(doc, 'content-type') == ['text/plain']
        assert header(doc, 'content-length') == [str(len('héllo'.encode()))]

        doc = client.simulate_post('/', json={'a': 'é'}, headers={'X-A': '1'}).json
        assert json.loads(doc['body'].encode('latin1')) == {'a': 'é'}
        assert header(doc, 'content-type') == ['application/json']
        assert header(doc, 'x-a') == ['1']

        doc = client.simulate_post(
            '/', msgpack={'b': b'\x00'}, json={'ignored': 1}
        ).json
        assert msgpack.unpackb(doc['body'].encode('latin1')) == {'b': b'\x00'}
        assert header(doc, 'content-type') == ['application/msgpack']

    def test_large_body_arrives_whole(self, client: testing.TestClient) -> None:
        body = bytes(range(256)) * 100
        doc = client.simulate_post('/', body=body, asgi_chunk_size=1000).json
        assert doc['body'].encode('latin1') == body

    def test_scope_options(self, client: testing.TestClient) -> None:
        doc = client.simulate_get(
            '/', protocol='https', remote_addr='10.1.2.3', extras={'extra': 'yes'}
        ).json
        assert doc['scheme'] == 'https'
        assert doc['client'][0] == '10.1.2.3'
        assert doc['extra'] == 'yes'

    def test_extras_may_not_change_the_method(self, client: testing.TestClient) -> None:
        with pytest.raises(ValueError, match='may not override the request method'):
            client.simulate_get('/', extras={'method': 'POST'})

    def test_cookies_are_sent(self, client: testing.TestClient) -> None:
        first = client.simulate_get('/')
        doc = client.simulate_get('/', cookies=first.cookies).json
        assert header(doc, 'cookie') == ['session=abc; pref=dark; old=1']

    def test_default_headers_are_merged(self, app: EchoApp) -> None:
        client = testing.TestClient(app, headers={'X-Default': 'd', 'X-Both': 'd'})
        doc = client.simulate_get('/', headers={'X-Both': 'r'}).json
        assert header(doc, 'x-default') == ['d']
        assert header(doc, 'x-both') == ['r']

    def test_immediate_disconnect(self, client: testing.TestClient) -> None:
        async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
            if scope['type'] == 'http':
                assert (await receive())['type'] == 'http.disconnect'

        with pytest.raises(ConnectionError, match='immediate disconnect'):
            testing.simulate_get(app, '/', asgi_disconnect_ttl=0)

    def test_non_asgi_app_is_refused(self) -> None:
        def wsgi_app(environ: Any, start_response: Any) -> list[bytes]:
            return []

        with pytest.raises(errors.CompatibilityError, match='ASGI 3'):
            testing.simulate_get(wsgi_app, '/')
        with pytest.raises(errors.CompatibilityError):
            testing.ASGIConductor(wsgi_app)

    def test_app_without_lifespan_support(self) -> None:
        async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
            assert scope['type'] == 'http', 'no lifespan here'
            await send({'type': 'http.response.start', 'status': 204})
            await send({'type': 'http.response.body'})

        result = testing.simulate_get(app, '/')
        assert result.status == '204 No Content'
        assert result.content == b''

    @pytest.mark.parametrize('phase', ['startup', 'shutdown'])
    def test_lifespan_failure_is_raised(self, phase: str) -> None:
        async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
            if scope['type'] == 'lifespan':
                while True:
                    event = await receive()
                    if event['type'] == 'lifespan.startup':
                        kind = 'failed' if phase == 'startup' else 'complete'
                        await send({'type': f'lifespan.startup.{kind}', 'message': 'x'})
                    elif event['type'] == 'lifespan.shutdown':
                        await send({'type': 'lifespan.shutdown.failed', 'message': 'y'})
                        return
            await send({'type': 'http.response.start', 'status': 200})
            await send({'type': 'http.response.body'})

        with pytest.raises(RuntimeError, match=f'lifespan.{phase}.failed'):
            testing.simulate_get(app, '/')

    def test_app_error_is_raised(self) -> None:
        async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
            if scope['type'] == 'http':
                raise LookupError('in the app')

        with pytest.raises(LookupError, match='in the app'):
            testing.simulate_get(app, '/')


class TestResult:
    def test_attributes(self, client: testing.TestClient) -> None:
        result = client.simulate_get('/r')
        assert result.status == '200 OK'
        assert result.status_code == 200
        assert result.content_type == 'application/json'
        assert result.headers['X-MULTI'] == '1'
        assert result.encoding == 'UTF-8'
        assert result.json['path'] == '/r'
        assert result.text == result.content.decode()
        assert repr(result).startswith('Result<200 OK application/json b')
        assert '...' in repr(result)
        assert result.__rich__().startswith('[bold]Result[/]<[bold green]200 OK')

    def test_cookies(self, client: testing.TestClient) -> None:
        cookies = client.simulate_get('/').cookies
        assert set(cookies) == {'session', 'pref', 'old'}
        session = cookies['session']
        assert (session.name, session.value) == ('session', 'abc')
        assert session.max_age == 60
        assert session.path == '/'
        assert session.secure and session.http_only
        assert session.domain is None
        assert session.same_site is None
        assert session.expires is None
        assert not session.partitioned
        pref = cookies['pref']
        assert pref.domain == 'example.com'
        assert pref.same_site == 'Lax'
        assert not pref.secure and not pref.http_only
        assert pref.max_age is None
        assert cookies['old'].expires == dt.datetime(2015, 10, 21, 7, 28, tzinfo=dt.UTC)

    def test_empty_body(self) -> None:
        result = testing.Result([], '204 No Content', [])
        assert result.content == b''
        assert result.text == ''
        assert result.json is None
        assert result.encoding is None
        assert result.content_type is None
        assert repr(result) == "Result<204 No Content b''>"

    def test_text_uses_declared_charset(self) -> None:
        result = testing.Result(
            ['é'.encode('latin1')], '200 OK', [('content-type', 'text/plain')]
        )
        assert result.text == 'é'

    def test_invalid_json_raises(self) -> None:
        result = testing.Result([b'{'], '200 OK', [])
        with pytest.raises(json.JSONDecodeError):
            _ = result.json


class TestConductor:
    async def test_lifespan_on_enter_and_exit(self, app: EchoApp) -> None:
        async with testing.ASGIConductor(app) as conductor:
            assert app.lifespan == ['lifespan.startup', 'lifespan._nonstandard_event']
            result = await conductor.simulate_get('/c')
            assert result.json['path'] == '/c'
            assert (await conductor.get('/d')).json['path'] == '/d'
        assert app.lifespan[-1] == 'lifespan.shutdown'

    async def test_error_in_block_skips_shutdown(self, app: EchoApp) -> None:
        with pytest.raises(LookupError):
            async with testing.ASGIConductor(app):
                raise LookupError
        assert 'lifespan.shutdown' not in app.lifespan

    async def test_requests_without_entering(self, app: EchoApp) -> None:
        conductor = testing.ASGIConductor(app, headers={'X-D': '1'})
        for method in ('head', 'post', 'put', 'options', 'patch', 'delete'):
            doc = (await getattr(conductor, 'simulate_' + method)('/')).json
            assert doc['method'] == method.upper()
            assert header(doc, 'x-d') == ['1']
        assert app.lifespan == []

    async def test_interleaved_requests(self) -> None:
        gate = asyncio.Event()

        async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
            if scope['path'] == '/wait':
                await gate.wait()
            else:
                gate.set()
            await send({'type': 'http.response.start', 'status': 200})
            await send({'type': 'http.response.body', 'body': scope['path'].encode()})

        conductor = testing.ASGIConductor(app)
        waiting = asyncio.ensure_future(conductor.simulate_get('/wait'))
        await asyncio.sleep(0)
        assert not waiting.done()
        assert (await conductor.simulate_get('/open')).text == '/open'
        assert (await waiting).text == '/wait'

    async def test_streamed_result(self) -> None:
        produce = asyncio.Queue[bytes]()
        finished = []

        async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
            await send(
                {
                    'type': 'http.response.start',
                    'status': 200,
                    'headers': [(b'content-type', b'text/event-stream')],
                }
            )

            async def wait_for_disconnect() -> str:
                while (event := await receive())['type'] != 'http.disconnect':
                    pass
                return str(event['type'])

            disconnect = asyncio.ensure_future(wait_for_disconnect())
            while True:
                chunk = asyncio.ensure_future(produce.get())
                await asyncio.wait(
                    [chunk, disconnect], return_when=asyncio.FIRST_COMPLETED
                )
                if disconnect.done():
                    chunk.cancel()
                    finished.append(disconnect.result())
                    await send({'type': 'http.response.body'})
                    return
                body = chunk.result()
                await send(
                    {'type': 'http.response.body', 'body': body, 'more_body': True}
                )

        async with testing.ASGIConductor(app).get_stream('/events') as result:
            assert isinstance(result, testing.StreamedResult)
            assert result.status_code == 200
            assert result.encoding == 'UTF-8'
            assert await result.stream.read() == b''
            await produce.put(b'data: 1\n\n')
            await produce.put(b'data: 2\n\n')
            received = b''
            for __ in range(100):
                received += await result.stream.read()
                if len(received) == 18:
                    break
            assert received == b'data: 1\n\ndata: 2\n\n'
        assert finished == ['http.disconnect']

    async def test_stream_of_an_app_that_never_responds(self) -> None:
        async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
            return None

        with pytest.raises(ConnectionError, match='without starting a response'):
            async with testing.ASGIConductor(app).simulate_get_stream('/'):
                pass

    async def test_client_as_async_context_manager(self, app: EchoApp) -> None:
        client = testing.TestClient(app, headers={'X-C': 'c'})
        async with client as conductor:
            assert isinstance(conductor, testing.ASGIConductor)
            doc = (await conductor.simulate_get('/')).json
            assert header(doc, 'x-c') == ['c']
        assert app.lifespan[-1] == 'lifespan.shutdown'


def test_test_client_is_not_collected() -> None:
    assert testing.TestClient.__test__ is False
