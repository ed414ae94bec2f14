"""Who may connect: tokens, the auth middleware, the subprotocol check.

A browser cannot set headers on a WebSocket handshake, so the usual
``Authorization: Bearer ...`` is out. The page instead asks ``GET /token``
for a short-lived signed token and passes it in the query string of the
WebSocket URL (``/ws/chat?token=...``). ``TokenMiddleware`` checks it in
``process_request_ws()``, before routing, for every WebSocket route.

Why a token in the URL rather than a cookie: a page on another site can
open a WebSocket to this server, and the browser would attach this site's
cookies to it (cross-site WebSocket hijacking), whereas it cannot read a
token that only this site's pages obtain. Query strings do end up in access
logs, so the tokens expire quickly.

Refusals are HTTP errors raised by the middleware or the responder
(``falcon.HTTPUnauthorized``, ``falcon.HTTPBadRequest``). ``deny_handshake()``,
added as the app's error handler for ``HTTPError``, turns such an error into
a real HTTP response to the handshake with ``ws.deny()``: the client sees
``401`` with the error's JSON body, where a plain close before ``accept()``
could only ever give it ``403``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

import gyrfalcon as falcon
from gyrfalcon.asgi import Request, Response, WebSocket

__all__ = [
    'SUBPROTOCOL',
    'TokenIssuer',
    'TokenMiddleware',
    'TokenResource',
    'accept',
    'deny_handshake',
]

SUBPROTOCOL = 'gyrfalcon.demo.v1'
"""The subprotocol the demo's WebSocket endpoints speak (JSON messages)."""

_NAME = re.compile(r'[A-Za-z0-9_.-]{1,24}')


class TokenIssuer:
    """Issue and check signed, expiring tokens that carry a user name.

    A token is ``<payload>.<signature>``: the payload is the name and the
    expiry time as base64url JSON, the signature its HMAC-SHA256 under a
    secret key. Checking needs no storage, only the key.

    Args:
        ttl: How long a token stays valid, in seconds.
        secret: The signing key (default: random, so tokens die with the
            process; give every process the same key to share them).
        clock: Returns the current Unix time (replaceable in tests).
    """

    def __init__(
        self,
        ttl: float = 3600.0,
        secret: bytes | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ttl = ttl
        self._secret = secret if secret is not None else secrets.token_bytes(32)
        self._clock = clock

    def issue(self, name: str) -> str:
        """Return a token for `name`, valid for ``ttl`` seconds."""
        claims = {'name': name, 'exp': int(self._clock() + self.ttl)}
        payload = _b64encode(json.dumps(claims, separators=(',', ':')).encode())
        return f'{payload}.{self._sign(payload)}'

    def verify(self, token: str | None) -> str | None:
        """Return the name a valid token carries, or ``None``.

        A token is invalid when it is missing, malformed, signed with another
        key or expired.
        """
        if not token or token.count('.') != 1:
            return None
        payload, signature = token.split('.')
        # APPSEC(gyrfalcon): Compare signatures in constant time, so that the
        #   time taken does not leak how much of a forged one is right.
        expected = self._sign(payload)
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            return None
        try:
            claims = json.loads(_b64decode(payload))
        except ValueError:
            return None
        if not isinstance(claims, dict) or claims.get('exp', 0) < self._clock():
            return None
        name = claims.get('name')
        return name if isinstance(name, str) else None

    def _sign(self, payload: str) -> str:
        digest = hmac.new(self._secret, payload.encode(), hashlib.sha256).digest()
        return _b64encode(digest)


class TokenResource:
    """``GET /token?name=alice``: a token for the WebSocket endpoints.

    Args:
        issuer: Issues the tokens.
    """

    def __init__(self, issuer: TokenIssuer) -> None:
        self._issuer = issuer

    async def on_get(self, req: Request, resp: Response) -> None:
        """Issue a token for the name given (a random guest name if none)."""
        name = req.get_param('name') or f'guest-{secrets.randbelow(10000):04d}'
        if not _NAME.fullmatch(name):
            raise falcon.HTTPBadRequest(
                title='Invalid name',
                description='Use 1 to 24 letters, digits, ".", "_" or "-".',
            )
        resp.media = {
            'name': name,
            'token': self._issuer.issue(name),
            'expires_in': int(self._issuer.ttl),
        }
        # Tokens are credentials: no cache may keep them.
        resp.cache_control = ['no-store']


class TokenMiddleware:
    """Require a valid token on every WebSocket handshake.

    Sets ``req.context.user`` to the token's name for the responders.

    Args:
        issuer: Checks the tokens.
    """

    def __init__(self, issuer: TokenIssuer) -> None:
        self._issuer = issuer

    async def process_request_ws(self, req: Request, ws: WebSocket) -> None:
        """Check the handshake's token before routing.

        Raises:
            HTTPUnauthorized: The token is missing, invalid or expired; the
                handshake is answered with 401 (see ``deny_handshake()``).
        """
        name = self._issuer.verify(req.get_param('token'))
        if name is None:
            # Raising stops the request here: neither routing nor the
            # responder runs.
            raise falcon.HTTPUnauthorized(
                title='Token required',
                description='Get one from GET /token and pass it as ?token=...',
                challenges=['Bearer'],
            )
        req.context.user = name


async def accept(ws: WebSocket) -> None:
    """Accept a handshake that offers the demo's subprotocol.

    Args:
        ws: The connection, not yet accepted.

    Raises:
        HTTPBadRequest: The client does not offer ``gyrfalcon.demo.v1``; the
            handshake is answered with 400 (see ``deny_handshake()``).
    """
    # ws.subprotocols lists what the client offered (Sec-WebSocket-Protocol),
    # in its order of preference. Accepting names the one we speak, and the
    # client learns it from the handshake response.
    if SUBPROTOCOL not in ws.subprotocols:
        raise falcon.HTTPBadRequest(
            title='Unsupported subprotocol',
            description=f'This endpoint speaks the {SUBPROTOCOL} subprotocol.',
        )
    await ws.accept(subprotocol=SUBPROTOCOL)


async def deny_handshake(
    req: Request,
    resp: Response | None,
    ex: falcon.HTTPError,
    params: dict[str, Any],
    ws: WebSocket | None = None,
) -> None:
    """Answer an ``HTTPError`` raised before ``accept()`` with a real response.

    Added with ``app.add_error_handler(falcon.HTTPError, deny_handshake)``.
    For plain HTTP requests, and for WebSocket connections already accepted,
    it re-raises the error, which gives the framework's default handling (an
    error response, or a close with code 3000 + status).

    Args:
        req: The request (for a WebSocket, its handshake).
        resp: The HTTP response, or ``None`` for a WebSocket.
        ex: The error raised.
        params: The URI template fields.
        ws: The WebSocket connection, if the request is a handshake.

    Raises:
        HTTPError: `ex` itself, when there is no handshake to deny.
    """
    if ws is None or not ws.unaccepted:
        raise ex
    headers = ex.headers or ()
    if isinstance(headers, Mapping):
        headers = headers.items()
    await ws.deny(
        ex.status_code,
        headers=[*headers, ('Content-Type', falcon.MEDIA_JSON)],
        body=ex.to_json(),
    )


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))
