"""The WebSocket facade handed to ``on_websocket(req, ws)`` responders.

``send_data()``/``receive_data()`` carry BINARY messages (the engine calls
the same operation ``send_binary``); ``send_text()``/``receive_text()`` carry
TEXT messages; ``send_media()``/``receive_media()`` go through the media
handlers of ``app.ws_options`` (JSON for TEXT, MessagePack for BINARY).

Beyond Falcon 4.4, the facade offers ``deny()`` (an HTTP response instead of
the handshake, over the ASGI ``websocket.http.response`` extension),
``close_code``/``close_reason``, ``async for`` iteration with ``iter_text()``,
``iter_data()`` and ``iter_media()``, a send lock (concurrent sends are
serialised), ``OperationNotAllowed`` for concurrent receives, and strict
close-code and reason validation. A disconnect without a code reports 1005.

Every ASGI ``receive``/``send`` goes through ``_receive_event()`` and
``_send_event()``. On a Gyrfalcon server adapter that offers the
``gyrfalcon.engine`` channel (see ``gyrfalcon.server.fastpath``), and when no
ASGI middleware wraps ``receive`` or ``send``, messages bypass them: the
``receive_*()`` and ``send_*()`` methods exchange ``str`` and ``bytes`` with
the engine directly, and the disconnect state comes from the channel, so the
receive pump is not started. The handshake and the close still go through
ASGI messages. ``docs/topics/fast-path.md`` describes both paths.
"""

from __future__ import annotations

import asyncio
import enum
import re
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any

from gyrfalcon import errors
from gyrfalcon.asgi._ws_options import (
    WebSocketOptions,
    http_status_to_ws_code,
    supports_reason,
)
from gyrfalcon.asgi._ws_receiver import (
    AsgiEvent,
    AsgiReceive,
    BufferedReceiver,
    disconnect_code,
)
from gyrfalcon.constants import WebSocketPayloadType
from gyrfalcon.server.fastpath import EngineChannel, get_channel
from gyrfalcon.util.misc import code_to_http_status, http_status_to_code

__all__ = ('WebSocket', 'WebSocketOptions', 'http_status_to_ws_code')

AsgiSend = Callable[[AsgiEvent], Awaitable[None]]
HeaderArg = Mapping[str, str] | Iterable[tuple[str, str]]

_CLOSE_NORMAL = 1000
_CLOSE_NO_STATUS = 1005
_MAX_REASON_BYTES = 123
_DENIAL_EXTENSION = 'websocket.http.response'
_CLIENT_CLOSE_CAUSE = re.compile(r'received (\d\d\d\d)')


class _State(enum.Enum):
    HANDSHAKE = enum.auto()
    ACCEPTED = enum.auto()
    CLOSED = enum.auto()


# PERF(gyrfalcon): Module globals; an Enum attribute lookup costs ~50 ns.
_HANDSHAKE = _State.HANDSHAKE
_ACCEPTED = _State.ACCEPTED
_CLOSED = _State.CLOSED
_TEXT = WebSocketPayloadType.TEXT
_BINARY = WebSocketPayloadType.BINARY
# How many waiting messages the fast path takes in a row before it lets the
# event loop run other tasks.
_RUN_LIMIT = 64


def validate_close_code(code: object) -> int:
    """Check that a close code may be sent by an endpoint (RFC 6455 §7.4).

    Args:
        code: The candidate code.

    Returns:
        The code.

    Raises:
        ValueError: It is not an ``int``, or not in 1000-1003, 1007-1014 or
            3000-4999 (1004-1006 and 1015 are reserved for reports, and
            1016-2999 for future standards).
    """
    if not isinstance(code, int) or isinstance(code, bool):
        raise ValueError('code must be an int')
    if code < 1000:
        raise ValueError('Invalid close code. The value must be >= 1000')
    if code >= 5000:
        raise ValueError('Invalid close code. The value must be < 5000')
    if 1004 <= code <= 1006 or 1015 <= code <= 2999:
        raise ValueError('Invalid close code. Only unreserved codes may be used.')
    return code


