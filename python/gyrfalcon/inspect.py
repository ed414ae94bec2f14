"""Inspect an app: its routes, middleware, static routes, sinks and handlers.

``inspect_app(app)`` returns an ``AppInfo`` tree; ``str()`` (or
``to_string()``) renders it as text, the same layout as Falcon's::

    Gyrfalcon App (ASGI)
    • Routes:
        ⇒ /feed - Feed:
           └── WEBSOCKET - on_websocket

A custom router becomes inspectable by registering a function for its class
with ``@register_router(MyRouter)``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, TypeVar

from gyrfalcon import app_helpers
from gyrfalcon.routing import CompiledRouter
from gyrfalcon.routing.compiled import CompiledRouterNode

__all__ = (
    'AppInfo',
    'ErrorHandlerInfo',
    'InspectVisitor',
    'MiddlewareClassInfo',
    'MiddlewareInfo',
    'MiddlewareMethodInfo',
    'MiddlewareTreeInfo',
    'MiddlewareTreeItemInfo',
    'RouteInfo',
    'RouteMethodInfo',
    'SinkInfo',
    'StaticRouteInfo',
    'StringVisitor',
    'inspect_app',
    'inspect_compiled_router',
    'inspect_error_handlers',
    'inspect_middleware',
    'inspect_routes',
    'inspect_sinks',
    'inspect_static_routes',
    'register_router',
)

_RouterInspector = Callable[[Any], 'list[RouteInfo]']
_F = TypeVar('_F', bound=_RouterInspector)
_supported_routers: dict[type, _RouterInspector] = {}


def inspect_app(app: Any) -> AppInfo:
    """Describe an app.

    Args:
        app: The ``gyrfalcon.App`` to inspect.

    Returns:
        AppInfo: The description; ``to_string()`` renders it as text.
    """
    return AppInfo(
        inspect_routes(app),
        inspect_middleware(app),
        inspect_static_routes(app),
        inspect_sinks(app),
        inspect_error_handlers(app),
        getattr(app, '_ASGI', True),
    )


def inspect_routes(app: Any) -> list[RouteInfo]:
    """Describe the routes of an app.

    Raises:
        TypeError: The app's router class has no registered inspector.
    """
    router = app._router
    inspector = _supported_routers.get(type(router))
    if inspector is None:
        raise TypeError(
            f'Unsupported router class {type(router)}. Use "register_router" to '
            f'register a function that can inspect the router used by the '
            f'provided application'
        )
    return inspector(router)


def register_router(router_class: type) -> Callable[[_F], _F]:
    """Register a function that lists the routes of a router class.

    The function takes the router and returns a list of ``RouteInfo``::

        @register_router(MyRouter)
        def inspect_my_router(router):
            return [RouteInfo('/path', 'Resource', 'app.py:42', [])]

    Raises:
        ValueError: The class already has an inspector.
    """

    def register(function: _F) -> _F:
        if router_class in _supported_routers:
            raise ValueError(
                f'Another function is already registered for the router {router_class}'
            )
        _supported_routers[router_class] = function
        return function

    return register


def inspect_static_routes(app: Any) -> list[StaticRouteInfo]:
    """Describe the static routes of an app, in matching order."""
    return [
        StaticRouteInfo(route._prefix, route._directory, route._fallback_filename)
        for route, _, _ in app._static_routes
    ]


def inspect_sinks(app: Any) -> list[SinkInfo]:
    """Describe the sinks of an app, in matching order."""
    sinks = []
    for prefix, sink, _ in app._sinks:
        source, name = _source_and_name(sink)
        sinks.append(SinkInfo(prefix.pattern, name, source))
    return sinks


def inspect_error_handlers(app: Any) -> list[ErrorHandlerInfo]:
    """Describe the error handlers of an app, the framework's included."""
    handlers = []
    for exception, handler in app._error_handlers.items():
        source, name = _source_and_name(handler)
        handlers.append(
            ErrorHandlerInfo(exception.__name__, name, source, _is_internal(handler))
        )
    return handlers


