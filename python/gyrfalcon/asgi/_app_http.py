"""HTTP dispatch of the ASGI App: middleware, responder, then the response.

The order follows Falcon: ``process_request()`` of every middleware (or up
to the one that sets ``resp.complete``), routing, ``process_resource()``,
the responder, then ``process_response()`` in reverse order. The response is
then sent as ``http.response.start`` plus one ``http.response.body`` for a
plain body, or several (``more_body``) for ``resp.stream`` and ``resp.sse``.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any, ClassVar

from gyrfalcon.asgi.structures import SSEvent
from gyrfalcon.constants import MEDIA_JSON
from gyrfalcon.errors import HTTPBadRequest

if TYPE_CHECKING:
    from gyrfalcon.app_helpers import PreparedMiddlewareResult

__all__ = ('HttpDispatch',)

AsgiEvent = MutableMapping[str, Any]
AsgiReceive = Callable[[], Awaitable[AsgiEvent]]
AsgiSend = Callable[[AsgiEvent], Awaitable[None]]

_BODILESS_STATUS_CODES = frozenset((100, 101, 204, 304))
_TYPELESS_STATUS_CODES = frozenset((204, 304))
_EVENT_BODY_END: AsgiEvent = {'type': 'http.response.body'}
_STREAM_BLOCK_SIZE = 8 * 1024


class HttpDispatch:
    """The HTTP half of the App (a mixin of ``App``)."""

    _META_METHODS: ClassVar[frozenset[str]]
    _STREAM_BLOCK_SIZE: ClassVar[int] = _STREAM_BLOCK_SIZE
    _independent_middleware: bool
    _middleware: PreparedMiddlewareResult
    _request_type: Any
    _response_type: Any
    req_options: Any
    resp_options: Any

    if TYPE_CHECKING:

        def _get_responder(
            self, req: Any
        ) -> tuple[Callable[..., Any], dict[str, Any], object, str | None]: ...

        async def _handle_exception(
            self, req: Any, resp: Any, ex: Exception, params: dict[str, Any]
        ) -> bool: ...

        def _report(
            self, req: Any, ex: BaseException, params: Any, handled: bool
        ) -> None: ...

    async def _handle_http(
        self, scope: MutableMapping[str, Any], receive: AsgiReceive, send: AsgiSend
    ) -> None:
        first_event = await receive()
        if first_event['type'] == 'http.disconnect':
            return
        req = self._request_type(
            scope, receive, first_event=first_event, options=self.req_options
        )
        resp = self._response_type(options=self.resp_options)
        resource: object = None
        params: dict[str, Any] = {}
        responder: Callable[..., Any] | None = None
        dependent_responses: list[Callable[..., Any]] = []
        req_succeeded = False

        try:
            if req.method in self._META_METHODS:
                raise HTTPBadRequest()
            await self._process_request(req, resp, dependent_responses)
            if not resp.complete:
                responder, params, resource, req.uri_template = self._get_responder(req)
        except Exception as ex:
            if not await self._handle_exception(req, resp, ex, params):
                raise
        else:
            try:
                if resource:
                    for process_resource in self._middleware[1]:
                        await process_resource(req, resp, resource, params)
                        if resp.complete:
                            break
                if not resp.complete and responder is not None:
                    await responder(req, resp, **params)
                req_succeeded = True
            except Exception as ex:
                if not await self._handle_exception(req, resp, ex, params):
                    raise

        await self._process_response(
            req, resp, resource, params, req_succeeded, dependent_responses
        )
        await self._respond(req, resp, params, receive, send)

    async def _process_request(
        self, req: Any, resp: Any, dependent_responses: list[Callable[..., Any]]
    ) -> None:
        if self._independent_middleware:
            for process_request in self._middleware[0]:
                await process_request(req, resp)
                if resp.complete:
                    break
            return
        # NOTE(gyrfalcon): With dependent middleware, a component's
        #   process_response() only runs if its process_request() (and every
        #   earlier one) did.
        for process_request, process_response in self._middleware[0]:
            if process_request and not resp.complete:
                await process_request(req, resp)
            if process_response:
                dependent_responses.insert(0, process_response)

    async def _process_response(
        self,
        req: Any,
        resp: Any,
        resource: object,
        params: dict[str, Any],
        req_succeeded: bool,
        dependent_responses: list[Callable[..., Any]],
    ) -> None:
        for process_response in self._middleware[2] or dependent_responses:
            try:
                await process_response(req, resp, resource, req_succeeded)
            except Exception as ex:
                if not await self._handle_exception(req, resp, ex, params):
                    raise
                req_succeeded = False

    async def _respond(
        self,
        req: Any,
        resp: Any,
        params: dict[str, Any],
        receive: AsgiReceive,
        send: AsgiSend,
    ) -> None:
        data: bytes | None = b''
        try:
            data = await resp.render_body()
        except Exception as ex:
            if not await self._handle_exception(req, resp, ex, params):
                raise
            # NOTE(gyrfalcon): As Falcon does, the error status and headers
            #   the handler composed go out with an empty body (rendering
            #   the error's own body could fail the same way).
            data = b''

        try:
            status = resp.status_code
            media_type: str | None = self.resp_options.default_media_type
            is_head = req.method == 'HEAD'
            if is_head or status in _BODILESS_STATUS_CODES:
                if status in _TYPELESS_STATUS_CODES:
                    media_type = None
                elif (
                    is_head
                    and (data is not None or not resp.stream)
                    and status not in _BODILESS_STATUS_CODES
                    and resp.get_header('Content-Length') is None
                ):
                    # NOTE(gyrfalcon): HEAD reports the length GET would have.
                    resp.set_header('Content-Length', str(len(data)) if data else '0')
                await send(
                    {
                        'type': 'http.response.start',
                        'status': status,
                        'headers': resp._asgi_headers(media_type),
                    }
                )
                await send(_EVENT_BODY_END)
                await _close_unsent_stream(resp)
                self._schedule_callbacks(resp)
                return

            # NOTE(gyrfalcon): Server-sent events take precedence over data.
            if data is not None and not resp.sse:
                # NOTE(gyrfalcon): Always set the length to the body's; a
                #   mismatch makes proxies drop connections.
                resp.set_header('Content-Length', str(len(data)))
                await send(
                    {
                        'type': 'http.response.start',
                        'status': status,
                        'headers': resp._asgi_headers(media_type),
                    }
                )
                await send({'type': 'http.response.body', 'body': data})
                await _close_unsent_stream(resp)
                self._schedule_callbacks(resp)
                return
        except Exception as ex:
            self._report(req, ex, params, False)
            raise

        if resp.sse:
            await self._send_sse(resp, status, receive, send)
        else:
            await self._send_stream(resp, status, media_type, send)

    async def _send_stream(
        self, resp: Any, status: int, media_type: str | None, send: AsgiSend
    ) -> None:
        stream = resp.stream
        if not stream:
            resp.set_header('Content-Length', '0')
        await send(
            {
                'type': 'http.response.start',
                'status': status,
                'headers': resp._asgi_headers(media_type),
            }
        )
        if stream:
            try:
                if hasattr(stream, 'read'):
                    while True:
                        chunk = await stream.read(self._STREAM_BLOCK_SIZE)
                        if chunk == b'':
                            break
                        await send(
                            {
                                'type': 'http.response.body',
                                'body': chunk or b'',
                                'more_body': True,
                            }
                        )
                else:
                    await self._send_iterable(stream, send)
            finally:
                if hasattr(stream, 'close'):
                    await stream.close()
        await send(_EVENT_BODY_END)
        self._schedule_callbacks(resp)

    async def _send_iterable(self, stream: Any, send: AsgiSend) -> None:
        try:
            async for chunk in stream:
                # NOTE(gyrfalcon): A None chunk ends the body, as in Falcon.
                if chunk is None:
                    break
                await send(
                    {'type': 'http.response.body', 'body': chunk, 'more_body': True}
                )
        except TypeError as ex:
            if inspect.isasyncgenfunction(stream):
                raise TypeError(
                    'The object assigned to Response.stream appears to be an async '
                    'generator function. A generator object is expected instead. '
                    'This can be obtained simply by calling the generator '
                    'function, e.g.: resp.stream = some_asyncgen_function()'
                ) from ex
            raise TypeError(
                'Response.stream must be a generator or implement an __aiter__ '
                'method. Error raised while iterating over Response.stream: ' + str(ex)
            ) from ex

    async def _send_sse(
        self, resp: Any, status: int, receive: AsgiReceive, send: AsgiSend
    ) -> None:
        emitter = resp.sse
        if inspect.isasyncgenfunction(emitter):
            raise TypeError(
                'Response.sse must be an async iterable. This can be obtained by '
                'simply executing the async generator function and then setting '
                'the result to Response.sse, e.g.: '
                'resp.sse = some_asyncgen_function()'
            )

        # NOTE(gyrfalcon): After a disconnect, send() silently does nothing
        #   (ASGI < 2.4), so a separate task watches receive() for it.
        async def watch_disconnect() -> None:
            while (await receive())['type'] != 'http.disconnect':
                pass

        watcher = asyncio.get_running_loop().create_task(watch_disconnect())
        try:
            await send(
                {
                    'type': 'http.response.start',
                    'status': status,
                    'headers': resp._asgi_headers('text/event-stream'),
                }
            )
            self._schedule_callbacks(resp)
            handler, _, _ = self.resp_options.media_handlers._resolve(
                MEDIA_JSON, MEDIA_JSON, raise_not_found=False
            )
            async for event in emitter:
                await send(
                    {
                        'type': 'http.response.body',
                        'body': (event or SSEvent()).serialize(handler),
                        'more_body': True,
                    }
                )
                if watcher.done():
                    break
        finally:
            watcher.cancel()
            try:
                await watcher
            except asyncio.CancelledError:
                pass
        await send(_EVENT_BODY_END)

    def _schedule_callbacks(self, resp: Any) -> None:
        callbacks = resp._registered_callbacks
        if not callbacks:
            return
        loop = asyncio.get_running_loop()
        for callback, is_async in callbacks:
            if is_async:
                loop.create_task(callback())
            else:
                loop.run_in_executor(None, callback)


async def _close_unsent_stream(resp: Any) -> None:
    """Close ``resp.stream`` when the response went out without it.

    A HEAD request, a bodiless status, or a body set with ``text``, ``data``
    or ``media`` leaves the stream unread (e.g. the open file of a static
    route), and it would otherwise leak until collected.
    """
    stream = resp.stream
    close = getattr(stream, 'close', None) if stream is not None else None
    if close is not None:
        result = close()
        if inspect.isawaitable(result):
            await result
