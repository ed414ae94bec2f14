"""Scope builders, ASGI event emitters and collector, small helpers.

Where Falcon has the same helper, the result is compared with Falcon's.
"""

from __future__ import annotations

import asyncio
import string
import time
from typing import Any

import falcon.testing as ftesting
import pytest

from gyrfalcon import testing


def materialize(scope: dict[str, Any]) -> dict[str, Any]:
    """Turn the one-shot iterators of a scope into lists."""
    result = dict(scope)
    for key in ('headers', 'client', 'server'):
        if key in result:
            value = result[key]
            result[key] = [
                list(item) if not isinstance(item, (str, int)) else item
                for item in value
            ]
    if 'client' in result:
        result['client'] = [result['client'][0], 'port']
    return result


def without_ua(scope: dict[str, Any]) -> dict[str, Any]:
    scope = dict(scope)
    scope['headers'] = [h for h in scope['headers'] if h[0] != b'user-agent']
    return scope


SCOPE_CASES = [
    {},
    {'path': '/a%20b/c', 'query_string': 'x=1&y=%20'},
    {'method': 'post', 'headers': {'Content-Type': 'text/plain', 'X-A': ' v '}},
    {'headers': [('X-Multi', 'a'), ('X-Multi', 'b'), ('X-None', None)]},
    {'scheme': 'https', 'port': 8443, 'host': 'example.com'},
    {'scheme': 'https'},
    {'port': '8080'},
    {'http_version': '1.0'},
    {'http_version': '2.0'},
    {'http_version': '1'},
    {'root_path': 'api'},
    {'root_path': ''},
    {'remote_addr': '10.0.0.1'},
    {'include_server': False},
    {'content_length': 12},
    {'cookies': {'a': 'b', 'c': 'd'}},
    {'method': 'OPTIONS', 'cookies': {'a': 'b'}},
    {'headers': {'User-Agent': 'custom/1.0'}},
]


class TestCreateScope:
    @pytest.mark.parametrize('kwargs', SCOPE_CASES)
    def test_same_as_falcon(self, kwargs: dict[str, Any]) -> None:
        ours = materialize(testing.create_scope(**kwargs))
        theirs = materialize(ftesting.create_scope(**kwargs))
        if 'User-Agent' not in kwargs.get('headers', {}):
            ours, theirs = without_ua(ours), without_ua(theirs)
        assert ours == theirs

    def test_default_user_agent(self) -> None:
        scope = testing.create_scope()
        headers = dict((bytes(n), bytes(v)) for n, v in scope['headers'])
        assert headers[b'user-agent'] == testing.DEFAULT_UA.encode()
        assert testing.DEFAULT_UA.startswith('gyrfalcon-client/')

    def test_iterables_are_one_shot(self) -> None:
        scope = testing.create_scope(remote_addr='1.2.3.4')
        assert list(scope['headers'])
        assert not list(scope['headers'])
        assert list(scope['client'])[0] == '1.2.3.4'
        assert list(scope['server']) == [testing.DEFAULT_HOST, 80]

    @pytest.mark.parametrize(
        ('kwargs', 'match'),
        [
            ({'scheme': 'ftp'}, 'scheme'),
            ({'http_version': '3'}, 'http_version'),
            ({'query_string': '?a=1'}, "start with '?'"),
        ],
    )
    def test_invalid(self, kwargs: dict[str, Any], match: str) -> None:
        with pytest.raises(ValueError, match=match):
            testing.create_scope(**kwargs)


class TestCreateScopeWs:
    @pytest.mark.parametrize(
        'kwargs',
        [
            {},
            {'path': '/ws', 'subprotocols': ['a', 'b'], 'spec_version': '2.3'},
            {'scheme': 'wss', 'port': 8443},
            {'headers': {'Origin': 'https://x'}, 'remote_addr': '::1'},
        ],
    )
    def test_same_as_falcon_plus_extensions(self, kwargs: dict[str, Any]) -> None:
        ours = materialize(testing.create_scope_ws(**kwargs))
        theirs = materialize(ftesting.create_scope_ws(**kwargs))
        assert ours.pop('extensions') == {'websocket.http.response': {}}
        assert without_ua(ours) == without_ua(theirs)

    def test_wss_default_port_is_omitted_from_host(self) -> None:
        # NOTE: Falcon compares a wss port with 80 and sends 'host:443'.
        scope = testing.create_scope_ws(scheme='wss')
        headers = dict((bytes(n), bytes(v)) for n, v in scope['headers'])
        assert headers[b'host'] == testing.DEFAULT_HOST.encode()
        assert list(scope['server']) == [testing.DEFAULT_HOST, 443]

    def test_without_subprotocols_key(self) -> None:
        assert 'subprotocols' not in testing.create_scope_ws()

    def test_extensions_can_be_removed_or_replaced(self) -> None:
        assert testing.create_scope_ws(extensions={})['extensions'] == {}
        scope = testing.create_scope_ws(extensions={'x.y': {'a': 1}})
        assert scope['extensions'] == {'x.y': {'a': 1}}


