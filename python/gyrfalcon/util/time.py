"""Time zone helpers kept for compatibility with Falcon apps.

``datetime.timezone.utc`` is the modern way to say GMT/UTC; ``TimezoneGMT``
exists because ported Falcon apps still construct it.
"""

from __future__ import annotations

import datetime

from .deprecation import deprecated

__all__ = ('TimezoneGMT',)

_ZERO = datetime.timedelta(0)


class TimezoneGMT(datetime.tzinfo):
    """The GMT time zone, as a ``datetime.tzinfo`` (deprecated).

    .. deprecated:: Falcon 4.0
        Use ``datetime.timezone.utc`` instead.
    """

    GMT_ZERO = _ZERO

    @deprecated(
        'TimezoneGMT is deprecated, use datetime.timezone.utc instead. '
        '(TimezoneGMT will be removed in Falcon 5.0.)'
    )
    def __init__(self) -> None:
        super().__init__()

    def utcoffset(self, dt: datetime.datetime | None) -> datetime.timedelta:
        """Return the offset from UTC, which is always zero.

        Args:
            dt: Ignored.

        Returns:
            A zero ``timedelta``.
        """
        return _ZERO

    def tzname(self, dt: datetime.datetime | None) -> str:
        """Return the name of the time zone.

        Args:
            dt: Ignored.

        Returns:
            ``'GMT'``.
        """
        return 'GMT'

    def dst(self, dt: datetime.datetime | None) -> datetime.timedelta:
        """Return the daylight saving adjustment, which is always zero.

        Args:
            dt: Ignored.

        Returns:
            A zero ``timedelta``.
        """
        return _ZERO
