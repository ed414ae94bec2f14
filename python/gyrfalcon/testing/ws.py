"""In-process WebSocket client for testing ASGI apps.

``ASGIWebSocketSimulator`` plays the client *and* the ASGI server for one
WebSocket connection: the app's ``receive`` is ``_emit()`` and its ``send`` is
``_collect()``. It is usually obtained through
``ASGIConductor.simulate_ws()``, which starts the app and wraps the simulator
in an async context manager.

It behaves like Falcon's simulator, with these differences:

* Every wait of the client side has a timeout (``wait_ready()`` and every
  ``receive_*()``), so a test never hangs on an app that does not answer.
  Waits are event-driven, not busy loops.
* Messages the app sent before it closed the connection are still delivered,
  in order, before ``receive_*()`` raises ``WebSocketDisconnected``, as on a
  real socket.
* The ASGI ``websocket.http.response`` denial extension is supported: an app
  may answer the handshake with an HTTP response of its own, exposed as
  ``denial_status``, ``denial_headers`` and ``denial_body``.
* When the app's task ends, the simulator reacts as a server would: before
  the handshake completed, the app is denied with an HTTP 500; after it was
  accepted without a close, the connection drops with code 1006.
"""

from __future__ import annotations

import asyncio
import enum
import json
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Final

import msgpack

from gyrfalcon.errors import (
    OperationNotAllowed,
    PayloadTypeError,
    WebSocketDisconnected,
    WebSocketHandlerNotFound,
    WebSocketPathNotFound,
    WebSocketServerError,
)
from gyrfalcon.util import code_to_http_status

__all__ = ['ASGIWebSocketSimulator', 'WebSocketContext']

_CLOSE_NORMAL: Final = 1000
_CLOSE_ABNORMAL: Final = 1006
_CLOSE_SERVER_ERROR: Final = 1011
_CLOSE_FORBIDDEN: Final = 3403
_CLOSE_PATH_NOT_FOUND: Final = 3404
_CLOSE_HANDLER_NOT_FOUND: Final = 3405

_DENIAL_EXTENSION: Final = 'websocket.http.response'


class _State(enum.Enum):
    CONNECT = enum.auto()
    HANDSHAKE = enum.auto()
    DENYING = enum.auto()
    ACCEPTED = enum.auto()
    DENIED = enum.auto()
    CLOSED = enum.auto()


