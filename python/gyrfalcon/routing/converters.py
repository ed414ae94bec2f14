"""Field converters for URI templates.

A field in a URI template may name a converter, as in ``/items/{id:int}`` or
``/at/{when:dt("%Y-%m-%d")}``. The router calls the converter's ``convert()``
with the raw field value; a return value of ``None`` means the segment does
not match, and routing goes on with the next candidate route.

Converters are instantiated once, when the router is compiled, and are then
shared by every request.
"""

from __future__ import annotations

import abc
import math
import re
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any, ClassVar

__all__ = (
    'BUILTIN',
    'BaseConverter',
    'DateTimeConverter',
    'FloatConverter',
    'IntConverter',
    'PathConverter',
    'RegexConverter',
    'UUIDConverter',
)


class BaseConverter(metaclass=abc.ABCMeta):
    """Abstract base class of URI template field converters."""

    CONSUME_MULTIPLE_SEGMENTS: ClassVar[bool] = False
    """Whether the converter takes every remaining path segment.

    Such a converter receives a list of segments instead of a string, and
    its field must be the last segment of the template, on its own.
    """

    @abc.abstractmethod
    def convert(self, value: Any) -> Any:
        """Convert a field value, or reject it.

        Args:
            value (str or list[str]): The raw field value; a list of path
                segments when ``CONSUME_MULTIPLE_SEGMENTS`` is true.

        Returns:
            object: The converted value, or ``None`` when the value is not
            acceptable (the route does not match).
        """


def consumes_multiple_segments(converter: object) -> bool:
    """Tell whether a converter (class or instance) takes the rest of the path."""
    return bool(getattr(converter, 'CONSUME_MULTIPLE_SEGMENTS', False))


def _within(value: float, low: float | None, high: float | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


class IntConverter(BaseConverter):
    """Convert a field value to an ``int``.

    Identifier: ``int``

    Keyword Args:
        num_digits (int): Require exactly this many characters.
        min (int): Reject values below this number.
        max (int): Reject values above this number.
    """

    __slots__ = ('_max', '_min', '_num_digits')

    def __init__(
        self,
        num_digits: int | None = None,
        min: int | None = None,
        max: int | None = None,
    ) -> None:
        if num_digits is not None and num_digits < 1:
            raise ValueError('num_digits must be at least 1')
        self._num_digits = num_digits
        self._min = min
        self._max = max

    def convert(self, value: str) -> int | None:
        """Return the value as an ``int``, or ``None`` if it is not one."""
        if self._num_digits is not None and len(value) != self._num_digits:
            return None
        # NOTE(gyrfalcon): int() tolerates surrounding whitespace; a path
        #   segment such as ' 7' must not match.
        if value.strip() != value:
            return None
        try:
            number = int(value)
        except ValueError:
            return None
        return number if _within(number, self._min, self._max) else None


class FloatConverter(BaseConverter):
    """Convert a field value to a ``float``.

    Identifier: ``float``

    Keyword Args:
        min (float): Reject values below this number.
        max (float): Reject values above this number.
        finite (bool): Accept only finite numbers (default ``True``); set it
            to ``False`` to also accept ``nan``, ``inf`` and ``-inf``.
    """

    __slots__ = ('_finite', '_max', '_min')

    def __init__(
        self,
        min: float | None = None,
        max: float | None = None,
        finite: bool = True,
    ) -> None:
        self._min = min
        self._max = max
        self._finite = True if finite is None else finite

    def convert(self, value: str) -> float | None:
        """Return the value as a ``float``, or ``None`` if it is not one."""
        if value.strip() != value:
            return None
        try:
            number = float(value)
        except ValueError:
            return None
        if self._finite and not math.isfinite(number):
            return None
        return number if _within(number, self._min, self._max) else None


class DateTimeConverter(BaseConverter):
    """Convert a field value to a ``datetime``.

    Identifier: ``dt``

    Keyword Args:
        format_string (str): The ``strptime()`` format of the value
            (default ``'%Y-%m-%dT%H:%M:%S%z'``, which yields an aware
            datetime).
    """

    __slots__ = ('_format_string',)

    def __init__(self, format_string: str = '%Y-%m-%dT%H:%M:%S%z') -> None:
        self._format_string = format_string

    def convert(self, value: str) -> datetime | None:
        """Return the parsed ``datetime``, or ``None`` if it does not parse."""
        try:
            return datetime.strptime(value, self._format_string)
        except ValueError:
            return None


class UUIDConverter(BaseConverter):
    """Convert a field value to a ``uuid.UUID``.

    Identifier: ``uuid``

    The value must hold the 32 hexadecimal digits of RFC 4122, section 3;
    hyphens and the ``urn:uuid:`` prefix are optional.
    """

    def convert(self, value: str) -> uuid.UUID | None:
        """Return the ``UUID``, or ``None`` if the value is not one."""
        try:
            return uuid.UUID(value)
        except ValueError:
            return None


class PathConverter(BaseConverter):
    """Match the rest of the path and return it as a string.

    Identifier: ``path``

    The field must end the template. With ``'/static/{rest:path}'``, the path
    ``'/static'`` does not match, while ``'/static/'`` matches with
    ``rest=''`` (unless ``strip_url_path_trailing_slash`` is enabled).
    """

    CONSUME_MULTIPLE_SEGMENTS = True

    def convert(self, value: Iterable[str]) -> str:
        """Join the remaining path segments with ``'/'``."""
        return '/'.join(value)


class RegexConverter(BaseConverter):
    """Match a field value against a regular expression.

    Identifier: ``re``

    The whole value must match. The converter captures a single segment; a
    subclass may set ``CONSUME_MULTIPLE_SEGMENTS`` and join the segments
    itself to match more.

    Args:
        pattern (str): The regular expression (a ``str``, not ``bytes``).

    Keyword Args:
        group (str): A named group of `pattern` whose text becomes the
            converted value. When the group did not take part in the match,
            the value is rejected.

    Raises:
        ValueError: The pattern is not a valid ``str`` pattern, or it lacks
            the named `group`.
    """

    __slots__ = ('_group', '_pattern')

    _pattern: re.Pattern[str]

    def __init__(self, pattern: str, group: str | None = None) -> None:
        if not isinstance(pattern, str):
            raise ValueError(
                f'invalid regex pattern for RegexConverter: {pattern!r} '
                f'(only str patterns are supported)'
            )
        try:
            self._pattern = re.compile(pattern)
        except re.error as ex:
            raise ValueError(
                f'invalid regex pattern for RegexConverter: {pattern!r} ({ex})'
            ) from ex
        if group is not None and group not in self._pattern.groupindex:
            raise ValueError(
                f'regex pattern {pattern!r} does not contain named group {group!r}'
            )
        self._group = group

    def convert(self, value: str) -> str | None:
        """Return the value (or the named group), or ``None`` on no match."""
        matched = self._pattern.fullmatch(value)
        if matched is None:
            return None
        if self._group is None:
            return value
        result: str | None = matched.group(self._group)
        return result


BUILTIN: tuple[tuple[str, type[BaseConverter]], ...] = (
    ('int', IntConverter),
    ('dt', DateTimeConverter),
    ('uuid', UUIDConverter),
    ('float', FloatConverter),
    ('path', PathConverter),
    ('re', RegexConverter),
)
"""The converters every router knows, by identifier."""
