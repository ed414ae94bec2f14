"""Redirects, raised as exceptions (``raise HTTPFound('/login')``).

Each class is an ``HTTPStatus`` with the redirect's status code and a
``Location`` header, so raising it from a responder, hook or middleware ends
the request with the redirect.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import ClassVar

from . import status_codes
from .http_status import HTTPStatus

__all__ = (
    'HTTPFound',
    'HTTPMovedPermanently',
    'HTTPPermanentRedirect',
    'HTTPSeeOther',
    'HTTPTemporaryRedirect',
)


class _Redirect(HTTPStatus):
    """A redirect to another location, with a status fixed by the class.

    Args:
        location: The URI to redirect to (the ``Location`` header).
        headers: Extra headers; a ``location`` among them takes precedence.
    """

    _redirect_status: ClassVar[str]

    def __init__(
        self, location: str, headers: MutableMapping[str, str] | None = None
    ) -> None:
        if headers is None:
            headers = {}
        headers.setdefault('location', location)
        super().__init__(self._redirect_status, headers)


class HTTPMovedPermanently(_Redirect):
    """301 Moved Permanently: the resource has a new, permanent URI.

    Clients may change the method of a redirected POST to GET; use
    ``HTTPPermanentRedirect`` (308) to forbid that.
    """

    _redirect_status = status_codes.HTTP_301


class HTTPFound(_Redirect):
    """302 Found: the resource is temporarily at another URI.

    Clients may change the method of a redirected POST to GET; use
    ``HTTPTemporaryRedirect`` (307) to forbid that.
    """

    _redirect_status = status_codes.HTTP_302


class HTTPSeeOther(_Redirect):
    """303 See Other: the result is at another URI, to fetch with GET.

    Typically sent after a POST, so that reloading the page does not post
    the form again.
    """

    _redirect_status = status_codes.HTTP_303


class HTTPTemporaryRedirect(_Redirect):
    """307 Temporary Redirect: retry at another URI, with the same method."""

    _redirect_status = status_codes.HTTP_307


class HTTPPermanentRedirect(_Redirect):
    """308 Permanent Redirect: the resource moved for good; keep the method."""

    _redirect_status = status_codes.HTTP_308