def inspect_middleware(app: Any) -> MiddlewareInfo:
    """Describe the middleware of an app: call order and components."""
    components = app._unprepared_middleware
    stacks = app_helpers.prepare_middleware(components, True, True)
    tree = MiddlewareTreeInfo(
        *(
            [
                MiddlewareTreeItemInfo(
                    _source_and_name(method)[1],
                    _source_and_name(type(getattr(method, '__self__', None)))[1],
                )
                for method in stack
            ]
            for stack in stacks
        )
    )
    classes = []
    for component in components:
        prepared = app_helpers.prepare_middleware([component], True, True)
        methods = [
            MiddlewareMethodInfo(stack[0].__name__, _source(stack[0]))
            for stack in prepared
            if stack
        ]
        source, name = _source_and_name(type(component))
        classes.append(MiddlewareClassInfo(name, source, methods))
    return MiddlewareInfo(tree, classes, app._independent_middleware)


@register_router(CompiledRouter)
def inspect_compiled_router(router: CompiledRouter) -> list[RouteInfo]:
    """List the routes of a :class:`~.CompiledRouter`, depth first."""
    routes: list[RouteInfo] = []

    def walk(nodes: list[CompiledRouterNode], parent: str) -> None:
        for node in nodes:
            path = f'{parent}/{node.raw_segment}'
            if node.resource is not None:
                methods = []
                for method, responder in (node.method_map or {}).items():
                    real = (
                        responder.func
                        if isinstance(responder, functools.partial)
                        else responder
                    )
                    methods.append(
                        RouteMethodInfo(
                            method,
                            _source(real),
                            getattr(real, '__name__', repr(real)),
                            _is_internal(real),
                        )
                    )
                source, name = _source_and_name(node.resource)
                routes.append(RouteInfo(path, name, source, methods))
            walk(node.children, path)

    walk(router._roots, '')
    return routes


# -- the description tree -------------------------------------------------------


class _Traversable:
    __visit_name__: ClassVar[str] = 'N/A'

    def to_string(self, verbose: bool = False, internal: bool = False) -> str:
        """Render as text.

        Args:
            verbose (bool): Add source locations (default ``False``).
            internal (bool): Include what the framework added itself, such
                as default responders and error handlers (default ``False``).
        """
        return StringVisitor(verbose, internal).process(self)

    def __repr__(self) -> str:
        return self.to_string()


class RouteMethodInfo(_Traversable):
    """One responder of a route: method, source, function name, internal."""

    __visit_name__ = 'route_method'

    def __init__(
        self, method: str, source_info: str, function_name: str, internal: bool
    ) -> None:
        self.method = method
        self.source_info = source_info
        self.function_name = function_name
        self.internal = internal
        # NOTE(gyrfalcon): 'on_get_item' has the suffix 'item'; framework
        #   responders do not start with 'on'.
        self.suffix = (
            '_'.join(function_name.split('_')[2:])
            if function_name.startswith('on')
            else ''
        )


class RouteInfo(_Traversable):
    """A route: path, resource class, source, and its responders."""

    __visit_name__ = 'route'

    def __init__(
        self,
        path: str,
        class_name: str,
        source_info: str,
        methods: list[RouteMethodInfo],
    ) -> None:
        self.path = path
        self.class_name = class_name
        self.source_info = source_info
        self.methods = methods


class StaticRouteInfo(_Traversable):
    """A static route: prefix, directory and fallback file."""

    __visit_name__ = 'static_route'

    def __init__(
        self, prefix: str, directory: str, fallback_filename: str | None
    ) -> None:
        self.prefix = prefix
        self.directory = directory
        self.fallback_filename = fallback_filename


class SinkInfo(_Traversable):
    """A sink: prefix pattern, name and source."""

    __visit_name__ = 'sink'

    def __init__(self, prefix: str, name: str, source_info: str) -> None:
        self.prefix = prefix
        self.name = name
        self.source_info = source_info


class ErrorHandlerInfo(_Traversable):
    """An error handler: exception name, handler name, source, internal."""

    __visit_name__ = 'error_handler'

    def __init__(self, error: str, name: str, source_info: str, internal: bool) -> None:
        self.error = error
        self.name = name
        self.source_info = source_info
        self.internal = internal


class MiddlewareMethodInfo(_Traversable):
    """A middleware method: name and source."""

    __visit_name__ = 'middleware_method'

    def __init__(self, function_name: str, source_info: str) -> None:
        self.function_name = function_name
        self.source_info = source_info
        self.internal = False


class MiddlewareClassInfo(_Traversable):
    """A middleware component: class name, source and methods."""

    __visit_name__ = 'middleware_class'

    def __init__(
        self, name: str, source_info: str, methods: list[MiddlewareMethodInfo]
    ) -> None:
        self.name = name
        self.source_info = source_info
        self.methods = methods


