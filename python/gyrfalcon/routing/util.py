"""Routing helpers: responder discovery, default responders, templates."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from gyrfalcon import constants, responders

__all__ = (
    'SuffixedMethodNotFoundError',
    'compile_uri_template',
    'map_http_methods',
    'set_default_responders',
)

MethodDict = dict[str, Callable[..., Any]]


class SuffixedMethodNotFoundError(Exception):
    """A route suffix was given, but the resource has no responder for it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def map_http_methods(
    resource: object, suffix: str | None = None, default_to_on_request: bool = False
) -> MethodDict:
    """Map HTTP methods (and ``WEBSOCKET``) to the responders of a resource.

    A responder is a callable attribute named ``on_`` plus the lowercase
    method, e.g. ``on_get()`` for ``GET`` and ``on_websocket()`` for a
    WebSocket handshake.

    Args:
        resource: The resource object.
        suffix (str): Look for ``on_{method}_{suffix}()`` instead.
        default_to_on_request (bool): Accept a suffix for which only
            ``on_request_{suffix}()`` exists.

    Returns:
        dict: The responders the resource defines, by uppercase method.

    Raises:
        SuffixedMethodNotFoundError: A suffix was given and the resource has
            no responder with it.
    """
    method_map: MethodDict = {}
    for method in constants.COMBINED_METHODS:
        name = f'on_{method.lower()}_{suffix}' if suffix else f'on_{method.lower()}'
        responder = getattr(resource, name, None)
        if responder is not None and callable(responder):
            method_map[method] = responder

    if suffix and not method_map:
        if not (default_to_on_request and hasattr(resource, f'on_request_{suffix}')):
            raise SuffixedMethodNotFoundError(
                'No responders found for the specified suffix'
            )
    return method_map


def set_default_responders(
    method_map: MethodDict,
    asgi: bool = False,
    default_responder: Callable[..., Any] | None = None,
) -> None:
    """Fill in responders for the methods a resource does not implement.

    ``OPTIONS`` gets a responder that answers 200 with an ``Allow`` header,
    ``WEBSOCKET`` gets one that raises 405 (``on_request()`` never serves a
    WebSocket), and every other method gets `default_responder`, or one that
    raises :class:`~gyrfalcon.HTTPMethodNotAllowed` with an ``Allow`` header.

    Args:
        method_map: The responders found on the resource; updated in place.
        asgi (bool): Build coroutine responders (default ``False``).
        default_responder: The responder for methods without one of their
            own, e.g. the resource's ``on_request()``.
    """
    meta = set(constants._META_METHODS)
    allowed = [method for method in sorted(method_map) if method not in meta]
    if 'OPTIONS' not in method_map:
        # NOTE(gyrfalcon): the OPTIONS responder lists what the resource
        #   implements; OPTIONS itself then joins the list given to 405s.
        method_map['OPTIONS'] = responders.create_default_options(allowed, asgi=asgi)
        allowed.append('OPTIONS')
    if 'WEBSOCKET' not in method_map:
        method_map['WEBSOCKET'] = responders.create_method_not_allowed(
            allowed, asgi=asgi
        )
    if default_responder is None:
        default_responder = responders.create_method_not_allowed(allowed, asgi=asgi)
    for method in constants.COMBINED_METHODS:
        method_map.setdefault(method, default_responder)


_SIMPLE_FIELD = re.compile(r'\{([A-Za-z]\w*)\}')


def compile_uri_template(template: str) -> tuple[set[str], re.Pattern[str]]:
    """Compile a URI template with simple fields into a regular expression.

    Only plain ``{name}`` fields are understood (no converters); each one
    matches a single, non-empty path segment. A trailing slash is ignored,
    and the pattern is case-insensitive and anchored at both ends. This is
    a helper for custom routers; the default router does not use it.

    Args:
        template: A template such as ``'/books/{isbn}/pages/{page}'``.

    Returns:
        A ``(field_names, pattern)`` tuple.

    Raises:
        TypeError: The template is not a string.
        ValueError: The template does not start with ``'/'`` or contains
            ``'//'``.
    """
    if not isinstance(template, str):
        raise TypeError('uri_template is not a string')
    if not template.startswith('/'):
        raise ValueError("uri_template must start with '/'")
    if '//' in template:
        raise ValueError("uri_template may not contain '//'")
    if template != '/' and template.endswith('/'):
        template = template[:-1]

    fields = set(_SIMPLE_FIELD.findall(template))
    parts: list[str] = []
    position = 0
    for match in _SIMPLE_FIELD.finditer(template):
        parts.append(re.escape(template[position : match.start()]))
        parts.append(f'(?P<{match.group(1)}>[^/]+)')
        position = match.end()
    parts.append(re.escape(template[position:]))
    return fields, re.compile(r'\A' + ''.join(parts) + r'\Z', re.IGNORECASE)
