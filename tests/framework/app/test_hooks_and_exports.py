"""Hooks outside the request path, and the names ``gyrfalcon`` exports."""

from __future__ import annotations

from typing import Any

import falcon
import falcon.asgi
import pytest

import gyrfalcon
import gyrfalcon.asgi
import gyrfalcon.hooks


async def _noop(req: Any, resp: Any, resource: Any, params: Any = None) -> None:
    pass


def test_a_plain_function_cannot_hook_a_coroutine_responder() -> None:
    def blocking(req: Any, resp: Any, resource: Any, params: Any) -> None:
        pass

    with pytest.raises(gyrfalcon.CompatibilityError, match='coroutine function'):

        class Resource:
            @gyrfalcon.before(blocking)
            async def on_get(self, req: Any, resp: Any) -> None:
                pass


async def test_positional_fields_are_passed_to_the_action() -> None:
    seen: list[Any] = []

    async def record(req: Any, resp: Any, resource: Any, params: Any) -> None:
        seen.append(dict(params))

    class Resource:
        @gyrfalcon.before(record)
        async def on_get(self, req: Any, resp: Any, id: str, kind: str = 'x') -> str:
            return f'{id}/{kind}'

    # NOTE(gyrfalcon): an app calling its own decorated responder (e.g. via
    #   super()) may pass the fields by position.
    assert await Resource().on_get(None, None, '7', 'book') == '7/book'
    assert seen == [{'id': '7', 'kind': 'book'}]


def test_class_hooks_skip_on_request_unless_enabled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def make() -> type:
        class Resource:
            async def on_get(self, req: Any, resp: Any) -> None:
                pass

            async def on_request(self, req: Any, resp: Any) -> None:
                pass

        return Resource

    plain = make()
    with pytest.warns(UserWarning, match='Skipping decoration of default responder'):
        gyrfalcon.before(_noop)(plain)
    assert plain.on_get.__wrapped__  # type: ignore[attr-defined]
    assert not hasattr(plain.on_request, '__wrapped__')

    monkeypatch.setattr(gyrfalcon.hooks, 'decorate_on_request', True)
    decorated = make()
    gyrfalcon.after(_noop)(decorated)
    assert decorated.on_request.__wrapped__  # type: ignore[attr-defined]


def test_app_classes_are_the_asgi_ones() -> None:
    assert gyrfalcon.App is gyrfalcon.asgi.App
    assert gyrfalcon.Request is gyrfalcon.asgi.Request
    assert gyrfalcon.Response is gyrfalcon.asgi.Response
    assert isinstance(gyrfalcon.__version__, str)
    with pytest.warns(gyrfalcon.util.deprecation.DeprecatedWarning):
        assert isinstance(gyrfalcon.API(), gyrfalcon.App)


# NOTE(gyrfalcon): Falcon names that Gyrfalcon does not provide: WSGI-only
#   machinery, private helper modules, and names Falcon leaks by accident.
_NOT_PROVIDED = {
    'BufferedReader',  # WSGI request body reader
    'IS_64_BITS',
    'app',  # the WSGI App's module
    'asgi_spec',  # EventType and WSCloseCode constants
    'multipart',  # falcon.asgi.multipart: multipart forms are not done
    'cyutil',  # Cython helpers
    'falcon',
    'reader',
    'request',
    'request_helpers',
    'response',
    'response_helpers',
    'stream',  # the WSGI BoundedStream's module
    'sys',
    'typing',
}


@pytest.mark.parametrize('module', ['falcon', 'falcon.asgi'])
def test_public_names_match_falcon(module: str) -> None:
    theirs = falcon if module == 'falcon' else falcon.asgi
    ours = gyrfalcon if module == 'falcon' else gyrfalcon.asgi
    missing = {n for n in dir(theirs) if not n.startswith('_')} - set(dir(ours))
    assert missing <= _NOT_PROVIDED
    for name in getattr(ours, '__all__', ()):
        assert hasattr(ours, name), name
