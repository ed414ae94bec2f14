"""Gyrfalcon: a Falcon-style ASGI framework for real-time servers.

The public API is Falcon 4's, so ``import gyrfalcon as falcon`` ports an
app: ``gyrfalcon.App`` is the ASGI app (the same class as
``gyrfalcon.asgi.App``), ``gyrfalcon.Request``/``Response`` are the ASGI
request and response, and the status codes, errors, media types, hooks and
utilities live where Falcon keeps them. The WebSocket protocol runs in a Rust
engine (``gyrfalcon._native``), with a pure-Python twin as the fallback
(``gyrfalcon.protocol``).
"""

from __future__ import annotations

from gyrfalcon import (
    constants,
    errors,
    forwarded,
    middleware,
    options,
    redirects,
    status_codes,
    util,
)
from gyrfalcon.asgi import App, BoundedStream, Request, Response
from gyrfalcon.constants import *  # noqa: F403
from gyrfalcon.errors import *  # noqa: F403
from gyrfalcon.forwarded import *  # noqa: F403
from gyrfalcon.hooks import after, before
from gyrfalcon.http_status import HTTPStatus
from gyrfalcon.middleware import *  # noqa: F403
from gyrfalcon.options import *  # noqa: F403
from gyrfalcon.redirects import *  # noqa: F403
from gyrfalcon.status_codes import *  # noqa: F403
from gyrfalcon.util import *  # noqa: F403
from gyrfalcon.util.deprecation import deprecated as _deprecated
from gyrfalcon.version import __version__


class API(App):  # type: ignore[type-arg]
    """Deprecated alias of :class:`App`, kept because Falcon still has it."""

    @_deprecated('The API class will be removed in Falcon 5.0, use falcon.App instead.')
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


__all__ = [
    'API',
    'App',
    'BoundedStream',
    'HTTPStatus',
    'Request',
    'Response',
    '__version__',
    'after',
    'before',
]
__all__ += constants.__all__
__all__ += errors.__all__
__all__ += forwarded.__all__
__all__ += middleware.__all__
__all__ += options.__all__
__all__ += redirects.__all__
__all__ += status_codes.__all__
__all__ += util.__all__
