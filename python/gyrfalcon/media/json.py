"""JSON media handlers, for HTTP bodies and WebSocket TEXT messages.

Unless the app passes its own ``dumps`` or ``loads``, the handlers use
``orjson`` when it is installed and the standard library's ``json`` module
otherwise, with the same results for every document and object both can
handle. Where ``orjson`` cannot give the standard library's answer, the
handler asks the standard library instead:

* integers beyond 64 bits, which ``orjson`` rejects when serializing and
  reads back as floats (so documents with a run of 19 or more digits are
  parsed by the standard library);
* dictionary keys that are not strings, subclasses of ``str``, ``int``,
  ``dict`` and ``list``, dataclasses and ``datetime`` objects;
* documents ``orjson`` refuses to parse (``NaN``, ``Infinity``, numbers that
  overflow a double, unpaired surrogates...), so that they parse exactly as
  they do with ``json.loads()``, or fail with the same error.

Three differences remain:

* **Non-finite floats** (``nan``, ``inf``) are written as ``null`` by
  ``orjson``, which is valid JSON, and as ``NaN``/``Infinity`` (not JSON, but
  what Falcon writes) by the standard library, which also writes them when
  another value sends the whole document its way (an integer beyond 64
  bits, say).
* ``enum.Enum`` members and ``uuid.UUID`` objects are written as their value
  and as a string by ``orjson``; the standard library raises ``TypeError``.
* Documents nested deeper than the interpreter's recursion limit parse with
  ``orjson``; the standard library fails on them (a 400 here; Falcon lets the
  ``RecursionError`` become a 500).

The bytes differ in whitespace and number spelling (``orjson`` writes
``{"a":1e16}`` where ``json.dumps()`` writes ``{"a": 1e+16}``); they always
decode to the same value.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, NamedTuple

from ..errors import MediaMalformedError, MediaNotFoundError
from .base import TextBaseHandlerWS, _WholeBodyHandler

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a test dependency
    _HAVE_ORJSON = False
else:
    _HAVE_ORJSON = True

__all__ = ('JSONHandler', 'JSONHandlerWS')

_stdlib_dumps = functools.partial(json.dumps, ensure_ascii=False)

# NOTE(gyrfalcon): 19 digits reach past the signed 64-bit range; orjson turns
#   such integers into floats silently, so those documents go to the stdlib.
#   A long run inside a string or a fraction costs a slower parse, not a
#   wrong result.
# PERF(gyrfalcon): mapping every digit to '0' and searching for 19 of them is
#   ~15x faster than re.search('[0-9]{19}').
_DIGITS_AS_ZEROS = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x78 for byte in range(256))
_LONG_NUMBER = b'0' * 19


def _has_long_number(data: bytes) -> bool:
    """Tell whether `data` contains a run of 19 or more ASCII digits."""
    return _LONG_NUMBER in data.translate(_DIGITS_AS_ZEROS)


def _fast_dumps_bytes(media: Any) -> bytes:
    """Serialize to UTF-8 JSON, with orjson when it can do it exactly."""
    try:
        return orjson.dumps(media, option=_ORJSON_OPTIONS)
    except TypeError:
        return _stdlib_dumps(media).encode()


def _fast_dumps_str(media: Any) -> str:
    """Serialize to a JSON ``str``, with orjson when it can do it exactly."""
    try:
        return orjson.dumps(media, option=_ORJSON_OPTIONS).decode()
    except TypeError:
        return _stdlib_dumps(media)


def _fast_loads_bytes(data: bytes) -> Any:
    """Parse UTF-8 JSON, with orjson when it gives the stdlib's result."""
    if not _has_long_number(data):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(data.decode())


def _fast_loads_str(text: str) -> Any:
    """Parse a JSON ``str``, with orjson when it gives the stdlib's result."""
    if not _has_long_number(text.encode('utf-8', 'surrogatepass')):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def _stdlib_dumps_bytes(media: Any) -> bytes:
    return _stdlib_dumps(media).encode()


def _stdlib_loads_bytes(data: bytes) -> Any:
    return json.loads(data.decode())


class _Backend(NamedTuple):
    """The four default functions of the JSON handlers."""

    dumps_bytes: Callable[[Any], bytes]
    dumps_str: Callable[[Any], str]
    loads_bytes: Callable[[bytes], Any]
    loads_str: Callable[[str], Any]


_STDLIB = _Backend(_stdlib_dumps_bytes, _stdlib_dumps, _stdlib_loads_bytes, json.loads)

if _HAVE_ORJSON:
    # NOTE(gyrfalcon): with these options orjson refuses (TypeError) what it
    #   would serialize differently from the stdlib, so the stdlib takes over.
    _ORJSON_OPTIONS = (
        orjson.OPT_PASSTHROUGH_SUBCLASS
        | orjson.OPT_PASSTHROUGH_DATACLASS
        | orjson.OPT_PASSTHROUGH_DATETIME
    )
    _ORJSON: _Backend | None = _Backend(
        _fast_dumps_bytes, _fast_dumps_str, _fast_loads_bytes, _fast_loads_str
    )
else:  # pragma: no cover - orjson is a test dependency
    _ORJSON = None