class MiddlewareTreeItemInfo(_Traversable):
    """One step of the middleware call order: method and class names."""

    __visit_name__ = 'middleware_tree_item'

    _symbols: ClassVar[dict[str, str]] = {
        'process_request': '→',
        'process_resource': '↣',
        'process_response': '↢',
    }

    def __init__(self, name: str, class_name: str) -> None:
        self.name = name
        self.class_name = class_name


class MiddlewareTreeInfo(_Traversable):
    """The middleware call order: request, resource and response methods."""

    __visit_name__ = 'middleware_tree'

    def __init__(
        self,
        request: list[MiddlewareTreeItemInfo],
        resource: list[MiddlewareTreeItemInfo],
        response: list[MiddlewareTreeItemInfo],
    ) -> None:
        self.request = request
        self.resource = resource
        self.response = response


class MiddlewareInfo(_Traversable):
    """The middleware of an app: call order, components, independence."""

    __visit_name__ = 'middleware'

    def __init__(
        self,
        middleware_tree: MiddlewareTreeInfo,
        middleware_classes: list[MiddlewareClassInfo],
        independent: bool,
    ) -> None:
        self.middleware_tree = middleware_tree
        self.middleware_classes = middleware_classes
        self.independent = independent
        self.independent_text = (
            'Middleware are independent' if independent else 'Middleware are dependent'
        )


class AppInfo(_Traversable):
    """An app: routes, middleware, static routes, sinks and error handlers."""

    __visit_name__ = 'app'

    def __init__(
        self,
        routes: list[RouteInfo],
        middleware: MiddlewareInfo,
        static_routes: list[StaticRouteInfo],
        sinks: list[SinkInfo],
        error_handlers: list[ErrorHandlerInfo],
        asgi: bool,
    ) -> None:
        self.routes = routes
        self.middleware = middleware
        self.static_routes = static_routes
        self.sinks = sinks
        self.error_handlers = error_handlers
        self.asgi = asgi

    def to_string(
        self, verbose: bool = False, internal: bool = False, name: str = ''
    ) -> str:
        """Render as text, headed by `name` (default ``'Gyrfalcon App'``)."""
        return StringVisitor(verbose, internal, name).process(self)


# -- rendering -----------------------------------------------------------------------


class InspectVisitor:
    """Base of the visitors: ``process()`` calls ``visit_<__visit_name__>()``."""

    def process(self, instance: _Traversable) -> str:
        """Render one node of the description tree.

        Raises:
            RuntimeError: The visitor has no method for the node's class.
        """
        visit = getattr(self, f'visit_{instance.__visit_name__}', None)
        if visit is None:
            raise RuntimeError(f'This visitor does not support {type(instance)}')
        text: str = visit(instance)
        return text


