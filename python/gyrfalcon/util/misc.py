"""Miscellaneous helpers: HTTP dates and statuses, filenames, introspection.

The public functions are re-exported at the top level, as in Falcon::

    import gyrfalcon as falcon

    now = falcon.http_now()
"""

from __future__ import annotations

import datetime
import functools
import http
import inspect
import os
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any, Final

from .. import status_codes
from .deprecation import deprecated
from .uri import encode_value

__all__ = (
    'code_to_http_status',
    'dt_to_http',
    'get_argnames',
    'get_bound_method',
    'get_http_status',
    'http_date_to_dt',
    'http_now',
    'http_status_to_code',
    'is_python_func',
    'secure_filename',
    'to_query_str',
)

_UTC = datetime.UTC

# NOTE(gyrfalcon): RFC 9110 §5.6.7 fixes the day and month names in English;
#   strftime('%a') and ('%b') would follow the process locale instead.
_DAY_NAMES = ('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun')
_MONTH_NAMES = (
    'Jan',
    'Feb',
    'Mar',
    'Apr',
    'May',
    'Jun',
    'Jul',
    'Aug',
    'Sep',
    'Oct',
    'Nov',
    'Dec',
)

# RFC 9110 §5.6.7: IMF-fixdate first; then, with obs_date, the obsolete
# RFC 850 and asctime() forms (plus the hyphenated variant Falcon accepts).
_IMF_FIXDATE = '%a, %d %b %Y %H:%M:%S GMT'
_OBSOLETE_DATE_FORMATS = (
    '%a, %d %b %Y %H:%M:%S %Z',
    '%a, %d-%b-%Y %H:%M:%S %Z',
    '%A, %d-%b-%y %H:%M:%S %Z',
    '%a %b %d %H:%M:%S %Y',
)

_UNSAFE_FILENAME_CHARS = re.compile(r'[^a-zA-Z0-9.-]')
_WINDOWS_DEVICE_NAMES = frozenset(
    ('CON', 'PRN', 'AUX', 'NUL', 'CONIN$', 'CONOUT$')
    + tuple(f'COM{n}' for n in range(1, 10))
    + tuple(f'LPT{n}' for n in range(1, 10))
)

_UNKNOWN_REASON = 'Unknown'


class _UnsetType:
    """The type of ``_UNSET``: "no value given", where ``None`` is a value."""

    __slots__ = ()

    def __repr__(self) -> str:
        return '<unset>'


_UNSET: Final = _UnsetType()


def is_python_func(func: Callable[..., Any] | Any) -> bool:
    """Tell whether a function or method is plain Python (not compiled).

    Args:
        func: The function or method to check.

    Returns:
        ``True`` for a Python function or a method bound to one; ``False``
        for a builtin, a Cython function or any other callable.
    """
    if inspect.ismethod(func):
        func = func.__func__
    return inspect.isfunction(func)


def dt_to_http(dt: datetime.datetime) -> str:
    """Format a ``datetime`` as an HTTP date (IMF-fixdate, RFC 9110 §5.6.7).

    A naive ``datetime`` is taken to be UTC already; an aware one is
    converted to UTC first.

    Args:
        dt: The time to format.

    Returns:
        A string such as ``'Tue, 15 Nov 1994 12:45:26 GMT'``.
    """
    # NOTE(gyrfalcon): Falcon formats an aware datetime's wall-clock time as
    #   if it were UTC; converting first gives the right instant.
    if dt.tzinfo is not None and dt.utcoffset():
        dt = dt.astimezone(_UTC)
    return (
        f'{_DAY_NAMES[dt.weekday()]}, {dt.day:02d} {_MONTH_NAMES[dt.month - 1]} '
        f'{dt.year:04d} {dt.hour:02d}:{dt.minute:02d}:{dt.second:02d} GMT'
    )


def http_now() -> str:
    """Return the current time as an HTTP date.

    Returns:
        The current UTC time, such as ``'Tue, 15 Nov 1994 12:45:26 GMT'``.
    """
    return dt_to_http(datetime.datetime.now(_UTC))


