"""The default router, field converters and routing helpers.

``CompiledRouter`` is what an App uses unless given another ``router=``;
custom routers may reuse the helpers exported here.
"""

from __future__ import annotations

from gyrfalcon.routing.compiled import (
    CompiledRouter,
    CompiledRouterOptions,
    UnacceptableRouteError,
)
from gyrfalcon.routing.converters import (
    BaseConverter,
    DateTimeConverter,
    FloatConverter,
    IntConverter,
    PathConverter,
    RegexConverter,
    UUIDConverter,
)
from gyrfalcon.routing.static import StaticRoute, StaticRouteAsync
from gyrfalcon.routing.util import (
    SuffixedMethodNotFoundError,
    compile_uri_template,
    map_http_methods,
    set_default_responders,
)

DefaultRouter = CompiledRouter

__all__ = (
    'BaseConverter',
    'CompiledRouter',
    'CompiledRouterOptions',
    'DateTimeConverter',
    'DefaultRouter',
    'FloatConverter',
    'IntConverter',
    'PathConverter',
    'RegexConverter',
    'StaticRoute',
    'StaticRouteAsync',
    'SuffixedMethodNotFoundError',
    'UUIDConverter',
    'UnacceptableRouteError',
    'compile_uri_template',
    'map_http_methods',
    'set_default_responders',
)