class StringVisitor(InspectVisitor):
    """Render a description tree as indented text.

    Args:
        verbose (bool): Add source locations (default ``False``).
        internal (bool): Include what the framework added (default ``False``).
        name (str): The app's title (default ``'Gyrfalcon App'``).
    """

    def __init__(
        self, verbose: bool = False, internal: bool = False, name: str = ''
    ) -> None:
        self.verbose = verbose
        self.internal = internal
        self.name = name
        self.indent = 0

    @property
    def tab(self) -> str:
        """The current indentation."""
        return ' ' * self.indent

    def _located(self, text: str, source_info: str) -> str:
        return f'{text} ({source_info})' if self.verbose else text

    def _items(self, methods: Sequence[Any]) -> str:
        shown = [self.process(m) for m in _visible(methods, self.internal)]
        tab = self.tab + ' ' * 3
        lines = [f'{tab}├── {text}' for text in shown[:-1]]
        lines += [f'{tab}└── {text}' for text in shown[-1:]]
        return '\n'.join(lines)

    def _with_items(self, text: str, methods: Sequence[Any]) -> str:
        items = self._items(methods)
        return f'{text}:\n{items}' if items else text

    def visit_route_method(self, info: RouteMethodInfo) -> str:
        """Render a responder of a route."""
        return self._located(f'{info.method} - {info.function_name}', info.source_info)

    def visit_route(self, info: RouteInfo) -> str:
        """Render a route and its responders."""
        text = self._located(
            f'{self.tab}⇒ {info.path} - {info.class_name}', info.source_info
        )
        return self._with_items(text, info.methods)

    def visit_static_route(self, info: StaticRouteInfo) -> str:
        """Render a static route."""
        text = f'{self.tab}↦ {info.prefix} {info.directory}'
        return f'{text} [{info.fallback_filename}]' if info.fallback_filename else text

    def visit_sink(self, info: SinkInfo) -> str:
        """Render a sink."""
        return self._located(f'{self.tab}⇥ {info.prefix} {info.name}', info.source_info)

    def visit_error_handler(self, info: ErrorHandlerInfo) -> str:
        """Render an error handler."""
        return self._located(f'{self.tab}⇜ {info.error} {info.name}', info.source_info)

    def visit_middleware_method(self, info: MiddlewareMethodInfo) -> str:
        """Render a middleware method."""
        return self._located(info.function_name, info.source_info)

    def visit_middleware_class(self, info: MiddlewareClassInfo) -> str:
        """Render a middleware component and its methods."""
        text = self._located(f'{self.tab}↣ {info.name}', info.source_info)
        return self._with_items(text, info.methods)

    def visit_middleware_tree_item(self, info: MiddlewareTreeItemInfo) -> str:
        """Render one step of the middleware call order."""
        symbol = info._symbols.get(info.name, '→')
        return f'{self.tab}{symbol} {info.class_name}.{info.name}'

    def visit_middleware_tree(self, info: MiddlewareTreeInfo) -> str:
        """Render the middleware call order around the responder."""
        before = len(info.request) + len(info.resource)
        after = len(info.response)
        if before + after == 0:
            return ''
        step = 2
        start = self.indent
        # NOTE(gyrfalcon): The responder sits at the deepest point; the
        #   response methods climb back out.
        self.indent += step * max(after - before, 0)
        lines: list[str] = []
        for item in info.request:
            lines.append(self.process(item))
            self.indent += step
        if lines:
            lines.append('')
        for item in info.resource:
            lines.append(self.process(item))
            self.indent += step
        if info.resource or not lines:
            lines.append('')
        lines.append(f'{" " * (self.indent + step)}├── Process route responder')
        if info.response:
            lines.append('')
        for item in info.response:
            self.indent -= step
            lines.append(self.process(item))
        self.indent = start
        return '\n'.join(lines)

    def visit_middleware(self, info: MiddlewareInfo) -> str:
        """Render the middleware (and, verbose, its components)."""
        text = self.process(info.middleware_tree)
        if self.verbose:
            self.indent += 4
            classes = '\n'.join(self.process(c) for c in info.middleware_classes)
            self.indent -= 4
            if classes:
                text += f'\n{self.tab}- Middleware classes:\n{classes}'
        return text

    def visit_app(self, info: AppInfo) -> str:
        """Render a whole app."""
        self.indent = 4
        text = f'{self.name or "Gyrfalcon App"} ({"ASGI" if info.asgi else "WSGI"})'
        if info.routes:
            text += '\n• Routes:\n' + '\n'.join(self.process(r) for r in info.routes)
        middleware = self.process(info.middleware)
        if middleware:
            text += (
                f'\n• Middleware ({info.middleware.independent_text}):\n{middleware}'
            )
        for title, entries in (
            ('Static routes', info.static_routes),
            ('Sinks', info.sinks),
            ('Error handlers', _visible(info.error_handlers, self.internal)),
        ):
            if entries:
                text += f'\n• {title}:\n' + '\n'.join(self.process(e) for e in entries)
        return text


# -- helpers ------------------------------------------------------------------------


def _visible(items: Sequence[Any], internal: bool) -> list[Any]:
    return list(items) if internal else [item for item in items if not item.internal]


def _source(obj: Any, default: str = '[unknown file]') -> str:
    """Return ``'file:line'`` where `obj` is defined, or `default`."""
    try:
        return f'{inspect.getsourcefile(obj)}:{inspect.findsource(obj)[1]}'
    except Exception:
        return default


def _source_and_name(obj: Any) -> tuple[str, str]:
    """Return where `obj` (or, for an instance, its class) is defined, and its name."""
    source = _source(obj, '')
    if not source:
        source = _source(type(obj))
    name = getattr(obj, '__name__', None) or getattr(type(obj), '__name__', '[unknown]')
    return source, str(name)


def _is_internal(obj: Any) -> bool:
    """Tell whether `obj` comes from the framework itself."""
    module = inspect.getmodule(obj)
    return module is not None and module.__name__.startswith('gyrfalcon.')
