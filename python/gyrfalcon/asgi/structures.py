"""Server-Sent Events: the ``SSEvent`` that ``resp.sse`` generators yield."""

from __future__ import annotations

import re

from ..constants import MEDIA_JSON
from ..media.base import BaseHandler
from ..media.json import _DEFAULT_JSON_HANDLER

__all__ = ('SSEvent',)

# WHATWG HTML §9.2.5: a line ends with CRLF, LF or CR.
_LINE_BREAK = re.compile(r'\r\n|\r|\n')
_LINE_BREAK_BYTES = re.compile(rb'\r\n|\r|\n')


def _field_lines(name: str, value: str) -> str:
    """Write a value as one field line per line of text."""
    return ''.join(f'{name}{line}\n' for line in _LINE_BREAK.split(value))


def _check_single_line(name: str, value: str) -> None:
    if '\n' in value or '\r' in value:
        raise ValueError(f'{name} must not contain a line break')


class SSEvent:
    """One Server-Sent Event, as ``resp.sse`` generators yield it.

    Set ``resp.sse`` to an async generator of events to stream them as
    ``text/event-stream`` (WHATWG HTML §9.2); yield ``None`` to send a
    keep-alive comment (``: ping``)::

        async def on_get(self, req, resp):
            async def emitter():
                while True:
                    yield SSEvent(json=await feed.next(), event='update')

            resp.sse = emitter()

    Only one of `data`, `text` and `json` is sent, in that order of
    precedence. An event with no field at all is sent as a ``: ping``
    comment.

    Args:
        data: The event data, as UTF-8 bytes.
        text: The event data, as text.
        json: The event data, as an object to serialize to JSON (with the
            response's JSON handler).
        event: The event type (the ``event:`` field); the browser fires
            events of that name instead of ``message``.
        event_id: The event ID (the ``id:`` field), which the browser sends
            back as ``Last-Event-ID`` when it reconnects.
        retry: The reconnection time, in milliseconds (``retry:``).
        comment: A comment line, ignored by the browser.

    Raises:
        TypeError: An argument has the wrong type.

    Multi-line data and comments are sent as one field line per line of
    text, which the browser joins back with ``'\\n'``. (Falcon writes them as
    a single field, which cuts the data at the first line break.)
    """

    __slots__ = ('comment', 'data', 'event', 'event_id', 'json', 'retry', 'text')

    def __init__(
        self,
        data: bytes | None = None,
        text: str | None = None,
        json: object | None = None,
        event: str | None = None,
        event_id: str | None = None,
        retry: int | None = None,
        comment: str | None = None,
    ) -> None:
        if data is not None and not isinstance(data, bytes):
            raise TypeError('data must be a byte string')
        if text is not None and not isinstance(text, str):
            raise TypeError('text must be a string')
        if event is not None and not isinstance(event, str):
            raise TypeError('event name must be a string')
        if event_id is not None and not isinstance(event_id, str):
            raise TypeError('event_id must be a string')
        if comment is not None and not isinstance(comment, str):
            raise TypeError('comment must be a string')
        if retry is not None and not isinstance(retry, int):
            raise TypeError('retry must be an int')

        self.data = data
        self.text = text
        self.json = json
        self.event = event
        self.event_id = event_id
        self.retry = retry
        self.comment = comment

    def serialize(self, handler: BaseHandler | None = None) -> bytes:
        """Serialize the event in the ``text/event-stream`` format.

        Args:
            handler: The JSON handler for `json` data (default: the
                framework's default ``JSONHandler``).

        Returns:
            The event, ending with the blank line that dispatches it.

        Raises:
            ValueError: `event` or `event_id` contains a line break, which
                would let the value inject other fields.
        """
        block = ''
        if self.comment is not None:
            block += _field_lines(': ', self.comment)
        if self.event is not None:
            _check_single_line('event', self.event)
            block += f'event: {self.event}\n'
        if self.event_id is not None:
            _check_single_line('event_id', self.event_id)
            block += f'id: {self.event_id}\n'
        if self.retry is not None:
            block += f'retry: {self.retry}\n'

        if self.data is not None:
            block += _field_lines('data: ', self.data.decode())
        elif self.text is not None:
            block += _field_lines('data: ', self.text)
        elif self.json is not None:
            if handler is None:
                handler = _DEFAULT_JSON_HANDLER
            document = handler.serialize(self.json, MEDIA_JSON)
            lines = _LINE_BREAK_BYTES.split(document)
            return (
                block.encode()
                + b''.join(b'data: ' + line + b'\n' for line in lines)
                + b'\n'
            )

        if not block:
            return b': ping\n\n'
        return (block + '\n').encode()
