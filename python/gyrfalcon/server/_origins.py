"""The Origin allow-list of the WebSocket protocol class.

A browser sends ``Origin: scheme://host[:port]`` with every WebSocket
handshake, and a page on another site can open a WebSocket to any server,
with the user's cookies (cross-site WebSocket hijacking). RFC 6455 §10.2:
a server that serves only certain sites checks ``Origin`` and answers 403.

An allow-list entry is one of:

* ``https://example.com`` or ``http://127.0.0.1:8000``: exactly this origin
  (scheme, host and port; the default port of ``http``/``ws`` (80) and
  ``https``/``wss`` (443) may be left out on either side);
* ``https://*.example.com``: any subdomain of ``example.com``, at any
  depth, with this scheme and port, but not ``example.com`` itself;
* ``null``: the opaque origin browsers send from sandboxed frames and
  ``file:`` pages (rejected unless listed);
* ``none``: requests without an ``Origin`` header (non-browser clients),
  which are rejected unless listed, as python-websockets does.

Hosts are compared label by label after lowercasing, so
``https://example.com.evil.com`` matches neither ``https://example.com`` nor
``https://*.example.com``, and ``https://evil-example.com`` does not match
``https://*.example.com``. A value that is not a serialised origin (a path,
user info, a bad port, two ``Origin`` headers) never matches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

__all__ = ['OriginPolicy', 'origin_policy']

_DEFAULT_PORTS = {'http': 80, 'ws': 80, 'https': 443, 'wss': 443}
_SCHEME = re.compile(r'[a-z][a-z0-9+.-]*\Z')
_LABEL = re.compile(r'[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?\Z')
_IPV6 = re.compile(r'\[[0-9a-f:.]+\]\Z')

_Origin = tuple[str, str, int | None]


def _parse(value: str) -> _Origin | None:
    # scheme "://" host [ ":" port ], lowercased; None if anything else.
    scheme, sep, rest = value.partition('://')
    scheme = scheme.lower()
    if not sep or not _SCHEME.match(scheme) or not rest:
        return None
    host, port = rest.lower(), None
    if host.startswith('['):
        end = host.find(']')
        if end < 0:
            return None
        host, tail = host[: end + 1], host[end + 1 :]
        if not _IPV6.match(host):
            return None
    else:
        host, colon, tail = host.partition(':')
        tail = colon + tail
        if not host or not all(_LABEL.match(label) for label in host.split('.')):
            return None
    if tail:
        if not tail.startswith(':') or not tail[1:].isdigit() or len(tail) > 6:
            return None
        port = int(tail[1:])
        if not 0 < port < 65536:
            return None
    if port is None or port == _DEFAULT_PORTS.get(scheme):
        port = _DEFAULT_PORTS.get(scheme)
    return scheme, host, port


class OriginPolicy:
    """Decide whether an ``Origin`` request header is allowed.

    Args:
        allowed: The allow-list entries (see the module docstring).

    Raises:
        ValueError: An entry is neither an origin, a ``*.`` pattern,
            ``null`` nor ``none``.
    """

    __slots__ = ('_exact', '_missing', '_null', '_patterns')

    def __init__(self, allowed: Iterable[str]) -> None:
        self._exact: set[_Origin] = set()
        self._patterns: list[_Origin] = []
        self._missing = False
        self._null = False
        for entry in allowed:
            text = entry.strip()
            lowered = text.lower()
            if lowered == 'none':
                self._missing = True
                continue
            if lowered == 'null':
                self._null = True
                continue
            scheme, sep, rest = text.partition('://')
            wildcard = rest.startswith('*.')
            parsed = _parse(f'{scheme}{sep}{rest[2:]}' if wildcard else text)
            if parsed is None:
                raise ValueError(
                    f'invalid allowed origin {entry!r}: expected '
                    "'scheme://host[:port]', 'scheme://*.domain[:port]', "
                    "'null' or 'none'"
                )
            if wildcard:
                self._patterns.append(parsed)
            else:
                self._exact.add(parsed)

    def allows(self, values: Sequence[bytes]) -> bool:
        """Return whether a request with these ``Origin`` values may connect.

        Args:
            values: The values of every ``Origin`` header of the request.

        Returns:
            ``True`` if the origin is on the list (or missing, when ``none``
            is listed).
        """
        if not values:
            return self._missing
        if len(values) > 1:
            return False
        value = values[0].decode('latin-1').strip()
        if value == 'null':
            return self._null
        origin = _parse(value)
        if origin is None:
            return False
        if origin in self._exact:
            return True
        scheme, host, port = origin
        for pattern_scheme, domain, pattern_port in self._patterns:
            if (
                scheme == pattern_scheme
                and port == pattern_port
                and host.endswith('.' + domain)
                and not host.startswith('[')
            ):
                return True
        return False


_policies: dict[tuple[str, ...], OriginPolicy] = {}


def origin_policy(allowed: Iterable[str]) -> OriginPolicy:
    """Return the compiled policy for an allow-list (cached per list).

    Args:
        allowed: The allow-list entries.

    Returns:
        The policy.

    Raises:
        ValueError: An entry is invalid.
    """
    key = tuple(allowed)
    policy = _policies.get(key)
    if policy is None:
        policy = _policies[key] = OriginPolicy(key)
    return policy
