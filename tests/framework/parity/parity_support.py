"""Run one scenario on Falcon 4.4 and on Gyrfalcon, and compare the results.

A scenario is written once, against a ``Framework``: ``fw.falcon`` is the
top-level module (``falcon`` or ``gyrfalcon``), ``fw.asgi``, ``fw.media`` and
``fw.testing`` its submodules. Each framework is driven by its *own* testing
client, as a ported test suite would be.

What may legitimately differ, and is therefore not compared as bytes:

* JSON bodies: Gyrfalcon's JSON handler writes compact JSON (orjson), Falcon
  writes ``json.dumps()`` output with spaces. JSON bodies and JSON TEXT
  messages are compared as decoded values, and ``Content-Length`` is left
  out for JSON responses.
* Non-finite floats in JSON: orjson writes ``null`` where ``json.dumps()``
  writes ``Infinity``/``NaN`` (documented in ``gyrfalcon.media.json``); no
  scenario serializes them.
* The expiry of a deleted cookie: Falcon sets ``Expires`` to a second ago,
  Gyrfalcon to the Unix epoch with ``Max-Age=0``; both delete it. Cookies
  are compared parsed, with such an expiry as "expired".
* Server-sent events: JSON data is compact, as above, and text data with
  line breaks is written as one ``data:`` line per line, as the SSE format
  requires; Falcon writes the line breaks raw, which loses the rest of the
  text (``test_sse_differences`` pins both).
* ``User-Agent``: each testing client names its own framework, so a response
  that echoes it differs (no scenario echoes it).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import gc
import json
import warnings
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import Any

import falcon
import falcon.asgi
import falcon.media
import falcon.testing

import gyrfalcon
import gyrfalcon.asgi
import gyrfalcon.media
import gyrfalcon.testing

JSON_HEADERS_IGNORED = frozenset(['content-length'])
"""Headers left out of the comparison of JSON responses (whitespace differs)."""

HEADERS_IGNORED = frozenset(['set-cookie'])
"""Headers compared otherwise: cookies are compared parsed, in ``cookies``."""


@dataclasses.dataclass(frozen=True)
class Framework:
    """The modules of one framework, as a scenario sees them."""

    name: str
    falcon: ModuleType
    asgi: ModuleType
    media: ModuleType
    testing: ModuleType


FALCON = Framework('falcon', falcon, falcon.asgi, falcon.media, falcon.testing)
GYRFALCON = Framework(
    'gyrfalcon', gyrfalcon, gyrfalcon.asgi, gyrfalcon.media, gyrfalcon.testing
)
FRAMEWORKS = (FALCON, GYRFALCON)


def is_json(content_type: str | None) -> bool:
    return bool(content_type) and 'json' in str(content_type)


def http_record(result: Any) -> dict[str, Any]:
    """What a client can observe of an HTTP response, normalised."""
    body: Any = result.content
    json_body = is_json(result.content_type) and bool(body)
    if json_body:
        try:
            body = json.loads(body)
        except ValueError:
            json_body = False
    json_type = is_json(result.content_type)
    headers = {
        name.lower(): value
        for name, value in result.headers.items()
        if name.lower() not in HEADERS_IGNORED
        and not (json_type and name.lower() in JSON_HEADERS_IGNORED)
    }
    return {
        'status': result.status,
        'headers': headers,
        'body': body,
        'cookies': {
            name: cookie_record(cookie) for name, cookie in result.cookies.items()
        },
    }


def cookie_record(cookie: Any) -> tuple[Any, ...]:
    """A cookie's attributes; a deleted cookie's expiry is just "expired"."""
    expires: Any = cookie.expires
    max_age = cookie.max_age
    now = datetime.datetime.now(datetime.UTC)
    if max_age == 0 or (expires is not None and expires <= now):
        expires = max_age = 'expired'
    return (
        cookie.value,
        cookie.path,
        cookie.domain,
        max_age,
        expires,
        cookie.secure,
        cookie.http_only,
        cookie.same_site,
    )


def run_http(
    build: Callable[[Framework], Any],
    requests: list[tuple[str, str, dict[str, Any]]],
) -> dict[str, list[dict[str, Any]]]:
    """Send `requests` to the app `build` makes, on each framework."""
    records: dict[str, list[dict[str, Any]]] = {}
    for fw in FRAMEWORKS:
        client = fw.testing.TestClient(build(fw))
        with warnings.catch_warnings():
            if fw is FALCON:
                # NOTE: Falcon 4.4 leaves the file of a static route open on
                #   HEAD; that is not ours to report (Gyrfalcon's side still
                #   runs with warnings as errors).
                warnings.simplefilter('ignore', ResourceWarning)
            records[fw.name] = [
                http_record(client.simulate_request(method, path, **kwargs))
                for method, path, kwargs in requests
            ]
            if fw is FALCON:
                gc.collect()
    return records


Transcript = list[Any]
Conversation = Callable[[Framework, Any, Transcript], Awaitable[None]]


async def run_ws(
    build: Callable[[Framework], Any],
    conversation: Conversation,
    path: str = '/',
    **kwargs: Any,
) -> dict[str, Transcript]:
    """Hold the same conversation with the app on each framework.

    ``conversation(fw, ws, transcript)`` talks through the framework's own
    simulator and appends what it observes. Entering the connection, and
    the close code and reason at the end, are recorded here. Each framework
    gets 10 seconds (Falcon's simulator waits forever for a message that
    never comes).
    """
    transcripts: dict[str, Transcript] = {}
    for fw in FRAMEWORKS:
        transcript: Transcript = []
        transcripts[fw.name] = transcript
        app = build(fw)

        async def talk(fw: Framework = fw, app: Any = app) -> None:
            transcript = transcripts[fw.name]
            async with fw.testing.ASGIConductor(app) as conductor:
                try:
                    async with conductor.simulate_ws(path, **kwargs) as ws:
                        transcript.append(('accepted', ws.subprotocol, ws.headers))
                        await conversation(fw, ws, transcript)
                        for __ in range(10):
                            await asyncio.sleep(0)
                    transcript.append(('closed', ws.close_code, ws.close_reason))
                except fw.falcon.WebSocketDisconnected as ex:
                    transcript.append(('denied', type(ex).__name__, ex.code))

        await asyncio.wait_for(talk(), 10)
    return transcripts


async def receive(fw: Framework, ws: Any, kind: str) -> Any:
    """Receive one message of `kind` (text, data, json, msgpack), or its error."""
    try:
        return (kind, await getattr(ws, 'receive_' + kind)())
    except fw.falcon.WebSocketDisconnected as ex:
        return ('disconnected', ex.code)
    except fw.falcon.PayloadTypeError:
        return ('wrong type', kind)
