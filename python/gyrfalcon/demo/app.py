"""The demo app: routes, middleware and error handling in one place.

=====================  ===========================================================
``GET /``              the page (``static/index.html``)
``GET /static/{name}`` its script, style sheet and icon
``GET /token``         a token for the WebSocket endpoints (``?name=alice``)
``GET /stats``         who is connected, as JSON
``/ws/chat``           the chat room (WebSocket)
``/ws/feed``           the event feed (WebSocket)
=====================  ===========================================================
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.resources
import os

import gyrfalcon as falcon
from gyrfalcon.asgi import App, Request, Response
from gyrfalcon.demo.chat import ChatRoom
from gyrfalcon.demo.feed import EventFeed, Ticker
from gyrfalcon.demo.handshake import (
    TokenIssuer,
    TokenMiddleware,
    TokenResource,
    deny_handshake,
)
from gyrfalcon.hub import Backend, Hub
from gyrfalcon.protocol import ENGINE

__all__ = ['REDIS_ENV', 'SECRET_ENV', 'StaticFiles', 'Stats', 'create_app']

REDIS_ENV = 'GYRFALCON_DEMO_REDIS'
"""The environment variable naming a Redis URL for the hub's backend.

``gyrfalcon demo --redis URL`` sets it for its worker processes.
"""

SECRET_ENV = 'GYRFALCON_DEMO_SECRET'
"""The environment variable holding the token key that workers share."""

_CONTENT_TYPES = {
    '.html': falcon.MEDIA_HTML,
    '.js': 'text/javascript; charset=utf-8',
    '.css': 'text/css; charset=utf-8',
    '.svg': 'image/svg+xml',
}

# APPSEC(gyrfalcon): The page only loads what this server serves, and only
#   talks to it: no inline scripts, no third-party origins. 'self' covers
#   ws:// and wss:// to the same host in connect-src.
_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; connect-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


class StaticFiles:
    """The page and its assets, read once from the package.

    The files live in ``gyrfalcon/demo/static/`` and ship inside the wheel;
    there is no build step and nothing comes from a CDN, so the page works
    offline.
    """

    def __init__(self) -> None:
        root = importlib.resources.files('gyrfalcon.demo') / 'static'
        self._files: dict[str, tuple[bytes, str]] = {}
        for entry in root.iterdir():
            content_type = _CONTENT_TYPES.get('.' + entry.name.rpartition('.')[2])
            if content_type is not None:
                self._files[entry.name] = (entry.read_bytes(), content_type)

    async def on_get(
        self, req: Request, resp: Response, name: str = 'index.html'
    ) -> None:
        """Serve one file (``/`` is ``index.html``).

        Raises:
            HTTPNotFound: There is no such file.
        """
        # Only names found in the package directory are served: a lookup in
        # a dict, not a path join, so "../" leads nowhere.
        found = self._files.get(name)
        if found is None:
            raise falcon.HTTPNotFound()
        resp.data, resp.content_type = found
        resp.cache_control = ['no-cache']
        resp.set_header('Content-Security-Policy', _CONTENT_SECURITY_POLICY)
        resp.set_header('X-Content-Type-Options', 'nosniff')


class Stats:
    """``GET /stats``: the room and the feed at a glance.

    Args:
        chat: The chat room.
        hub: Knows the feed's listeners.
        ticker: Knows the feed's counter.
    """

    def __init__(self, chat: ChatRoom, hub: Hub, ticker: Ticker) -> None:
        self._chat = chat
        self._hub = hub
        self._ticker = ticker

    async def on_get(self, req: Request, resp: Response) -> None:
        """Describe the room and the feed."""
        resp.media = {
            'engine': ENGINE,
            'chat': {'online': self._chat.online},
            'feed': {
                'listeners': self._hub.count(self._ticker.topic),
                'seq': self._ticker.seq,
                'rate': self._ticker.rate,
            },
        }


def create_app(
    *,
    feed_rate: float = 10.0,
    token_ttl: float = 3600.0,
    secret: bytes | None = None,
    backend: Backend | None = None,
) -> App[Request, Response]:
    """Build the demo app.

    Keyword Args:
        feed_rate (float): Events per second on the feed (default 10).
        token_ttl (float): How long a token from ``GET /token`` stays valid,
            in seconds (default an hour).
        secret (bytes): The key that signs tokens. By default the UTF-8 of
            ``GYRFALCON_DEMO_SECRET`` when it is set; else, with
            ``GYRFALCON_DEMO_REDIS`` set, one derived from the Redis URL, so
            that every worker accepts the tokens of the others; else a
            random one.
        backend (Backend): The hub's backend. By default a
            ``RedisBackend`` on the URL in ``GYRFALCON_DEMO_REDIS`` when it
            is set (so that the chat room spans worker processes), else the
            in-process one.

    Returns:
        The app; ``gyrfalcon.demo:app`` is one built with the defaults.
    """
    issuer = TokenIssuer(ttl=token_ttl, secret=secret or _secret_from_env())
    app: App[Request, Response] = App(middleware=[TokenMiddleware(issuer)])

    # Refusals raised before accept() become HTTP responses to the handshake.
    app.add_error_handler(falcon.HTTPError, deny_handshake)

    # One hub for the room and the feed; it serializes broadcasts with the
    # app's media handlers, as ws.send_media() does, so both look alike on
    # the wire, and frames each broadcast once for all its subscribers.
    app.hub = Hub(backend if backend is not None else _backend_from_env())
    chat = ChatRoom(app.hub)
    ticker = Ticker(app.hub, rate=feed_rate)

    files = StaticFiles()
    app.add_route('/', files)
    app.add_route('/static/{name}', files)
    app.add_route('/token', TokenResource(issuer))
    app.add_route('/stats', Stats(chat, app.hub, ticker))
    app.add_route('/ws/chat', chat)
    app.add_route('/ws/feed', EventFeed(app.hub, ticker))
    return app


def _secret_from_env() -> bytes | None:
    secret = os.environ.get(SECRET_ENV)
    if secret:
        return secret.encode()
    url = os.environ.get(REDIS_ENV)
    if url:
        # APPSEC(gyrfalcon): Good enough for a demo whose tokens only carry
        #   a display name: workers sharing a Redis share a key. A real app
        #   sets its key from its own secret store.
        return hashlib.sha256(b'gyrfalcon demo token key\0' + url.encode()).digest()
    return None


def _backend_from_env() -> Backend | None:
    url = os.environ.get(REDIS_ENV)
    if not url:
        return None
    # NOTE(gyrfalcon): Imported by name: the module needs the optional
    #   'redis' package, which only this configuration requires.
    redis = importlib.import_module('gyrfalcon.hub.redis')
    backend: Backend = redis.RedisBackend(url)
    return backend
