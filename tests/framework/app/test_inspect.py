"""``gyrfalcon.inspect`` renders the same text as ``falcon.inspect``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import falcon.inspect
import pytest
from app_scenarios import FALCON, GYRFALCON, Framework

import gyrfalcon.inspect


def _build(fw: Framework, directory: Path) -> Any:
    class Things:
        async def on_get(self, req: Any, resp: Any, id: str) -> None:
            pass

        async def on_websocket(self, req: Any, ws: Any, id: str) -> None:
            pass

        async def on_get_all(self, req: Any, resp: Any) -> None:
            pass

    class Timing:
        async def process_request(self, req: Any, resp: Any) -> None:
            pass

        async def process_response(self, req: Any, resp: Any, *args: Any) -> None:
            pass

    class Auth:
        async def process_resource(self, req: Any, resp: Any, *args: Any) -> None:
            pass

    async def proxy(req: Any, resp: Any, ws: Any = None) -> None:
        pass

    async def on_value_error(req: Any, resp: Any, ex: Any, params: Any) -> None:
        pass

    app = fw.app(middleware=[Timing(), Auth()], cors_enable=True)
    things = Things()
    app.add_route('/things/{id:int}', things)
    app.add_route('/things', things, suffix='all')
    app.add_static_route('/static', directory, fallback_filename='index.html')
    app.add_sink(proxy, '/proxy')
    app.add_error_handler(ValueError, on_value_error)
    return app


@pytest.mark.parametrize('internal', [False, True])
def test_same_text_as_falcon(tmp_path: Path, internal: bool) -> None:
    (tmp_path / 'index.html').write_text('x')
    theirs = falcon.inspect.inspect_app(_build(FALCON, tmp_path))
    ours = gyrfalcon.inspect.inspect_app(_build(GYRFALCON, tmp_path))
    their_text = theirs.to_string(internal=internal)
    our_text = ours.to_string(internal=internal)
    assert our_text.startswith('Gyrfalcon App (ASGI)\n')
    assert our_text == their_text.replace('Falcon App', 'Gyrfalcon App', 1)
    assert '⇒ /things/{id:int} - Things:' in our_text
    assert 'WEBSOCKET - on_websocket' in our_text
    assert ('OPTIONS - options_responder_async' in our_text) is internal
    assert str(ours) == ours.to_string()


def test_verbose_adds_source_locations(tmp_path: Path) -> None:
    (tmp_path / 'index.html').write_text('x')
    text = gyrfalcon.inspect.inspect_app(_build(GYRFALCON, tmp_path)).to_string(
        verbose=True
    )
    assert f'({__file__}:' in text
    assert '- Middleware classes:' in text


def test_custom_routers_need_an_inspector() -> None:
    class Router:
        def add_route(self, *args: Any, **kwargs: Any) -> None:
            pass

        def find(self, *args: Any, **kwargs: Any) -> None:
            return None

    app = GYRFALCON.app(router=Router())
    with pytest.raises(TypeError, match='register_router'):
        gyrfalcon.inspect.inspect_routes(app)

    @gyrfalcon.inspect.register_router(Router)
    def inspect_router(router: Any) -> list[gyrfalcon.inspect.RouteInfo]:
        return [gyrfalcon.inspect.RouteInfo('/custom', 'Custom', 'here:1', [])]

    try:
        assert '⇒ /custom - Custom' in gyrfalcon.inspect.inspect_app(app).to_string()
        with pytest.raises(ValueError, match='already registered'):
            gyrfalcon.inspect.register_router(Router)(inspect_router)
    finally:
        gyrfalcon.inspect._supported_routers.pop(Router)