class TestRequestEventEmitter:
    async def test_body_is_emitted_in_chunks_then_disconnect(self) -> None:
        emitter = testing.ASGIRequestEventEmitter(b'abcdefghij', chunk_size=4)
        body = b''
        more = True
        events = 0
        while more:
            event = await emitter.emit()
            assert event['type'] == 'http.request'
            body += event.get('body', b'')
            more = event.get('more_body', False)
            events += 1
        assert body == b'abcdefghij'
        assert events >= 3 + 2  # three chunks, at least two empty ones
        emitter.disconnect()
        assert emitter.disconnected
        assert await emitter.emit() == {'type': 'http.disconnect'}

    async def test_str_body_is_utf8(self) -> None:
        emitter = testing.ASGIRequestEventEmitter('é')
        chunks = []
        while True:
            event = await emitter()
            chunks.append(event.get('body', b''))
            if not event.get('more_body', False):
                break
        assert b''.join(chunks) == 'é'.encode()

    async def test_disconnect_at_zero_disconnects_at_once(self) -> None:
        emitter = testing.ASGIRequestEventEmitter(b'body', disconnect_at=0)
        assert await emitter.emit() == {'type': 'http.disconnect'}

    async def test_disconnect_without_exhausting_body(self) -> None:
        emitter = testing.ASGIRequestEventEmitter(b'body')
        emitter.disconnect(exhaust_body=False)
        assert await emitter.emit() == {'type': 'http.disconnect'}

    async def test_waits_for_disconnect_once_body_is_exhausted(self) -> None:
        emitter = testing.ASGIRequestEventEmitter(b'', chunk_size=1)
        while (await emitter.emit()).get('more_body', False):
            pass
        pending = asyncio.ensure_future(emitter.emit())
        await asyncio.sleep(0)
        assert not pending.done()
        emitter.disconnect()
        assert await pending == {'type': 'http.disconnect'}

    async def test_disconnect_at_in_the_past(self) -> None:
        emitter = testing.ASGIRequestEventEmitter(b'', disconnect_at=time.time() - 1)
        assert emitter.disconnected


class TestResponseEventCollector:
    async def test_collects_status_headers_and_body(self) -> None:
        collector = testing.ASGIResponseEventCollector()
        await collector(
            {
                'type': 'http.response.start',
                'status': 200,
                'headers': [(b'content-type', b'text/plain; charset=latin1')],
            }
        )
        assert collector.more_body is None
        await collector({'type': 'http.response.body', 'body': b'a', 'more_body': True})
        await collector({'type': 'http.response.body', 'body': b'b'})
        await collector({'type': 'http.response.body', 'body': b'ignored'})
        assert collector.status == 200
        assert collector.headers == [('content-type', 'text/plain; charset=latin1')]
        assert collector.body_chunks == [b'a', b'b']
        assert collector.more_body is False
        assert len(collector.events) == 3

    @pytest.mark.parametrize(
        ('event', 'error', 'match'),
        [
            ({'type': 1}, TypeError, 'event type'),
            ({'type': 'http.nope'}, ValueError, 'Invalid ASGI event type'),
            ({'type': 'http.response.start', 'status': '200'}, TypeError, 'status'),
            (
                {
                    'type': 'http.response.start',
                    'status': 200,
                    'headers': [('a', b'b')],
                },
                TypeError,
                'byte strings',
            ),
            (
                {
                    'type': 'http.response.start',
                    'status': 200,
                    'headers': [(b'A', b'b')],
                },
                ValueError,
                'lowercase',
            ),
            (
                {
                    'type': 'http.response.start',
                    'status': 200,
                    'headers': [(b'a b', b'')],
                },
                ValueError,
                'Bad header name',
            ),
            (
                {
                    'type': 'http.response.start',
                    'status': 200,
                    'headers': [(b'a', b'\n')],
                },
                ValueError,
                'Bad header value',
            ),
            ({'type': 'http.response.body', 'body': 'str'}, TypeError, 'byte string'),
            ({'type': 'http.response.body', 'more_body': 1}, TypeError, 'more_body'),
        ],
    )
    async def test_invalid_events(
        self, event: dict[str, Any], error: type[Exception], match: str
    ) -> None:
        with pytest.raises(error, match=match):
            await testing.ASGIResponseEventCollector().collect(event)

    async def test_lifespan_events_are_accepted(self) -> None:
        collector = testing.ASGIResponseEventCollector()
        await collector({'type': 'lifespan.startup.complete'})
        assert collector.events == [{'type': 'lifespan.startup.complete'}]


class TestLifespanEventEmitter:
    async def test_sequence(self) -> None:
        condition = asyncio.Condition()
        emitter = testing.ASGILifespanEventEmitter(condition)
        assert await emitter() == {'type': 'lifespan.startup'}
        assert (await emitter())['type'] == 'lifespan._nonstandard_event'
        pending = asyncio.ensure_future(emitter())
        await asyncio.sleep(0)
        assert not pending.done()
        async with condition:
            condition.notify()
        assert await pending == {'type': 'lifespan.shutdown'}


@pytest.mark.parametrize(
    ('content_type', 'expected'),
    [
        (None, None),
        ('application/json', 'UTF-8'),
        ('text/event-stream', 'UTF-8'),
        ('text/plain', 'ISO-8859-1'),
        ('text/html; charset="utf-16"', 'utf-16'),
        ("application/xml; charset='ascii'", 'ascii'),
        ('application/octet-stream', None),
    ],
)
def test_get_encoding_from_headers(
    content_type: str | None, expected: str | None
) -> None:
    headers = {} if content_type is None else {'content-type': content_type}
    assert testing.get_encoding_from_headers(headers) == expected
    assert ftesting.get_encoding_from_headers(headers) == expected


def test_rand_string() -> None:
    for __ in range(20):
        value = testing.rand_string(3, 7)
        assert 3 <= len(value) <= 7
        assert set(value) <= set(string.printable)


def test_get_unused_port() -> None:
    port = testing.get_unused_port()
    assert 0 < port < 65536
