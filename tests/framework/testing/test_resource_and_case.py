"""``SimpleTestResource``, its hooks, ``TestCase``, ``create_asgi_req`` and exports."""

from __future__ import annotations

import importlib.util
import unittest
from typing import Any

import falcon.testing
import pytest

import gyrfalcon
from gyrfalcon import testing


class TestSimpleTestResource:
    def test_defaults_and_capture(self) -> None:
        resource = testing.SimpleTestResource(
            status=gyrfalcon.HTTP_202, body='hi', headers={'X-A': '1'}
        )
        app = gyrfalcon.App()
        app.add_route('/items/{item_id}', resource)
        assert not resource.called

        result = testing.TestClient(app).simulate_get('/items/5', params={'q': 'x'})
        assert result.status == '202 Accepted'
        assert result.text == 'hi'
        assert result.headers['X-A'] == '1'
        assert resource.called
        assert resource.captured_req is not None
        assert resource.captured_req.get_param('q') == 'x'
        assert resource.captured_resp is not None
        assert resource.captured_kwargs == {'item_id': '5'}
        assert resource.captured_req_media is None
        assert resource.captured_req_body is None

    def test_json_default(self) -> None:
        resource = testing.SimpleTestResource(json={'message': 'é'})
        app = gyrfalcon.App()
        app.add_route('/', resource)
        result = testing.TestClient(app).simulate_post('/')
        assert result.json == {'message': 'é'}

    def test_json_and_body_are_exclusive(self) -> None:
        with pytest.raises(ValueError, match='not both'):
            testing.SimpleTestResource(body='x', json={'a': 1})

    def test_capture_body_bytes_and_media(self) -> None:
        resource = testing.SimpleTestResource()
        app = gyrfalcon.App()
        app.add_route('/', resource)
        client = testing.TestClient(app)

        client.simulate_post(
            '/', body=b'0123456789', headers={'capture-req-body-bytes': '4'}
        )
        assert resource.captured_req_body == b'0123'
        assert resource.captured_req_media is None

        client.simulate_post('/', json={'a': [1]}, headers={'capture-req-media': 'y'})
        assert resource.captured_req_media == {'a': [1]}
        assert resource.captured_req_body is None

    def test_subclass_with_hooks(self) -> None:
        class Resource(testing.SimpleTestResourceAsync):
            @gyrfalcon.before(testing.capture_responder_args_async)
            @gyrfalcon.before(testing.set_resp_defaults_async)
            async def on_put(self, req: Any, resp: Any, **kwargs: Any) -> None:
                pass

        resource = Resource(body='put')
        app = gyrfalcon.App()
        app.add_route('/{x}', resource)
        assert testing.TestClient(app).simulate_put('/1').text == 'put'
        assert resource.captured_kwargs == {'x': '1'}

    def test_same_on_falcon(self) -> None:
        """Our resource behaves as Falcon's async one, on Falcon's app."""
        import falcon.asgi

        ours = testing.SimpleTestResource(json={'a': 1}, headers={'X-B': '2'})
        theirs = falcon.testing.SimpleTestResourceAsync(
            json={'a': 1}, headers={'X-B': '2'}
        )
        results = []
        for resource in (ours, theirs):
            app = falcon.asgi.App()
            app.add_route('/{n}', resource)
            result = falcon.testing.TestClient(app).simulate_get('/3')
            results.append((result.status, result.json, result.headers['X-B']))
            assert resource.captured_kwargs == {'n': '3'}
        assert results[0] == results[1]


class TestTestCase:
    def test_runs_unittest_style(self) -> None:
        class Case(testing.TestCase):
            def setUp(self) -> None:
                super().setUp()
                self.app.add_route('/', testing.SimpleTestResource(body='from case'))

            def test_get(self) -> None:
                result = self.simulate_get('/')
                self.assertEqual(result.text, 'from case')

            def test_default_app(self) -> None:
                self.assertIsInstance(self.app, gyrfalcon.App)

        suite = unittest.defaultTestLoader.loadTestsFromTestCase(Case)
        outcome = unittest.TestResult()
        suite.run(outcome)
        assert outcome.testsRun == 2
        assert outcome.errors == []
        assert outcome.failures == []

    def test_collected_by_pytest(self) -> None:
        assert testing.TestCase.__test__ is True


def test_create_asgi_req() -> None:
    req = testing.create_asgi_req(
        path='/a', query_string='x=1', headers={'X-H': 'v'}, method='PUT'
    )
    assert isinstance(req, gyrfalcon.asgi.Request)
    assert (req.method, req.path, req.get_param('x')) == ('PUT', '/a', '1')
    assert req.get_header('X-H') == 'v'

    class Custom(gyrfalcon.asgi.Request):
        pass

    assert type(testing.create_asgi_req(req_type=Custom)) is Custom


async def test_create_asgi_req_body() -> None:
    req = testing.create_asgi_req(body=b'payload', content_length=7, method='POST')
    assert await req.stream.read() == b'payload'


def test_exports_match_falcon_minus_wsgi() -> None:
    wsgi_only = {
        'StartResponseMock',
        'closed_wsgi_iterable',
        'create_environ',
        'create_req',
        'redirected',
    }
    missing = set(falcon.testing.__all__) - set(testing.__all__) - wsgi_only
    assert missing == set()
    for name in testing.__all__:
        assert getattr(testing, name) is not None


def test_engine_pair_is_lazy_and_optional() -> None:
    has_pair = importlib.util.find_spec('gyrfalcon.testing.pair') is not None
    assert ('EnginePair' in testing.__all__) is has_pair
    if has_pair:
        from gyrfalcon.testing.pair import EnginePair

        assert testing.EnginePair is EnginePair
    with pytest.raises(AttributeError):
        _ = testing.NoSuchThing  # type: ignore[attr-defined]
