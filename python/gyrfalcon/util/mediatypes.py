"""Media type parsing and ``Accept`` header negotiation (RFC 9110 §12.5.1).

``parse_header()`` splits a ``Content-Type``-like value into the media type
and its parameters; ``quality()`` and ``best_match()`` match media types
against an ``Accept`` header the way Falcon 4 does.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Iterable, Iterator

__all__ = ('best_match', 'parse_header', 'quality')


def _split_params(rest: str) -> Iterator[str]:
    """Yield the ``;``-separated parts of a header, honouring quotes."""
    while rest.startswith(';'):
        rest = rest[1:]
        end = rest.find(';')
        # A ';' inside a quoted string does not end the part.
        while end > 0 and (rest.count('"', 0, end) - rest.count('\\"', 0, end)) % 2:
            end = rest.find(';', end + 1)
        if end < 0:
            end = len(rest)
        yield rest[:end].strip()
        rest = rest[end:]


def _parse_quoted_header(line: str) -> tuple[str, dict[str, str]]:
    parts = _split_params(';' + line)
    main = next(parts)
    params: dict[str, str] = {}
    for part in parts:
        name, equals, value = part.partition('=')
        if not equals:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1].replace('\\\\', '\\').replace('\\"', '"')
        params[name.strip().lower()] = value
    return main, params


def parse_header(line: str) -> tuple[str, dict[str, str]]:
    """Parse a ``Content-Type``-like header into its value and parameters.

    This replaces ``cgi.parse_header()``, which Python 3.13 removed, and
    gives the same results.

    Args:
        line: The header value, e.g. ``'text/html; charset="utf-8"'``.

    Returns:
        A ``(value, params)`` tuple; parameter names are lowercased and
        quoted values are unquoted.
    """
    if '"' in line or '\\' in line:
        return _parse_quoted_header(line)

    main, _, rest = line.partition(';')
    params: dict[str, str] = {}
    if rest:
        for part in rest.split(';'):
            name, equals, value = part.partition('=')
            if equals:
                params[name.strip().lower()] = value.strip()
    return main.strip(), params


def _split_media_type(media_type: str) -> tuple[str, str, dict[str, str]]:
    # NOTE(gyrfalcon): imported here, since errors imports util (a cycle).
    from .. import errors

    full_type, params = parse_header(media_type)
    if full_type == '*':
        full_type = '*/*'
    main_type, slash, subtype = full_type.partition('/')
    if not slash:
        raise errors.InvalidMediaType('The media type value must contain type/subtype.')
    return main_type.strip(), subtype.strip(), params


@dataclasses.dataclass(slots=True)
class _MediaType:
    main_type: str
    subtype: str
    params: dict[str, str]


_NO_MATCH = (-1, -1, -1, -1, 0.0)
_Q_ERROR = (
    'If provided, the q parameter must be a real number in the range 0 through 1.'
)


@dataclasses.dataclass(slots=True)
class _MediaRange:
    main_type: str
    subtype: str
    quality: float
    params: dict[str, str]

    @classmethod
    def parse(cls, media_range: str) -> _MediaRange:
        from .. import errors

        try:
            main_type, subtype, params = _split_media_type(media_range)
        except errors.InvalidMediaType as ex:
            raise errors.InvalidMediaRange(
                'The media range value must contain type/subtype.'
            ) from ex

        q = params.pop('q', None)
        if q is None:
            return cls(main_type, subtype, 1.0, params)
        try:
            weight = float(q)
        except ValueError as ex:
            raise errors.InvalidMediaRange(_Q_ERROR) from ex
        if not (math.isfinite(weight) and 0.0 <= weight <= 1.0):
            raise errors.InvalidMediaRange(_Q_ERROR)
        return cls(main_type, subtype, weight, params)

    def score(self, media_type: _MediaType) -> tuple[int, int, int, int, float]:
        """Rate how specifically this range matches a media type.

        The tuple sorts by: exact main type, exact subtype, exactly the same
        parameters, the number of shared parameters, then the quality.
        """
        if '*' in (self.main_type, media_type.main_type):
            main_exact = 0
        elif self.main_type == media_type.main_type:
            main_exact = 1
        else:
            return _NO_MATCH

        if '*' in (self.subtype, media_type.subtype):
            sub_exact = 0
        elif self.subtype == media_type.subtype:
            sub_exact = 1
        else:
            return _NO_MATCH

        shared = self.params.keys() & media_type.params.keys()
        if any(self.params[name] != media_type.params[name] for name in shared):
            return _NO_MATCH
        same_params = int(self.params.keys() == media_type.params.keys())
        return (main_exact, sub_exact, same_params, len(shared), self.quality)


@functools.lru_cache(maxsize=128)
def _parse_media_type(media_type: str) -> _MediaType:
    return _MediaType(*_split_media_type(media_type))


@functools.lru_cache(maxsize=128)
def _parse_accept(header: str) -> tuple[_MediaRange, ...]:
    return tuple(_MediaRange.parse(item) for item in header.split(','))


@functools.lru_cache(maxsize=128)
def quality(media_type: str, header: str) -> float:
    """Return the quality an ``Accept``-like header gives a media type.

    The media type is matched against every media range in the header,
    and the quality (``q``) of the most specific match wins. Specificity is
    judged, in order, by: an exact (not wildcard) main type; an exact
    subtype; exactly the same parameters; and the number of shared
    parameters (whose values must be equal, or the range does not match).
    Among equally specific matches the highest quality wins.

    Args:
        media_type: The media type to rate, e.g. ``'application/json'``.
        header: The value of an ``Accept`` header.

    Returns:
        The quality, from 0.0 (not acceptable, or no match) to 1.0.

    Raises:
        InvalidMediaType: `media_type` has no ``/``.
        InvalidMediaRange: The header contains an invalid media range or
            ``q`` value.
    """
    target = _parse_media_type(media_type)
    return max(item.score(target) for item in _parse_accept(header))[-1]


def best_match(media_types: Iterable[str], header: str) -> str:
    """Choose the media type that an ``Accept``-like header prefers.

    Args:
        media_types: The candidates, in order of the server's preference
            (the first wins a tie).
        header: The value of an ``Accept`` header.

    Returns:
        The best candidate, or ``''`` when the header accepts none of them.

    Raises:
        InvalidMediaType: A candidate media type has no ``/``.
        InvalidMediaRange: The header contains an invalid media range or
            ``q`` value.
    """
    best = ''
    best_quality = 0.0
    for media_type in media_types:
        weight = quality(media_type, header)
        if weight > best_quality:
            best, best_quality = media_type, weight
    return best
