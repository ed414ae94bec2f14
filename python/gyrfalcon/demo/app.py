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

import importlib.resources

import gyrfalcon as falcon
from gyrfalcon import WebSocketPayloadType
from gyrfalcon.asgi import App, Request, Response
from gyrfalcon.demo.chat import ChatRoom
from gyrfalcon.demo.fanout import Broadcaster
from gyrfalcon.demo.feed import FEED_TOPIC, EventFeed, Ticker
from gyrfalcon.demo.handshake import (
    TokenIssuer,
    TokenMiddleware,
    TokenResource,
    deny_handshake,
)
from gyrfalcon.protocol import ENGINE

__all__ = ['StaticFiles', 'Stats', 'create_app']

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
        broadcaster: Knows the feed's listeners.
        ticker: Knows the feed's counter.
    """

    def __init__(
        self, chat: ChatRoom, broadcaster: Broadcaster, ticker: Ticker
    ) -> None:
        self._chat = chat
        self._broadcaster = broadcaster
        self._ticker = ticker

    async def on_get(self, req: Request, resp: Response) -> None:
        """Describe the room and the feed."""
        resp.media = {
            'engine': ENGINE,
            'chat': {'online': self._chat.online},
            'feed': {
                'listeners': self._broadcaster.subscriber_count(FEED_TOPIC),
                'seq': self._ticker.seq,
                'rate': self._ticker.rate,
            },
        }


def create_app(
    *,
    feed_rate: float = 10.0,
    token_ttl: float = 3600.0,
    secret: bytes | None = None,
) -> App[Request, Response]:
    """Build the demo app.

    Keyword Args:
        feed_rate (float): Events per second on the feed (default 10).
        token_ttl (float): How long a token from ``GET /token`` stays valid,
            in seconds (default an hour).
        secret (bytes): The key that signs tokens (default: a random one).

    Returns:
        The app; ``gyrfalcon.demo:app`` is one built with the defaults.
    """
    issuer = TokenIssuer(ttl=token_ttl, secret=secret)
    app: App[Request, Response] = App(middleware=[TokenMiddleware(issuer)])

    # Refusals raised before accept() become HTTP responses to the handshake.
    app.add_error_handler(falcon.HTTPError, deny_handshake)

    # One broadcaster for both rooms; it serializes broadcasts with the same
    # TEXT handler that ws.send_media() uses, so both look alike on the wire.
    text_handler = app.ws_options.media_handlers[WebSocketPayloadType.TEXT]
    broadcaster = Broadcaster(text_handler.serialize)
    chat = ChatRoom(broadcaster)
    ticker = Ticker(broadcaster, rate=feed_rate)

    files = StaticFiles()
    app.add_route('/', files)
    app.add_route('/static/{name}', files)
    app.add_route('/token', TokenResource(issuer))
    app.add_route('/stats', Stats(chat, broadcaster, ticker))
    app.add_route('/ws/chat', chat)
    app.add_route('/ws/feed', EventFeed(broadcaster, ticker))
    return app