def http_date_to_dt(http_date: str, obs_date: bool = False) -> datetime.datetime:
    """Parse an HTTP date into an aware UTC ``datetime``.

    Args:
        http_date: An IMF-fixdate such as ``'Tue, 15 Nov 1994 12:45:26 GMT'``.
        obs_date: Also accept the obsolete RFC 850 and asctime() forms,
            such as ``'Sunday, 06-Nov-94 08:49:37 GMT'`` (default ``False``).

    Returns:
        The parsed time, with ``tzinfo`` set to UTC.

    Raises:
        ValueError: The string matches none of the accepted formats.
    """
    strptime = datetime.datetime.strptime
    if not obs_date:
        return strptime(http_date, _IMF_FIXDATE).replace(tzinfo=_UTC)

    for date_format in _OBSOLETE_DATE_FORMATS:
        try:
            return strptime(http_date, date_format).replace(tzinfo=_UTC)
        except ValueError:
            continue
    raise ValueError(f'time data {http_date!r} does not match known formats')


def _query_value(value: Any) -> str:
    if value is True:
        return 'true'
    if value is False:
        return 'false'
    return encode_value(str(value))


def to_query_str(
    params: Mapping[str, Any] | None,
    comma_delimited_lists: bool = True,
    prefix: bool = True,
) -> str:
    """Build a query string from a mapping of parameters.

    ``True`` and ``False`` become ``'true'`` and ``'false'``; other values
    are converted with ``str()`` and percent-encoded.

    Args:
        params: The parameters. A ``list`` value becomes a comma-separated
            value (``'thing=1,2,3'``) or, without `comma_delimited_lists`,
            one ``name=value`` pair per item.
        comma_delimited_lists: Join list items with commas (default
            ``True``).
        prefix: Start the result with ``'?'`` (default ``True``).

    Returns:
        The query string, or ``''`` when there are no parameters.
    """
    if not params:
        return ''

    pairs = []
    for name, value in params.items():
        key = encode_value(name)
        if not isinstance(value, list):
            pairs.append(f'{key}={_query_value(value)}')
        elif comma_delimited_lists:
            # NOTE(gyrfalcon): as in Falcon, booleans inside a joined list are
            #   written with str() ('True'), not as 'true'.
            joined = ','.join(encode_value(str(item)) for item in value)
            pairs.append(f'{key}={joined}')
        else:
            pairs.extend(f'{key}={_query_value(item)}' for item in value)

    query = '&'.join(pairs)
    return '?' + query if prefix else query


def get_bound_method(obj: object, method_name: str) -> Callable[..., Any] | None:
    """Return a bound method of an object, by name.

    Args:
        obj: The object to look the method up on.
        method_name: The method's name.

    Returns:
        The bound method, or ``None`` when the object has no such attribute.

    Raises:
        AttributeError: The attribute exists but is not bound (a class was
            probably passed instead of an instance).
    """
    method: Callable[..., Any] | None = getattr(obj, method_name, None)
    if method is not None and not hasattr(method, '__self__'):
        raise AttributeError(
            f'{method_name!r} of {obj!r} is not a bound method '
            '(was a class passed instead of an instance?)'
        )
    return method


def get_argnames(func: Callable[..., Any]) -> list[str]:
    """List the names of a callable's parameters.

    Args:
        func: The callable to inspect.

    Returns:
        The parameter names, without ``*args``, ``**kwargs`` and a leading
        ``self``.
    """
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    names = [
        param.name
        for param in inspect.signature(func).parameters.values()
        if param.kind not in variadic
    ]
    if names and names[0] == 'self':
        del names[0]
    return names


@functools.lru_cache(maxsize=1024)
def _has_arg_name_cached(func: Callable[..., Any], name: str) -> bool:
    return name in get_argnames(func)


def _has_arg_name(func: Callable[..., Any], name: str) -> bool:
    """Tell whether a callable has a parameter of the given name (cached)."""
    try:
        return _has_arg_name_cached(func, name)
    except TypeError:  # an unhashable callable
        return name in get_argnames(func)