class WebSocket:
    """One WebSocket connection, as seen by the app.

    The App builds it and passes it to ``on_websocket(req, ws, **params)``;
    apps do not instantiate it.

    Attributes:
        subprotocols (tuple[str, ...]): The subprotocols the client offered,
            in its order (empty if none).
    """

    __slots__ = (
        '_asgi_receive',
        '_asgi_send',
        '_buffered_receiver',
        '_channel',
        '_close_code',
        '_close_reason',
        '_close_reasons',
        '_extensions',
        '_mh_binary',
        '_mh_text',
        '_receiving',
        '_run',
        '_send_waiters',
        '_sending',
        '_state',
        '_supports_accept_headers',
        '_supports_reason',
        '_watched_channel',
        'subprotocols',
    )

    def __init__(
        self,
        ver: str,
        scope: Mapping[str, Any],
        receive: AsgiReceive,
        send: AsgiSend,
        media_handlers: Mapping[WebSocketPayloadType, Any],
        max_receive_queue: int,
        default_close_reasons: dict[int, str],
    ) -> None:
        self._supports_accept_headers = ver != '2.0'
        self._supports_reason = supports_reason(ver)
        self._extensions: Mapping[str, Any] = scope.get('extensions') or {}
        self.subprotocols: tuple[str, ...] = tuple(scope.get('subprotocols') or ())
        self._asgi_receive = receive
        self._asgi_send = send
        # PERF(gyrfalcon): The fast path: the server's engine channel, when
        #   receive and send are the server's own (no ASGI middleware).
        channel = get_channel(scope, receive, send)
        self._channel = channel
        # NOTE(gyrfalcon): Where the dict path runs the receive pump (to see
        #   a disconnect while the app only sends), the fast path reads the
        #   disconnect from the channel instead; max_receive_queue=0 turns
        #   both off alike.
        self._watched_channel = channel if max_receive_queue > 0 else None
        self._buffered_receiver = (
            BufferedReceiver(receive, max_receive_queue)
            if max_receive_queue > 0 and channel is None
            else None
        )
        # NOTE(gyrfalcon): Handlers are picked now: replacing one later only
        #   affects new connections. (The handlers, not four bound methods:
        #   256 bytes less per connection.)
        self._mh_text = media_handlers[WebSocketPayloadType.TEXT]
        self._mh_binary = media_handlers[WebSocketPayloadType.BINARY]
        self._close_reasons = default_close_reasons
        self._state = _HANDSHAKE
        self._close_code: int | None = None
        self._close_reason: str | None = None
        self._receiving = False
        self._run = 0  # messages taken in a row without suspending
        self._sending = False
        # NOTE(gyrfalcon): Created on the first contended send.
        self._send_waiters: deque[asyncio.Future[None]] | None = None

    # -- state ---------------------------------------------------------------

    @property
    def unaccepted(self) -> bool:
        """``True`` until the connection is accepted, denied or closed."""
        return self._state is _HANDSHAKE

    @property
    def closed(self) -> bool:
        """``True`` once the app closed or denied it, or the client left."""
        return self._state is _CLOSED or self._client_gone()

    @property
    def ready(self) -> bool:
        """``True`` while the connection is accepted and the client is there."""
        return self._state is _ACCEPTED and not self._client_gone()

    @property
    def supports_accept_headers(self) -> bool:
        """``True`` if the server can send headers with the accept (ASGI 2.1+)."""
        return self._supports_accept_headers

    @property
    def supports_deny(self) -> bool:
        """``True`` if the server can send a custom HTTP denial response."""
        return _DENIAL_EXTENSION in self._extensions

    @property
    def close_code(self) -> int | None:
        """The close code once closed, else ``None``.

        This is the code the client sent (1005 if it sent none, 1006 if the
        connection was lost), or the code the app closed with. After
        ``deny()``, it is ``3000 + status``.
        """
        if self._state is _ACCEPTED:
            channel = self._watched_channel
            if channel is not None:
                if channel.closed:
                    return channel.close_code
            else:
                receiver = self._buffered_receiver
                if receiver and receiver.disconnected:
                    return receiver.code
        return self._close_code

    @property
    def close_reason(self) -> str | None:
        """The close reason once closed (``''`` if none), else ``None``."""
        if self._state is _ACCEPTED:
            channel = self._watched_channel
            if channel is not None:
                if channel.closed:
                    return channel.close_reason or ''
            else:
                receiver = self._buffered_receiver
                if receiver and receiver.disconnected:
                    return receiver.reason
        return self._close_reason

    def _client_gone(self) -> bool:
        # NOTE(gyrfalcon): The pump starts at accept() (and stops at close()),
        #   so the dict path only reports a disconnect while accepted; the
        #   channel is read under the same condition.
        channel = self._watched_channel
        if channel is not None:
            return self._state is _ACCEPTED and channel.closed
        receiver = self._buffered_receiver
        return receiver is not None and receiver.disconnected

    def _note_client_gone(self) -> None:
        if self._state is _CLOSED:
            return
        channel = self._watched_channel
        if channel is not None:
            if self._state is _ACCEPTED and channel.closed:
                self._mark_closed(channel.close_code, channel.close_reason)
            return
        receiver = self._buffered_receiver
        if receiver and receiver.disconnected:
            self._mark_closed(receiver.code, receiver.reason)

    def _mark_closed(self, code: int | None, reason: str | None) -> None:
        self._state = _CLOSED
        self._close_code = code
        self._close_reason = reason or ''

    # -- handshake -----------------------------------------------------------

    async def accept(
        self, subprotocol: str | None = None, headers: HeaderArg | None = None
    ) -> None:
        """Accept the connection, completing the WebSocket handshake.

        Keyword Args:
            subprotocol (str): The subprotocol to accept, picked from
                :attr:`subprotocols` (the first acceptable one, by
                convention). Without it, the response names none.
            headers (dict or Iterable[tuple[str, str]]): Extra headers for
                the handshake response, ASCII only. Requires ASGI 2.1 (see
                :attr:`supports_accept_headers`).

        Raises:
            OperationNotAllowed: The connection was already accepted, or it
                is closed, or headers were given to an ASGI 2.0 server.
            ValueError: The subprotocol is not a string, or the headers
                contain ``Sec-WebSocket-Protocol`` or non-ASCII text.
        """
        if self.closed:
            raise errors.OperationNotAllowed(
                'accept() may not be called on a closed WebSocket connection'
            )
        if self._state is not _HANDSHAKE:
            raise errors.OperationNotAllowed(
                'accept() may only be called once on an open WebSocket connection'
            )
        event: AsgiEvent = {'type': 'websocket.accept'}
        if subprotocol is not None:
            if not isinstance(subprotocol, str):
                raise ValueError('WebSocket subprotocol must be a string')
            event['subprotocol'] = subprotocol
        if headers:
            if not self._supports_accept_headers:
                raise errors.OperationNotAllowed(
                    'The ASGI server that is running this app does not '
                    'support accept headers.'
                )
            encoded = _encode_headers(headers)
            if any(name == b'sec-websocket-protocol' for name, _ in encoded):
                raise ValueError(
                    'Per the ASGI spec, the headers iterable must not contain '
                    '"sec-websocket-protocol". Instead, the subprotocol argument '
                    'can be used to indicate the accepted protocol.'
                )
            event['headers'] = encoded
        await self._send(event)
        self._state = _ACCEPTED
        if self._buffered_receiver is not None:
            self._buffered_receiver.start()

    async def deny(
        self,
        status: Any = 403,
        headers: HeaderArg | None = None,
        body: bytes | str | None = None,
    ) -> None:
        """Refuse the handshake with an HTTP response of the app's choice.

        The response is sent through the ASGI ``websocket.http.response``
        extension. When the server lacks it (see :attr:`supports_deny`), the
        connection is closed before the handshake instead, and the client
        gets a plain ``403 Forbidden``.

        Args:
            status: The HTTP status (``int``, ``http.HTTPStatus`` or status
                line), 403 by default.

        Keyword Args:
            headers (dict or Iterable[tuple[str, str]]): Response headers.
            body (bytes or str): The response body; a ``str`` is sent as
                UTF-8 ``text/plain`` unless a ``Content-Type`` is given.

        Raises:
            OperationNotAllowed: The connection was already accepted,
                denied or closed.
            ValueError: The status is not between 100 and 599.
        """
        if self._state is not _HANDSHAKE or self._client_gone():
            raise errors.OperationNotAllowed(
                'deny() may only be called before accept() on an open '
                'WebSocket connection'
            )
        code = http_status_to_code(status)
        if not 100 <= code <= 599:
            raise ValueError(f'invalid HTTP status for deny(): {status!r}')
        close_code = http_status_to_ws_code(code)
        phrase = code_to_http_status(code)
        if not self.supports_deny:
            await self.close(close_code)
            return

        encoded = _encode_headers(headers or ())
        payload = body.encode() if isinstance(body, str) else bytes(body or b'')
        names = {name for name, _ in encoded}
        if isinstance(body, str) and b'content-type' not in names:
            encoded.append((b'content-type', b'text/plain; charset=utf-8'))
        if b'content-length' not in names:
            encoded.append((b'content-length', str(len(payload)).encode()))
        start = {
            'type': 'websocket.http.response.start',
            'status': code,
            'headers': encoded,
        }
        self._mark_closed(close_code, phrase)
        try:
            await self._send_event(start)
            await self._send_event(
                {'type': 'websocket.http.response.body', 'body': payload}
            )
        except OSError:
            # NOTE(gyrfalcon): The client left before reading the answer.
            pass

    async def close(self, code: int | None = None, reason: str | None = None) -> None:
        """Close the connection; before ``accept()``, refuse it with a 403.

        Closing an already closed connection does nothing (the arguments are
        still validated).

        Keyword Args:
            code (int): The close code (default 1000): 1000-1003, 1007-1014
                or 3000-4999.
            reason (str): Why; at most 123 bytes of UTF-8. Defaults to the
                entry for `code` in ``ws_options.default_close_reasons``. It
                is only sent to servers of ASGI 2.3 or later.

        Raises:
            ValueError: The code or the reason is not acceptable.
        """
        code = _CLOSE_NORMAL if code is None else validate_close_code(code)
        reason = reason or self._close_reasons.get(code) or ''
        if len(reason.encode()) > _MAX_REASON_BYTES:
            raise ValueError(
                f'close reason must be at most {_MAX_REASON_BYTES} bytes once '
                f'encoded as UTF-8'
            )
        if self.closed:
            await self._stop_receiver()
            return

        previous = self._state
        self._mark_closed(code, reason)
        await self._stop_receiver()
        event: AsgiEvent = {'type': 'websocket.close', 'code': code}
        if reason and self._supports_reason:
            event['reason'] = reason
        try:
            await self._send_event(event)
        except OSError:
            # NOTE(gyrfalcon): The connection is already gone; so be it.
            pass
        except Exception:
            # NOTE(gyrfalcon): The server refused the close (e.g. a code it
            #   does not support); let the caller try again.
            self._state = previous
            self._close_code = self._close_reason = None
            raise

    async def _stop_receiver(self) -> None:
        if self._buffered_receiver is not None:
            await self._buffered_receiver.stop()

    # -- sending -------------------------------------------------------------

    async def send_text(self, payload: str) -> None:
        """Send a TEXT message.

        Raises:
            TypeError: The payload is not a ``str``.
            OperationNotAllowed: The connection is not accepted yet.
            WebSocketDisconnected: The connection is closed.
        """
        if self._state is not _ACCEPTED:
            self._require_accepted()
        if not isinstance(payload, str):
            raise TypeError('payload must be a string')
        channel = self._channel
        if channel is None:
            await self._send({'type': 'websocket.send', 'text': payload})
        elif self._sending or channel.writing_paused:
            await self._send_in_turn(channel, channel.send_text, payload)
        else:
            # PERF(gyrfalcon): The fast path: straight into the engine.
            try:
                channel.send_text(payload)
            except errors.WebSocketDisconnected as ex:
                raise self._lost(ex) from ex

    async def send_data(self, payload: bytes | bytearray | memoryview) -> None:
        """Send a BINARY message.

        Raises:
            TypeError: The payload is not bytes-like.
            OperationNotAllowed: The connection is not accepted yet.
            WebSocketDisconnected: The connection is closed.
        """
        if self._state is not _ACCEPTED:
            self._require_accepted()
        if not isinstance(payload, (bytes, bytearray, memoryview)):
            raise TypeError('payload must be a byte string')
        data = payload if type(payload) is bytes else bytes(payload)
        channel = self._channel
        if channel is None:
            await self._send({'type': 'websocket.send', 'bytes': data})
        elif self._sending or channel.writing_paused:
            await self._send_in_turn(channel, channel.send_binary, data)
        else:
            try:
                channel.send_binary(data)
            except errors.WebSocketDisconnected as ex:
                raise self._lost(ex) from ex

    async def send_media(
        self,
        media: object,
        payload_type: WebSocketPayloadType = WebSocketPayloadType.TEXT,
    ) -> None:
        """Serialize an object with the media handler of a payload type, and send it.

        Args:
            media: The object to send.
            payload_type (WebSocketPayloadType): ``TEXT`` (the default) or
                ``BINARY``.

        Raises:
            TypeError: `payload_type` is not a ``WebSocketPayloadType``.
            OperationNotAllowed: The connection is not accepted yet.
            WebSocketDisconnected: The connection is closed.
        """
        if self._state is not _ACCEPTED:
            self._require_accepted()
        channel = self._channel
        if payload_type is _TEXT:
            text = self._mh_text.serialize(media)
            if channel is None:
                await self._send({'type': 'websocket.send', 'text': text})
            elif self._sending or channel.writing_paused:
                await self._send_in_turn(channel, channel.send_text, text)
            else:
                try:
                    channel.send_text(text)
                except errors.WebSocketDisconnected as ex:
                    raise self._lost(ex) from ex
        elif payload_type is _BINARY:
            data = self._mh_binary.serialize(media)
            if type(data) is not bytes:
                data = bytes(data)
            if channel is None:
                await self._send({'type': 'websocket.send', 'bytes': data})
            elif self._sending or channel.writing_paused:
                await self._send_in_turn(channel, channel.send_binary, data)
            else:
                try:
                    channel.send_binary(data)
                except errors.WebSocketDisconnected as ex:
                    raise self._lost(ex) from ex
        else:
            raise TypeError(
                f'payload_type must be WebSocketPayloadType.TEXT or '
                f'WebSocketPayloadType.BINARY, not {payload_type!r}'
            )

    async def _send(self, event: AsgiEvent) -> None:
        self._note_client_gone()
        if self._state is _CLOSED:
            raise errors.WebSocketDisconnected(self._close_code, self._close_reason)
        try:
            await self._send_event(event)
        except Exception as ex:
            translated = self._translate_server_error(ex)
            if translated is None:
                raise
            if isinstance(translated, errors.WebSocketDisconnected):
                self._mark_closed(translated.code, translated.reason)
            else:
                self._state = _CLOSED
            raise translated from ex

    async def _send_in_turn(
        self, channel: EngineChannel, send: Callable[[Any], None], payload: Any
    ) -> None:
        """Send through the channel after the senders ahead, once writable."""
        if self._sending:
            await self._wait_for_turn()
        else:
            self._sending = True
        try:
            if channel.writing_paused:
                await channel.drain()
            send(payload)
        except errors.WebSocketDisconnected as ex:
            raise self._lost(ex) from ex
        finally:
            self._pass_turn()

    def _lost(self, ex: errors.WebSocketDisconnected) -> errors.WebSocketDisconnected:
        """Record a disconnect the channel reported; return the error to raise."""
        if self._state is not _CLOSED:
            self._mark_closed(ex.code, ex.reason)
        return errors.WebSocketDisconnected(self._close_code, self._close_reason)

    async def _send_event(self, event: AsgiEvent) -> None:
        """Hand one event to the ASGI server; concurrent sends take turns."""
        # PERF(gyrfalcon): A flag and a queue of futures instead of an
        #   asyncio.Lock: an uncontended send then costs no extra await.
        if self._sending:
            await self._wait_for_turn()
        else:
            self._sending = True
        try:
            await self._asgi_send(event)
        finally:
            self._pass_turn()

    async def _wait_for_turn(self) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiters = self._send_waiters
        if waiters is None:
            waiters = self._send_waiters = deque()
        waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                # NOTE(gyrfalcon): The turn was handed over just as this
                #   sender was cancelled; hand it on.
                self._pass_turn()
            else:
                waiters.remove(waiter)
            raise

    def _pass_turn(self) -> None:
        waiters = self._send_waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                # NOTE(gyrfalcon): _sending stays True: the turn is handed
                #   straight to the next sender, in arrival order.
                waiter.set_result(None)
                return
        self._sending = False

    def _translate_server_error(self, ex: Exception) -> Exception | None:
        if isinstance(ex, errors.WebSocketDisconnected):
            return ex
        text = str(ex)
        # NOTE(gyrfalcon): servers built on the websockets library.
        if 'code = 1000 (OK)' in text:
            return errors.WebSocketDisconnected(_CLOSE_NORMAL)
        # NOTE(gyrfalcon): Daphne (Autobahn) refusing an unknown subprotocol.
        if 'protocol accepted must be from the list' in text:
            return ValueError(
                'WebSocket subprotocol must be from the list sent by the client'
            )
        # NOTE(gyrfalcon): ASGI 2.4: send() on a closed connection raises an
        #   OSError subclass; uvicorn's websockets backend chains the close
        #   frame, e.g. 'received 1001 (going away); then sent 1001 ...'.
        if isinstance(ex, OSError):
            cause = _CLIENT_CLOSE_CAUSE.match(str(ex.__cause__ or ''))
            code = int(cause.group(1)) if cause else _CLOSE_NO_STATUS
            return errors.WebSocketDisconnected(code)
        return None

    # -- receiving -----------------------------------------------------------

    async def receive_text(self) -> str:
        """Wait for the next message, which must be TEXT, and return it.

        Raises:
            PayloadTypeError: The message was BINARY (it is consumed).
            OperationNotAllowed: The connection is not accepted yet, or
                another coroutine is already receiving.
            WebSocketDisconnected: The connection is closed.
        """
        if self._state is not _ACCEPTED:
            self._require_accepted()
        channel = self._channel
        if channel is None:
            text = (await self._receive()).get('text')
            if text is None:
                raise errors.PayloadTypeError('Missing TEXT (0x01) payload')
            return str(text)
        if self._receiving:
            raise _concurrent_receive()
        # PERF(gyrfalcon): The fast path. A waiting message is taken at once;
        #   otherwise the wait happens right here, not in a helper coroutine
        #   (a frame less per waiting connection).
        message = None
        if self._run < _RUN_LIMIT:
            message = channel.next_message()
            if message is not None:
                self._run += 1
        while message is None:
            self._receiving = True
            try:
                await self._message_waiter(channel)
            finally:
                self._receiving = False
            message = channel.next_message()
        if isinstance(message, str):
            return message
        raise errors.PayloadTypeError('Missing TEXT (0x01) payload')

    async def receive_data(self) -> bytes:
        """Wait for the next message, which must be BINARY, and return it.

        Raises:
            PayloadTypeError: The message was TEXT (it is consumed).
            OperationNotAllowed: The connection is not accepted yet, or
                another coroutine is already receiving.
            WebSocketDisconnected: The connection is closed.
        """
        if self._state is not _ACCEPTED:
            self._require_accepted()
        channel = self._channel
        if channel is None:
            data = (await self._receive()).get('bytes')
            if data is None:
                raise errors.PayloadTypeError('Missing BINARY (0x02) payload')
            return bytes(data)
        if self._receiving:
            raise _concurrent_receive()
        message = None
        if self._run < _RUN_LIMIT:
            message = channel.next_message()
            if message is not None:
                self._run += 1
        while message is None:
            self._receiving = True
            try:
                await self._message_waiter(channel)
            finally:
                self._receiving = False
            message = channel.next_message()
        if isinstance(message, bytes):
            return message
        raise errors.PayloadTypeError('Missing BINARY (0x02) payload')

    async def receive_media(self) -> object:
        """Wait for the next message and deserialize it.

        A TEXT message goes to the TEXT media handler, a BINARY one to the
        BINARY handler; the handler's errors (e.g. ``json.JSONDecodeError``)
        propagate.

        Raises:
            OperationNotAllowed: The connection is not accepted yet, or
                another coroutine is already receiving.
            WebSocketDisconnected: The connection is closed.
        """
        if self._state is not _ACCEPTED:
            self._require_accepted()
        channel = self._channel
        if channel is not None:
            if self._receiving:
                raise _concurrent_receive()
            message = None
            if self._run < _RUN_LIMIT:
                message = channel.next_message()
                if message is not None:
                    self._run += 1
            while message is None:
                self._receiving = True
                try:
                    await self._message_waiter(channel)
                finally:
                    self._receiving = False
                message = channel.next_message()
            if isinstance(message, str):
                return self._mh_text.deserialize(message)
            return self._mh_binary.deserialize(message)
        event = await self._receive()
        text = event.get('text')
        if text is not None:
            return self._mh_text.deserialize(text)
        data = event.get('bytes')
        if data is None:
            raise errors.PayloadTypeError(
                'Message did not contain either a TEXT (0x01) or BINARY (0x02) payload'
            )
        return self._mh_binary.deserialize(data)

    def __aiter__(self) -> WebSocket:
        """Iterate over incoming messages until the connection closes."""
        return self

    async def __anext__(self) -> str | bytes:
        """Return the next message (``str`` or ``bytes``); stop on a close."""
        channel = self._channel
        if channel is not None and self._state is _ACCEPTED:
            if self._receiving:
                raise _concurrent_receive()
            message = None
            if self._run < _RUN_LIMIT:
                message = channel.next_message()
                if message is not None:
                    self._run += 1
            try:
                while message is None:
                    self._receiving = True
                    try:
                        await self._message_waiter(channel)
                    finally:
                        self._receiving = False
                    message = channel.next_message()
            except errors.WebSocketDisconnected:
                raise StopAsyncIteration from None
            return message
        try:
            self._require_accepted()
            event = await self._receive()
        except errors.WebSocketDisconnected:
            raise StopAsyncIteration from None
        text = event.get('text')
        if text is not None:
            return str(text)
        return bytes(event.get('bytes') or b'')

    async def iter_text(self) -> AsyncIterator[str]:
        """Yield TEXT messages until the connection closes.

        Raises:
            PayloadTypeError: A BINARY message arrived.
        """
        while True:
            try:
                text = await self.receive_text()
            except errors.WebSocketDisconnected:
                return
            yield text

    async def iter_data(self) -> AsyncIterator[bytes]:
        """Yield BINARY messages until the connection closes.

        Raises:
            PayloadTypeError: A TEXT message arrived.
        """
        while True:
            try:
                data = await self.receive_data()
            except errors.WebSocketDisconnected:
                return
            yield data

    async def iter_media(self) -> AsyncIterator[object]:
        """Yield deserialized messages until the connection closes."""
        while True:
            try:
                media = await self.receive_media()
            except errors.WebSocketDisconnected:
                return
            yield media

    def _message_waiter(self, channel: EngineChannel) -> Awaitable[None]:
        """Return what to await before the next message (the fast path).

        Raises:
            WebSocketDisconnected: The connection is closed; no message is
                left.
        """
        run_is_over = self._run >= _RUN_LIMIT
        self._run = 1  # the message taken after this await starts a new run
        if run_is_over:
            # NOTE(gyrfalcon): Messages that are waiting are taken without
            #   suspending, so a burst would keep other tasks (this
            #   connection's writers, other connections) from running until
            #   it is over. Let them run every _RUN_LIMIT messages, as the
            #   dict path's queue hops do (more often).
            return asyncio.sleep(0)
        if channel.closed:
            if self._state is not _CLOSED:
                self._mark_closed(channel.close_code, channel.close_reason)
            raise errors.WebSocketDisconnected(self._close_code, self._close_reason)
        return channel.wait_message()

    async def _receive(self) -> AsgiEvent:
        if self._receiving:
            raise _concurrent_receive()
        self._receiving = True
        try:
            event = await self._receive_event()
        finally:
            self._receiving = False
        if event is not None and event.get('type') == 'websocket.receive':
            return event
        if event is not None:
            self._mark_closed(disconnect_code(event), event.get('reason'))
        else:
            self._note_client_gone()
            if self._state is not _CLOSED:
                self._mark_closed(_CLOSE_NO_STATUS, '')
        raise errors.WebSocketDisconnected(self._close_code, self._close_reason)

    async def _receive_event(self) -> AsgiEvent | None:
        """Return the next ASGI event, or ``None`` when no more will come."""
        if self._buffered_receiver is not None:
            return await self._buffered_receiver.receive()
        return await self._asgi_receive()

    def _require_accepted(self) -> None:
        if self._state is _HANDSHAKE:
            raise errors.OperationNotAllowed(
                'WebSocket connection has not yet been accepted'
            )
        if self._state is _CLOSED:
            raise errors.WebSocketDisconnected(self._close_code, self._close_reason)


def _concurrent_receive() -> errors.OperationNotAllowed:
    return errors.OperationNotAllowed(
        'another coroutine is already waiting for a message on this '
        'WebSocket; receive calls may not run concurrently'
    )


def _encode_headers(headers: HeaderArg) -> list[tuple[bytes, bytes]]:
    # NOTE(gyrfalcon): Anything with an items() method counts as a mapping.
    items_method = getattr(headers, 'items', None)
    items: Iterable[tuple[str, str]] = (
        items_method() if callable(items_method) else headers  # type: ignore[assignment]
    )
    return [
        (name.lower().encode('ascii'), value.encode('ascii')) for name, value in items
    ]