class ASGIWebSocketSimulator:
    """A simulated WebSocket client connected to an ASGI app.

    This class is not meant to be instantiated directly; get one from
    ``ASGIConductor.simulate_ws()``.

    Args:
        _timeout: Default number of seconds for ``wait_ready()`` and for
            every ``receive_*()`` call (default ``5.0``).

    Keyword Args:
        denial_response: Whether the simulated server supports the ASGI
            ``websocket.http.response`` extension (default ``True``).
    """

    DEFAULT_TIMEOUT: Final[float] = 5.0

    def __init__(
        self, _timeout: float | None = None, *, denial_response: bool = True
    ) -> None:
        self._state = _State.CONNECT
        self._timeout = _timeout or self.DEFAULT_TIMEOUT
        self._supports_denial = denial_response

        self._close_code: int | None = None
        self._close_reason: str | None = None
        self._accepted_subprotocol: str | None = None
        self._accepted_headers: list[tuple[bytes, bytes]] | None = None
        self._denial_status: int | None = None
        self._denial_headers: list[tuple[bytes, bytes]] | None = None
        self._denial_chunks: list[bytes] = []
        self._disconnect_emitted = False

        # NOTE(gyrfalcon): Messages from the app to the client, and from the
        #   client to the app, in arrival order.
        self._from_app: deque[dict[str, Any]] = deque()
        self._to_app: deque[dict[str, Any]] = deque()
        self._waiters: set[asyncio.Future[None]] = set()

    # --- state ---------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """``True`` while the connection is accepted and not closed."""
        return self._state is _State.ACCEPTED

    @property
    def closed(self) -> bool:
        """``True`` once the app denied or closed the connection, or we did."""
        return self._state in (_State.DENIED, _State.CLOSED)

    @property
    def close_code(self) -> int | None:
        """The close code, or ``None`` while the connection is open.

        A denial by HTTP response reports ``3000 + status``; a close before
        ``accept()`` reports the app's code when it is 1011 or in the 3xxx
        range, and 3403 otherwise (a real server answers 403 and the code is
        lost).
        """
        return self._close_code

    @property
    def close_reason(self) -> str | None:
        """The close reason (``''`` if none was given), or ``None`` if open."""
        return self._close_reason

    @property
    def subprotocol(self) -> str | None:
        """The subprotocol the app accepted, or ``None``."""
        return self._accepted_subprotocol

    @property
    def headers(self) -> list[tuple[bytes, bytes]] | None:
        """The headers the app sent with ``accept()``, or ``None``.

        ``None`` until the connection has been accepted.
        """
        return self._accepted_headers

    @property
    def denial_status(self) -> int | None:
        """The HTTP status of the app's denial response, or ``None``.

        Set only when the app answered the handshake with the ASGI
        ``websocket.http.response`` extension.
        """
        return self._denial_status

    @property
    def denial_headers(self) -> list[tuple[bytes, bytes]] | None:
        """The headers of the app's denial response, or ``None``."""
        return self._denial_headers

    @property
    def denial_body(self) -> bytes | None:
        """The body of the app's denial response, or ``None``."""
        if self._denial_status is None:
            return None
        return b''.join(self._denial_chunks)

    # --- client API ----------------------------------------------------------

    async def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until the app has accepted or denied the connection.

        Args:
            timeout: Seconds to wait before giving up (default: the
                simulator's timeout, ``5.0`` unless set otherwise).

        Raises:
            TimeoutError: The app neither accepted nor denied in time.
            WebSocketDisconnected: The app denied the connection (or one of
                its subclasses: ``WebSocketPathNotFound`` for 3404,
                ``WebSocketHandlerNotFound`` for 3405,
                ``WebSocketServerError`` for 1011).
        """
        timeout = timeout or self._timeout
        await self._wait_until(
            lambda: (
                self._state not in (_State.CONNECT, _State.HANDSHAKE, _State.DENYING)
            ),
            timeout,
            f'Timed out after waiting {timeout} seconds for the WebSocket '
            f'handshake to complete. Check the on_websocket responder and any '
            f'middleware for a condition that stalls the request flow.',
        )
        self._require_accepted()

    async def close(self, code: int | None = None, reason: str | None = None) -> None:
        """Close the connection from the client side.

        Does nothing if the connection is already closed or denied.

        Args:
            code: The close code sent to the app (default ``1000``).
            reason: The close reason sent to the app (default ``''``).
        """
        # NOTE(gyrfalcon): Yield a few times first, so that a close the app
        #   is about to send (e.g. after an error) lands before ours.
        for __ in range(3):
            await asyncio.sleep(0)

        if self.closed:
            return

        self._state = _State.CLOSED
        self._close_code = _CLOSE_NORMAL if code is None else code
        self._close_reason = reason or ''
        self._wake()

    async def send_text(self, payload: str) -> None:
        """Send a TEXT message to the app.

        Args:
            payload: The text to send.

        Raises:
            TypeError: `payload` is not a ``str``.
        """
        if not isinstance(payload, str):
            raise TypeError('payload must be a string')
        await self._send({'type': 'websocket.receive', 'text': payload})

    async def send_data(self, payload: bytes | bytearray | memoryview) -> None:
        """Send a BINARY message to the app.

        Args:
            payload: The bytes to send.

        Raises:
            TypeError: `payload` is not a byte string.
        """
        if not isinstance(payload, (bytes, bytearray, memoryview)):
            raise TypeError('payload must be a byte string')
        await self._send({'type': 'websocket.receive', 'bytes': bytes(payload)})

    async def send_json(self, media: object) -> None:
        """Send `media` serialized as JSON in a TEXT message.

        Args:
            media: A JSON-serializable object.
        """
        await self.send_text(json.dumps(media))

    async def send_msgpack(self, media: object) -> None:
        """Send `media` serialized as MessagePack in a BINARY message.

        Args:
            media: A MessagePack-serializable object.
        """
        await self.send_data(msgpack.packb(media, use_bin_type=True))

    async def receive(self, *, timeout: float | None = None) -> str | bytes:
        """Receive the next message from the app, whatever its type.

        A Gyrfalcon extension of Falcon's simulator.

        Args:
            timeout: Seconds to wait for a message (default: the
                simulator's timeout).

        Returns:
            The text of a TEXT message, or the payload of a BINARY one.

        Raises:
            WebSocketDisconnected: The connection is closed and no message
                is left.
            TimeoutError: No message arrived in time.
        """
        event = await self._receive(timeout)
        text = event.get('text')
        return str(text) if text is not None else bytes(event['bytes'])

    async def receive_text(self, *, timeout: float | None = None) -> str:
        """Receive the next message from the app, expecting TEXT.

        Args:
            timeout: Seconds to wait for a message (default: the
                simulator's timeout).

        Returns:
            The text of the message.

        Raises:
            PayloadTypeError: The message was BINARY.
            WebSocketDisconnected: The connection is closed and no message
                is left.
            TimeoutError: No message arrived in time.
        """
        event = await self._receive(timeout)
        text = event.get('text')
        if text is None:
            raise PayloadTypeError('Expected TEXT payload but got BINARY instead')
        return str(text)

    async def receive_data(self, *, timeout: float | None = None) -> bytes:
        """Receive the next message from the app, expecting BINARY.

        Args:
            timeout: Seconds to wait for a message (default: the
                simulator's timeout).

        Returns:
            The payload of the message.

        Raises:
            PayloadTypeError: The message was TEXT.
            WebSocketDisconnected: The connection is closed and no message
                is left.
            TimeoutError: No message arrived in time.
        """
        event = await self._receive(timeout)
        data = event.get('bytes')
        if data is None:
            raise PayloadTypeError('Expected BINARY payload but got TEXT instead')
        return bytes(data)

    async def receive_json(self, *, timeout: float | None = None) -> Any:
        """Receive a TEXT message and deserialize it as JSON.

        Args:
            timeout: Seconds to wait for a message.

        Returns:
            The deserialized object.
        """
        return json.loads(await self.receive_text(timeout=timeout))

    async def receive_msgpack(self, *, timeout: float | None = None) -> Any:
        """Receive a BINARY message and deserialize it as MessagePack.

        Args:
            timeout: Seconds to wait for a message.

        Returns:
            The deserialized object.
        """
        data = await self.receive_data(timeout=timeout)
        return msgpack.unpackb(data, use_list=True, raw=False)

    # --- internals: client side ------------------------------------------------

    def _wake(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def _wait_until(
        self, predicate: Callable[[], bool], timeout: float | None, message: str
    ) -> None:
        """Wait until `predicate` holds, re-checking it on every state change.

        A `timeout` of ``None`` waits without a limit; that is only used for
        the app's side of the connection.
        """
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while not predicate():
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.add(waiter)
            try:
                async with asyncio.timeout_at(deadline):
                    await waiter
            except TimeoutError as ex:
                if predicate():
                    return
                raise TimeoutError(message) from ex
            finally:
                self._waiters.discard(waiter)

    def _require_accepted(self) -> None:
        state = self._state
        if state is _State.ACCEPTED:
            return
        if state in (_State.CONNECT, _State.HANDSHAKE, _State.DENYING):
            raise OperationNotAllowed('WebSocket connection has not yet been accepted')
        if state is _State.CLOSED:
            raise WebSocketDisconnected(self._close_code, self._close_reason)

        code = self._close_code
        if code == _CLOSE_PATH_NOT_FOUND:
            raise WebSocketPathNotFound(code, self._close_reason)
        if code == _CLOSE_SERVER_ERROR:
            raise WebSocketServerError(code, self._close_reason)
        if code == _CLOSE_HANDLER_NOT_FOUND:
            raise WebSocketHandlerNotFound(code, self._close_reason)
        raise WebSocketDisconnected(code, self._close_reason)

    async def _send(self, event: dict[str, Any]) -> None:
        self._require_accepted()
        self._to_app.append(event)
        self._wake()
        # NOTE(gyrfalcon): Give the app a chance to pick the message up.
        await asyncio.sleep(0)

    async def _receive(self, timeout: float | None) -> dict[str, Any]:
        if not self._from_app:
            # NOTE(gyrfalcon): Fail at once if not accepted yet, as Falcon does,
            #   rather than wait for a handshake the caller forgot about.
            self._require_accepted()

        timeout = timeout or self._timeout
        await self._wait_until(
            lambda: bool(self._from_app) or self._state is not _State.ACCEPTED,
            timeout,
            f'Timed out after waiting {timeout} seconds for a message from the '
            f'app. Check that the app sends one, or pass a longer timeout.',
        )
        if self._from_app:
            return self._from_app.popleft()
        self._require_accepted()
        raise AssertionError('unreachable')  # pragma: no cover

    # --- internals: the app's side (ASGI receive and send) -------------------

    async def _emit(self) -> dict[str, Any]:
        """Return the next ASGI event for the app (the app's ``receive``)."""
        if self._state is _State.CONNECT:
            self._state = _State.HANDSHAKE
            return {'type': 'websocket.connect'}

        # NOTE(gyrfalcon): No timeout here: an app may wait for the client as
        #   long as it likes; the context manager bounds the app's task.
        await self._wait_until(
            lambda: bool(self._to_app) or self.closed, None, 'no timeout'
        )
        if self._to_app:
            return self._to_app.popleft()
        return self._disconnect_event()

    def _disconnect_event(self) -> dict[str, Any]:
        if self._disconnect_emitted:
            raise OperationNotAllowed(
                'The websocket.disconnect event has already been emitted, and '
                'so the app should not receive any more events: ASGI servers '
                'would block forever rather than emit it again.'
            )
        self._disconnect_emitted = True
        event: dict[str, Any] = {
            'type': 'websocket.disconnect',
            'code': self._close_code,
        }
        if self._close_reason:
            event['reason'] = self._close_reason
        return event

    async def _collect(self, event: dict[str, Any]) -> None:
        """Handle an ASGI event sent by the app (the app's ``send``)."""
        event_type = event.get('type')
        state = self._state

        if state is _State.CONNECT:
            raise OperationNotAllowed(
                'An ASGI application must receive the first websocket.connect '
                'event before attempting to send any events.'
            )
        if state is _State.HANDSHAKE:
            self._collect_handshake(event_type, event)
        elif state is _State.DENYING:
            self._collect_denial_body(event_type, event)
        elif state is _State.ACCEPTED:
            self._collect_accepted(event_type, event)
        else:
            # NOTE(gyrfalcon): ASGI 2.4: send() after the client went away
            #   raises an OSError subclass.
            raise WebSocketDisconnected(self._close_code, self._close_reason)

        self._wake()
        # NOTE(gyrfalcon): Let whatever waits on the handshake or on a message
        #   run before the app goes on (and perhaps closes).
        await asyncio.sleep(0)

    def _collect_handshake(self, event_type: object, event: dict[str, Any]) -> None:
        if event_type == 'websocket.accept':
            subprotocol = event.get('subprotocol')
            if subprotocol is not None and not isinstance(subprotocol, str):
                raise TypeError('ASGI subprotocol must be a Unicode string or None')
            headers = event.get('headers')
            if headers is not None:
                self._accepted_headers = _checked_headers(headers)
            self._accepted_subprotocol = subprotocol
            self._state = _State.ACCEPTED
        elif event_type == 'websocket.close':
            code = event.get('code') or _CLOSE_NORMAL
            reason = event.get('reason') or ''
            if code == _CLOSE_SERVER_ERROR or 3000 <= code < 4000:
                # NOTE(gyrfalcon): Codes the framework uses to report an
                #   error or an HTTP status pass through, as in Falcon.
                self._close_code = code
                self._close_reason = reason
            else:
                # NOTE(gyrfalcon): A real server answers HTTP 403 and the code
                #   is lost; report that.
                self._close_code = _CLOSE_FORBIDDEN
                self._close_reason = '403 Forbidden'
            self._state = _State.DENIED
        elif event_type == 'websocket.http.response.start':
            if not self._supports_denial:
                raise OperationNotAllowed(
                    'The server does not support the websocket.http.response '
                    'extension (it is not in scope["extensions"]).'
                )
            status = event.get('status')
            if not isinstance(status, int) or not 100 <= status <= 599:
                raise ValueError(f'Invalid HTTP status in denial response: {status!r}')
            self._denial_status = status
            self._denial_headers = _checked_headers(event.get('headers', ()))
            self._state = _State.DENYING
        else:
            raise OperationNotAllowed(
                'An ASGI application must send either websocket.accept or '
                'websocket.close before sending any other event types '
                f'(got {event_type})'
            )

    def _collect_denial_body(self, event_type: object, event: dict[str, Any]) -> None:
        if event_type != 'websocket.http.response.body':
            raise OperationNotAllowed(
                'After websocket.http.response.start, an ASGI application may '
                f'only send websocket.http.response.body (got {event_type})'
            )
        body = event.get('body', b'')
        if not isinstance(body, bytes):
            raise TypeError('ASGI body content must be a byte string')
        more_body = event.get('more_body', False)
        if not isinstance(more_body, bool):
            raise TypeError('ASGI more_body flag must be a bool')
        self._denial_chunks.append(body)
        if not more_body:
            assert self._denial_status is not None
            self._close_code = 3000 + self._denial_status
            self._close_reason = code_to_http_status(self._denial_status)
            self._state = _State.DENIED

    def _collect_accepted(self, event_type: object, event: dict[str, Any]) -> None:
        if event_type == 'websocket.close':
            self._state = _State.CLOSED
            self._close_code = event.get('code') or _CLOSE_NORMAL
            self._close_reason = event.get('reason') or ''
            return
        if event_type != 'websocket.send':
            raise OperationNotAllowed(
                'Once accepted, an ASGI application may only send websocket.send '
                f'or websocket.close (got {event_type})'
            )

        data = event.get('bytes')
        text = event.get('text')
        if (data is None) == (text is None):
            raise ValueError(
                'A websocket.send event must have exactly one of bytes or text'
            )
        if text is not None:
            if not isinstance(text, str):
                raise TypeError('websocket.send text must be a Unicode string')
            self._from_app.append({'type': 'websocket.send', 'text': text})
        else:
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise TypeError('websocket.send bytes must be a byte string')
            self._from_app.append({'type': 'websocket.send', 'bytes': bytes(data)})

    def _app_finished(self, task: asyncio.Task[Any]) -> None:
        """React to the end of the app's task as an ASGI server would.

        A server answers HTTP 500 when the app returns (or fails) before the
        handshake is complete, and drops the connection (1006) when the app
        returns without closing an accepted connection.
        """
        state = self._state
        if state in (_State.CONNECT, _State.HANDSHAKE, _State.DENYING):
            self._denial_status = 500
            self._denial_headers = []
            self._denial_chunks = []
            self._close_code = _CLOSE_SERVER_ERROR
            self._close_reason = code_to_http_status(500)
            self._state = _State.DENIED
        elif state is _State.ACCEPTED:
            self._close_code = _CLOSE_ABNORMAL
            self._close_reason = ''
            self._state = _State.CLOSED
        self._wake()


def _checked_headers(headers: Iterable[Any]) -> list[tuple[bytes, bytes]]:
    checked = []
    for pair in headers:
        name, value = pair
        if not isinstance(name, bytes) or not isinstance(value, bytes):
            raise TypeError('ASGI header names and values must be byte strings')
        checked.append((name, value))
    return checked


class WebSocketContext:
    """Async context manager returned by ``ASGIConductor.simulate_ws()``.

    Entering waits until the app accepts or denies the connection (or its
    task fails, whose exception is raised). Exiting closes the connection
    from the client side, if still open, and waits for the app's task.

    Args:
        ws: The simulator the app is connected to.
        task: The task running the app.
        close_timeout: Seconds to wait for the app's task on exit
            (default ``30.0``).
    """

    DEFAULT_CLOSE_TIMEOUT: Final[float] = 30.0

    def __init__(
        self,
        ws: ASGIWebSocketSimulator,
        task: asyncio.Task[Any],
        close_timeout: float | None = None,
    ) -> None:
        self._ws = ws
        self._task = task
        self._close_timeout = close_timeout or self.DEFAULT_CLOSE_TIMEOUT
        task.add_done_callback(ws._app_finished)

    @property
    def ws(self) -> ASGIWebSocketSimulator:
        """The simulator, also usable after entering failed with a denial."""
        return self._ws

    async def __aenter__(self) -> ASGIWebSocketSimulator:
        ready = asyncio.create_task(self._ws.wait_ready())
        try:
            # NOTE(gyrfalcon): Wait on both, so that an exception raised by the
            #   app is reported as such rather than as a timeout.
            await asyncio.wait([ready, self._task], return_when=asyncio.FIRST_COMPLETED)
            if self._task.done():
                # NOTE(gyrfalcon): The app's own exception, if any, says more
                #   than the denial it caused.
                await self._task
            await ready
        except BaseException:
            self._task.cancel()
            ready.cancel()
            # NOTE(gyrfalcon): Wait (boundedly) for both to end, and mark
            #   their exceptions retrieved: the one that matters is raised.
            await asyncio.wait([self._task, ready], timeout=self._close_timeout)
            for task in (self._task, ready):
                if task.done() and not task.cancelled():
                    task.exception()
            raise
        return self._ws

    async def __aexit__(self, *exc_info: object) -> None:
        await self._ws.close()
        try:
            await asyncio.wait_for(self._task, self._close_timeout)
        except TimeoutError as ex:
            raise TimeoutError(
                f'Timed out after waiting {self._close_timeout} seconds for the '
                f'WebSocket task to complete. Check the on_websocket responder '
                f'for a condition that keeps it from returning. (To test how a '
                f'long-running task is cancelled, pass a short timeout to '
                f'simulate_ws() and catch this TimeoutError.)'
            ) from ex