def secure_filename(filename: str, max_length: int | None = None) -> str:
    """Make an untrusted filename safe to use on any file system.

    The name is normalized to Unicode NFKD (so that ``'Å'`` yields ``'A'``
    plus a combining mark), then every character other than an ASCII letter,
    digit, ``'.'`` or ``'-'`` becomes ``'_'``. A leading ``'.'`` becomes
    ``'_'`` too (no hidden files), and on Windows a reserved device name
    such as ``CON`` gets a leading ``'_'``.

    Args:
        filename: The filename from the request (e.g. a multipart part).
        max_length: Truncate the result to this many characters, keeping the
            extension when it fits.

    Returns:
        The sanitized filename.

    Raises:
        ValueError: `filename` is empty, or `max_length` is not positive.
    """
    if not filename:
        raise ValueError('filename may not be an empty string')

    name = unicodedata.normalize('NFKD', filename)
    if name.startswith('.'):
        name = '_' + name[1:]
    name = _UNSAFE_FILENAME_CHARS.sub('_', name)

    if (
        os.name == 'nt'
        and name.partition('.')[0].rstrip(' ').upper() in _WINDOWS_DEVICE_NAMES
    ):
        name = '_' + name  # pragma: no cover

    if max_length is not None and max_length <= 0:
        if max_length == 0:
            return name
        raise ValueError('if provided, max_length must be a positive int')

    if max_length and len(name) > max_length:
        root, extension = os.path.splitext(name)
        room = max_length - len(extension)
        name = root[:room] + extension if room > 0 else name[:max_length]

    return name


@functools.lru_cache(maxsize=64)
def http_status_to_code(status: http.HTTPStatus | int | bytes | str) -> int:
    """Normalize an HTTP status to its integer code.

    Args:
        status: An ``http.HTTPStatus`` member, an ``int``, or a status line
            such as ``'200 OK'`` (``str`` or ``bytes``).

    Returns:
        The code, e.g. ``200``.

    Raises:
        ValueError: The status is not one of the accepted forms.
    """
    if isinstance(status, int):  # http.HTTPStatus is an int too
        return int(status)
    if isinstance(status, bytes):
        status = status.decode()
    if not isinstance(status, str):
        raise ValueError('status must be an int, str, or a member of http.HTTPStatus')
    if len(status) < 3:
        raise ValueError('status strings must be at least three characters long')
    try:
        return int(status[:3])
    except ValueError:
        raise ValueError(
            'status strings must start with a three-digit integer'
        ) from None


@functools.lru_cache(maxsize=64)
def code_to_http_status(status: int | http.HTTPStatus | bytes | str) -> str:
    """Normalize an HTTP status to a status line such as ``'200 OK'``.

    A ``str`` or ``bytes`` that contains a space is taken to be a status
    line already and is returned as is (decoded).

    Args:
        status: An ``http.HTTPStatus`` member, an ``int`` code, a code as a
            string (``'404'``), or a status line.

    Returns:
        The status line, without a trailing newline. Codes without a known
        reason phrase get ``'Unknown'`` (``'299 Unknown'``).

    Raises:
        ValueError: The code is not an integer from 100 to 999.
    """
    if isinstance(status, http.HTTPStatus):
        return f'{status.value} {status.phrase}'
    if isinstance(status, str) and ' ' in status:
        return status
    if isinstance(status, bytes) and b' ' in status:
        return status.decode()

    try:
        code = int(status)
    except (TypeError, ValueError):
        raise ValueError(f'{status!r} is not a valid status code') from None
    if not 100 <= code <= 999:
        raise ValueError(f'{status!r} is not a valid status code')

    line: str | None = getattr(status_codes, f'HTTP_{code}', None)
    return line or f'{code} {_UNKNOWN_REASON}'


@deprecated('Please use gyrfalcon.code_to_http_status() instead.')
def get_http_status(status_code: str | int, default_reason: str = 'Unknown') -> str:
    """Return the status line for a code (deprecated).

    This is Falcon 3's helper, kept for old apps; Falcon 4 removed it in
    favour of ``code_to_http_status()``.

    Args:
        status_code: The code, as an ``int`` or a string such as ``'404'``.
        default_reason: The reason phrase for codes without a known one.

    Returns:
        The status line, such as ``'404 Not Found'``.

    Raises:
        ValueError: The code is not a number of at least 100.
    """
    try:
        code = int(float(status_code))
    except ValueError:
        raise ValueError(f'{status_code!r} is not a valid status code') from None
    if code < 100:
        raise ValueError(f'{status_code!r} is not a valid status code')
    line: str | None = getattr(status_codes, f'HTTP_{code}', None)
    return line or f'{code} {default_reason}'