# The functions new handlers use when the app passes none of its own.
_default_backend = _ORJSON or _STDLIB


def _error_types(loads: Callable[[str], Any]) -> tuple[type[Exception], ...]:
    """Find the exception type `loads` raises for invalid JSON.

    Anything other than a ``ValueError`` subclass is added to the types that
    mean "malformed body".
    """
    try:
        loads('frozenset({1})')
    except Exception as ex:
        if not isinstance(ex, ValueError):
            return (ValueError, type(ex))
    return (ValueError,)


class JSONHandler(_WholeBodyHandler):
    """The JSON media handler for HTTP bodies (``application/json``).

    By default it uses ``orjson`` when it is installed and the standard
    library otherwise (see the module documentation for the small
    differences). To use another library, or other options, pass your own
    functions::

        import functools
        import rapidjson

        handler = gyrfalcon.media.JSONHandler(
            dumps=functools.partial(rapidjson.dumps, ensure_ascii=False),
            loads=rapidjson.loads,
        )
        app.req_options.media_handlers[gyrfalcon.MEDIA_JSON] = handler
        app.resp_options.media_handlers[gyrfalcon.MEDIA_JSON] = handler

    Keyword Args:
        dumps: A function that serializes an object to a JSON ``str`` or
            ``bytes`` (default: ``orjson``, or ``json.dumps`` with
            ``ensure_ascii=False``).
        loads: A function that parses a JSON ``str`` (default: ``orjson``,
            or ``json.loads``). The exceptions it raises for invalid JSON
            become ``MediaMalformedError``.
    """

    def __init__(
        self,
        dumps: Callable[[Any], str | bytes] | None = None,
        loads: Callable[[str], Any] | None = None,
    ) -> None:
        self._dumps_bytes: Callable[[Any], bytes]
        if dumps is None:
            self._dumps_bytes = _default_backend.dumps_bytes
        elif isinstance(dumps({'message': 'Hello World'}), str):
            self._dumps_bytes = functools.partial(_encode_dumps, dumps)
        else:
            self._dumps_bytes = dumps  # type: ignore[assignment]  # returns bytes

        self._loads_bytes: Callable[[bytes], Any]
        if loads is None:
            self._loads_bytes = _default_backend.loads_bytes
            # NOTE(gyrfalcon): a body nested too deeply for the parser is the
            #   client's fault too (400); Falcon lets RecursionError become 500.
            self._deserialization_errors: tuple[type[Exception], ...] = (
                ValueError,
                RecursionError,
            )
        else:
            self._loads_bytes = functools.partial(_decode_loads, loads)
            self._deserialization_errors = _error_types(loads)

        # NOTE(gyrfalcon): a subclass may override serialize()/deserialize(),
        #   so the fast path is only offered by this exact class.
        if type(self) is JSONHandler:
            self._serialize_sync = self._dumps_bytes
            self._deserialize_sync = self._deserialize

    def _deserialize(self, data: bytes) -> Any:
        if not data:
            raise MediaNotFoundError('JSON')
        try:
            return self._loads_bytes(data)
        except self._deserialization_errors as ex:
            raise MediaMalformedError('JSON') from ex

    def serialize(self, media: Any, content_type: str | None = None) -> bytes:
        """Serialize the media object to JSON.

        Args:
            media: The object to serialize.
            content_type: Ignored.

        Returns:
            The UTF-8 encoded JSON document.
        """
        return self._dumps_bytes(media)


def _encode_dumps(dumps: Callable[[Any], str | bytes], media: Any) -> bytes:
    text = dumps(media)
    return text.encode() if isinstance(text, str) else text


def _decode_loads(loads: Callable[[str], Any], data: bytes) -> Any:
    return loads(data.decode())


class JSONHandlerWS(TextBaseHandlerWS):
    """The JSON media handler for WebSocket TEXT messages.

    It is the default TEXT handler of ``ws.send_media()`` and
    ``ws.receive_media()``. Parse errors are not translated: ``loads``'s own
    exception (a ``ValueError`` by default) propagates to the app.

    Keyword Args:
        dumps: A function that serializes an object to a JSON ``str``
            (default: ``orjson``, or ``json.dumps`` with ``ensure_ascii=False``).
        loads: A function that parses a JSON ``str`` (default: ``orjson``,
            or ``json.loads``).
    """

    __slots__ = ('_dumps', '_loads')

    def __init__(
        self,
        dumps: Callable[[Any], str] | None = None,
        loads: Callable[[str], Any] | None = None,
    ) -> None:
        self._dumps = dumps or _default_backend.dumps_str
        self._loads = loads or _default_backend.loads_str

    def serialize(self, media: object) -> str:
        """Serialize an object to the JSON text of a TEXT message.

        Args:
            media: The object to serialize.

        Returns:
            The JSON text.
        """
        return self._dumps(media)

    def deserialize(self, payload: str) -> object:
        """Parse the JSON text of a TEXT message.

        Args:
            payload: The message text.

        Returns:
            The parsed document.
        """
        return self._loads(payload)


_DEFAULT_JSON_HANDLER = JSONHandler()
"""The handler ``HTTPError.to_json()`` and ``SSEvent`` use by default."""
