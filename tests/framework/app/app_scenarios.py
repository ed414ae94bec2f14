"""Run one App scenario on Falcon 4.4 and on Gyrfalcon, and compare the answers.

A scenario is a function that builds an app from a framework module (``falcon``
or ``gyrfalcon``), using only the API both share. ``compare()`` sends the
same requests to both apps and checks that the answers are the same: status,
headers, and body (JSON bodies are compared parsed, since the JSON encoders
may space their output differently). It returns Gyrfalcon's answers, so that
a test also asserts what the answer *is*.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any, NamedTuple

import falcon
import falcon.asgi
import falcon.testing

import gyrfalcon
import gyrfalcon.asgi
import gyrfalcon.testing


class Framework(NamedTuple):
    """A framework under test: its top-level module and its testing module."""

    name: str
    module: ModuleType
    testing: ModuleType

    def app(self, **kwargs: Any) -> Any:
        return self.module.asgi.App(**kwargs)


FALCON = Framework('falcon', falcon, falcon.testing)
GYRFALCON = Framework('gyrfalcon', gyrfalcon, gyrfalcon.testing)


class Answer(NamedTuple):
    """A normalized HTTP response."""

    status: int
    headers: dict[str, str]
    body: Any


# NOTE(gyrfalcon): The JSON encoders space their output differently, which
#   changes the length; each side's length is checked against its own body
#   (except for HEAD, whose length is the one GET would have).
_SELF_CHECKED = frozenset(['content-length'])


def _answer(result: Any, method: str) -> Answer:
    headers = {name.lower(): value for name, value in result.headers.items()}
    body: Any = result.content
    length = headers.get('content-length')
    if length is not None and method != 'HEAD':
        assert int(length) == len(body)
    if body and 'json' in headers.get('content-type', ''):
        try:
            body = json.loads(body)
        except ValueError:
            pass
    return Answer(
        result.status_code,
        {k: v for k, v in headers.items() if k not in _SELF_CHECKED},
        body,
    )


Request = tuple[str, str] | tuple[str, str, dict[str, Any]]


def ask(framework: Framework, app: Any, request: Request) -> Answer:
    """Send one request through a framework's own TestClient."""
    method, path, *rest = request
    kwargs = rest[0] if rest else {}
    client = framework.testing.TestClient(app)
    return _answer(client.simulate_request(method, path, **kwargs), method)


def compare(build: Callable[[Framework], Any], *requests: Request) -> list[Answer]:
    """Answer the requests with both frameworks and check they agree.

    Args:
        build: Builds the app for a framework.
        *requests: ``(method, path)`` or ``(method, path, simulate_kwargs)``.

    Returns:
        Gyrfalcon's answers, in order.
    """
    theirs_app = build(FALCON)
    ours_app = build(GYRFALCON)
    answers = []
    for request in requests:
        theirs = ask(FALCON, theirs_app, request)
        ours = ask(GYRFALCON, ours_app, request)
        assert ours == theirs, request
        answers.append(ours)
    return answers


async def converse(
    app: Any,
    path: str = '/',
    messages: tuple[dict[str, Any], ...] = (),
    *,
    spec: str = '2.3',
    extensions: dict[str, Any] | None = None,
    first: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Run one WebSocket connection through an app, over raw ASGI.

    The client sends ``websocket.connect`` (or `first`), then `messages`;
    when it has nothing more to say, it waits until the app closes (or
    denies) and then reports the disconnect, as a server would.

    Returns:
        The events the app sent, in order.
    """
    import asyncio

    inbound = [first or {'type': 'websocket.connect'}, *messages]
    sent: list[dict[str, Any]] = []
    finished = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if inbound:
            return inbound.pop(0)
        await finished.wait()
        return {'type': 'websocket.disconnect', 'code': 1000}

    async def send(event: dict[str, Any]) -> None:
        sent.append(event)
        if event['type'] == 'websocket.close' or (
            event['type'] == 'websocket.http.response.body'
            and not event.get('more_body')
        ):
            finished.set()

    scope = {
        'type': 'websocket',
        'asgi': {'version': '3.0', 'spec_version': spec},
        'http_version': '1.1',
        'scheme': 'ws',
        'path': path,
        'raw_path': path.encode(),
        'query_string': b'',
        'root_path': '',
        'headers': [(b'host', b'example.com')],
        'client': ('127.0.0.1', 5555),
        'server': ('example.com', 80),
        'subprotocols': [],
        'extensions': extensions or {},
    }
    await app(scope, receive, send)
    return sent
