"""A resource and hooks for functional tests of middleware, hooks and apps.

``SimpleTestResource`` answers ``GET`` and ``POST`` with configurable
defaults, and remembers the arguments of its last call::

    from gyrfalcon import testing

    resource = testing.SimpleTestResource(json={'message': 'hi'})
    app.add_route('/', resource)
    testing.TestClient(app).simulate_get('/', params={'q': 1})
    assert resource.called and resource.captured_req.get_param('q') == '1'

Gyrfalcon apps are ASGI apps, so the hooks are coroutine functions and the
responders are coroutines. Falcon's ``*_async`` names are aliases of the
same objects, so that ported tests keep working.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

from gyrfalcon.hooks import before

if TYPE_CHECKING:
    from gyrfalcon.asgi.request import Request
    from gyrfalcon.asgi.response import Response

__all__ = [
    'SimpleTestResource',
    'SimpleTestResourceAsync',
    'capture_responder_args',
    'capture_responder_args_async',
    'set_resp_defaults',
    'set_resp_defaults_async',
]


async def capture_responder_args(
    req: Request, resp: Response, resource: object, params: Mapping[str, Any]
) -> None:
    """Before hook that records the responder's arguments on the resource.

    Sets ``captured_req``, ``captured_resp`` and ``captured_kwargs`` on the
    resource. If the request has a ``capture-req-body-bytes`` header, that
    many bytes of the body are read into ``captured_req_body``; otherwise,
    if it has a ``capture-req-media`` header, the deserialized body goes to
    ``captured_req_media``.
    """
    captured = cast(SimpleTestResource, resource)
    captured.captured_req = req
    captured.captured_resp = resp
    captured.captured_kwargs = params
    captured.captured_req_media = None
    captured.captured_req_body = None

    num_bytes = req.get_header('capture-req-body-bytes')
    if num_bytes:
        captured.captured_req_body = await req.stream.read(int(num_bytes))
    elif req.get_header('capture-req-media'):
        captured.captured_req_media = await req.get_media()


async def set_resp_defaults(
    req: Request, resp: Response, resource: object, params: Mapping[str, Any]
) -> None:
    """Before hook that applies the resource's default status, body and headers.

    Reads ``_default_status``, ``_default_body`` and ``_default_headers``
    from the resource; ``None`` leaves the response as it is.
    """
    defaults = cast(SimpleTestResource, resource)
    if defaults._default_status is not None:
        resp.status = defaults._default_status
    if defaults._default_body is not None:
        resp.text = defaults._default_body
    if defaults._default_headers is not None:
        resp.set_headers(defaults._default_headers)


capture_responder_args_async = capture_responder_args
set_resp_defaults_async = set_resp_defaults


class SimpleTestResource:
    """A resource for functional tests of framework components.

    Its ``on_get()`` and ``on_post()`` responders do nothing but run the
    ``capture_responder_args`` and ``set_resp_defaults`` hooks. Subclasses
    may add responders decorated with the same hooks.

    Args:
        status: Default response status.
        body: Default response body.
        json: Default response body, serialized as JSON; not together with
            `body`.
        headers: Default extra response headers.

    Attributes:
        captured_req: The request of the last call, or ``None``.
        captured_resp: The response of the last call, or ``None``.
        captured_kwargs: The URI template fields of the last call.
        captured_req_media: The request media, if asked for by the
            ``capture-req-media`` header.
        captured_req_body: The request body, if asked for by the
            ``capture-req-body-bytes`` header.

    Raises:
        ValueError: Both `body` and `json` were given.
    """

    def __init__(
        self,
        status: str | int | None = None,
        body: str | None = None,
        json: Any | None = None,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    ) -> None:
        if json is not None:
            if body is not None:
                raise ValueError('Either json or body may be specified, but not both')
            body = _json_dumps(json)

        self._default_status = status
        self._default_body = body
        self._default_headers = headers

        self.captured_req: Request | None = None
        self.captured_resp: Response | None = None
        self.captured_kwargs: Mapping[str, Any] | None = None
        self.captured_req_media: Any | None = None
        self.captured_req_body: bytes | None = None

    @property
    def called(self) -> bool:
        """Whether a responder has been called."""
        return self.captured_req is not None

    @before(capture_responder_args)
    @before(set_resp_defaults)
    async def on_get(self, req: Request, resp: Response, **kwargs: Any) -> None:
        """Respond with the defaults."""

    @before(capture_responder_args)
    @before(set_resp_defaults)
    async def on_post(self, req: Request, resp: Response, **kwargs: Any) -> None:
        """Respond with the defaults."""


SimpleTestResourceAsync = SimpleTestResource


def _json_dumps(media: Any) -> str:
    return json.dumps(media, ensure_ascii=False)
