"""The default router: a segment tree compiled into one Python function.

Routes are kept as a tree of template segments. On first use (or when a route
is added with ``compile=True``) the tree is turned into the source of a single
function of nested ``if`` blocks, one block per segment, which is compiled
once and then called for every request. Candidates at a level are tried in a
fixed order (literal segments, then compound segments, then whole-segment
fields), and a candidate whose subtree does not match falls through to the
next one, so a more general route never hides a more specific one.

Field values are written to ``params`` only once a route has matched, so a
branch that is tried and abandoned leaves nothing behind.
"""

from __future__ import annotations

import inspect
import re
import threading
from collections import UserDict
from collections.abc import Callable, Iterable
from typing import Any

from gyrfalcon.routing import converters as _converters
from gyrfalcon.routing.template import (
    FIELD_PATTERN,
    Segment,
    UnacceptableRouteError,
    instantiate_converter,
    parse_segment,
)
from gyrfalcon.routing.util import map_http_methods, set_default_responders
from gyrfalcon.util.misc import is_python_func
from gyrfalcon.util.sync import _should_wrap_non_coroutines, wrap_sync_to_async

__all__ = (
    'CompiledRouter',
    'CompiledRouterNode',
    'CompiledRouterOptions',
    'ConverterDict',
    'UnacceptableRouteError',
)

MethodDict = dict[str, Callable[..., Any]]
_Finder = Callable[[list[str], dict[str, Any]], 'CompiledRouterNode | None']

_WHITESPACE = re.compile(r'\s')
_INDENT = '    '


class ConverterDict(UserDict[str, type[_converters.BaseConverter]]):
    """A dict of converter classes whose keys must be identifiers."""

    data: dict[str, type[_converters.BaseConverter]]

    def __setitem__(
        self, name: str, converter: type[_converters.BaseConverter]
    ) -> None:
        """Register a converter class under an identifier."""
        if not re.fullmatch(r'[A-Za-z_][A-Za-z0-9_]*', name or ''):
            raise ValueError(
                'Invalid converter name. Names may not be blank, and may only '
                'use ASCII letters, digits, and underscores. Names must begin '
                'with a letter or underscore.'
            )
        self.data[name] = converter


class CompiledRouterOptions:
    """Options of :class:`CompiledRouter`, exposed as ``app.router_options``.

    Attributes:
        converters (ConverterDict): The converters that field expressions may
            name, by identifier. Update it in place to add your own::

                app.router_options.converters['mc'] = MyConverter
                app.add_route('/{field:mc}', resource)

            Converter instances are shared by every request.
        default_to_on_request (bool): Route methods that have no responder
            of their own to ``on_request()`` (or ``on_request_{suffix}()``)
            when the resource defines it (default ``False``). It never
            replaces ``on_options()`` or ``on_websocket()``, and it must be
            set before the routes are added.
    """

    __slots__ = ('converters', 'default_to_on_request')

    converters: ConverterDict
    default_to_on_request: bool

    def __init__(self) -> None:
        object.__setattr__(self, 'converters', ConverterDict(_converters.BUILTIN))
        self.default_to_on_request = False

    def __setattr__(self, name: str, value: Any) -> None:
        """Set an option; ``converters`` may only be changed in place."""
        if name == 'converters':
            raise AttributeError('Cannot set "converters", please update it in place.')
        super().__setattr__(name, value)


class CompiledRouterNode:
    """One template segment in the router's tree.

    Attributes:
        raw_segment (str): The segment's text, as written in the template.
        segment (Segment): The parsed segment.
        children (list[CompiledRouterNode]): The segments that may follow.
        resource (object): The resource of the route ending here, or ``None``.
        method_map (dict): Its responders by method, or ``None``.
        uri_template (str): The route's template, or ``None``.
    """

    __slots__ = (
        'children',
        'method_map',
        'raw_segment',
        'resource',
        'segment',
        'uri_template',
    )

    def __init__(self, segment: Segment) -> None:
        self.segment = segment
        self.raw_segment = segment.raw
        self.children: list[CompiledRouterNode] = []
        self.resource: object = None
        self.method_map: MethodDict | None = None
        self.uri_template: str | None = None

    def conflicts_with(self, other: Segment) -> bool:
        """Tell whether a different segment could not live beside this one.

        Two whole-segment fields at the same level would always shadow each
        other, and so would two compound segments of the same shape.
        """
        mine = self.segment
        if mine.is_field:
            return other.is_field
        if mine.is_compound:
            return other.is_compound and mine.shape == other.shape
        return False


class CompiledRouter:
    """Route request paths to resources with a compiled segment matcher.

    The App creates one by default; pass another ``router=`` to the App to
    replace it. Compilation is deferred until the first ``find()``, unless
    the last ``add_route()`` passes ``compile=True``.
    """

    __slots__ = (
        '_compile_lock',
        '_find',
        '_finder_src',
        '_options',
        '_roots',
    )

    def __init__(self) -> None:
        self._options = CompiledRouterOptions()
        self._roots: list[CompiledRouterNode] = []
        self._finder_src = ''
        self._compile_lock = threading.Lock()
        self._find: _Finder = self._compile_and_find

    @property
    def options(self) -> CompiledRouterOptions:
        """The router's options (see :class:`CompiledRouterOptions`)."""
        return self._options

    @property
    def finder_src(self) -> str:
        """The Python source of the compiled matcher (compiling it if needed)."""
        self.find('/')
        return self._finder_src

    def map_http_methods(self, resource: object, **kwargs: Any) -> MethodDict:
        """Map HTTP methods to the resource's responders.

        Override this to change how responders are found; ``add_route()``
        calls it.

        Args:
            resource: The resource object.

        Keyword Args:
            **kwargs: ``suffix`` (str) maps ``GET`` to ``on_get_{suffix}()``
                and so on; other keywords are ignored.

        Returns:
            A dict of the responders the resource defines, by method.
        """
        return map_http_methods(
            resource,
            suffix=kwargs.get('suffix'),
            default_to_on_request=self._options.default_to_on_request,
        )

    def add_route(self, uri_template: str, resource: object, **kwargs: Any) -> None:
        """Add a route from a URI template to a resource.

        Args:
            uri_template: The template, e.g. ``'/books/{isbn}'``.
            resource: The object whose ``on_*()`` responders handle the route.

        Keyword Args:
            **kwargs: ``suffix`` (str) selects the ``on_*_{suffix}()``
                responders; ``compile`` (bool) compiles the matcher now
                instead of on first use (set it on the last route to spare
                the first request). Other keywords are ignored.

        Raises:
            UnacceptableRouteError: The template is invalid or conflicts with
                a route added before.
            TypeError: A responder has the wrong kind (a plain function on an
                ASGI app, or a coroutine function otherwise).
        """
        # NOTE(gyrfalcon): The App passes _asgi=True so that responders are
        #   required to be coroutine functions; a bare router defaults to the
        #   synchronous kind, as Falcon's does.
        asgi = bool(kwargs.get('_asgi', False))
        suffix = kwargs.get('suffix')
        method_map = self.map_http_methods(resource, **kwargs)

        default_responder = None
        if self._options.default_to_on_request:
            name = f'on_request_{suffix}' if suffix else 'on_request'
            default_responder = getattr(resource, name, None)
        set_default_responders(
            method_map, asgi=asgi, default_responder=default_responder
        )
        _check_responder_kinds(method_map, asgi)

        segments = self._parse_template(uri_template)
        self._insert(segments, uri_template, resource, method_map)
        self._find = (
            self._compile() if kwargs.get('compile') else self._compile_and_find
        )

    def find(
        self, uri: str, req: object | None = None
    ) -> tuple[object, MethodDict, dict[str, Any], str | None] | None:
        """Find the route matching a request path.

        Args:
            uri: The request path, e.g. ``'/books/978-0'``.
            req: The request; the default router ignores it.

        Returns:
            A ``(resource, method_map, params, uri_template)`` tuple, or
            ``None`` when no route matches.
        """
        params: dict[str, Any] = {}
        node = self._find(uri.lstrip('/').split('/'), params)
        if node is None:
            return None
        return node.resource, node.method_map or {}, params, node.uri_template

    # -- building the tree ---------------------------------------------------

    def _parse_template(self, uri_template: str) -> list[Segment]:
        if _WHITESPACE.search(FIELD_PATTERN.sub('{}', uri_template)):
            raise UnacceptableRouteError('URI templates may not include whitespace.')
        used_names: set[str] = set()
        known = self._options.converters.data
        return [
            parse_segment(raw, used_names, known)
            for raw in uri_template.lstrip('/').split('/')
        ]

    def _takes_rest(self, segment: Segment) -> tuple[str, str] | None:
        known = self._options.converters.data
        for field in segment.fields:
            if field.converter and _converters.consumes_multiple_segments(
                known[field.converter]
            ):
                return field.name, field.converter
        return None

    def _insert(
        self,
        segments: list[Segment],
        uri_template: str,
        resource: object,
        method_map: MethodDict,
    ) -> None:
        # NOTE(gyrfalcon): Validate the whole path first so that a refused
        #   route leaves the tree untouched.
        nodes = self._roots
        new_from: int | None = None
        last = len(segments) - 1
        for index, segment in enumerate(segments):
            found = next((n for n in nodes if n.raw_segment == segment.raw), None)
            if found is None:
                if any(n.conflicts_with(segment) for n in nodes):
                    raise UnacceptableRouteError(_CONFLICT)
                new_from = index
                break
            if index < last and (taken := self._takes_rest(found.segment)):
                raise UnacceptableRouteError(_NO_CHILDREN.format(uri_template, *taken))
            nodes = found.children

        if new_from is not None:
            for index in range(new_from, len(segments)):
                taken = self._takes_rest(segments[index])
                if taken and segments[index].is_compound:
                    raise UnacceptableRouteError(
                        f'Cannot use converter "{taken[1]}" of variable '
                        f'"{taken[0]}" in a template that includes other '
                        f'characters or variables.'
                    )
                if taken and index < last:
                    raise UnacceptableRouteError(
                        _NO_CHILDREN.format(uri_template, *taken)
                    )

        nodes = self._roots
        node: CompiledRouterNode | None = None
        for segment in segments:
            node = next((n for n in nodes if n.raw_segment == segment.raw), None)
            if node is None:
                node = CompiledRouterNode(segment)
                nodes.append(node)
            nodes = node.children
        assert node is not None
        # NOTE(gyrfalcon): Adding the same template again replaces the route.
        node.resource = resource
        node.method_map = method_map
        node.uri_template = uri_template

    # -- compiling -----------------------------------------------------------

    def _compile_and_find(
        self, path: list[str], params: dict[str, Any]
    ) -> CompiledRouterNode | None:
        with self._compile_lock:
            if self._find == self._compile_and_find:
                self._find = self._compile()
        return self._find(path, params)

    def _compile(self) -> _Finder:
        emitter = _Emitter(self._options.converters.data)
        source = emitter.build(self._roots)
        namespace = dict(emitter.namespace)
        exec(compile(source, '<gyrfalcon router>', 'exec'), namespace)
        self._finder_src = source
        finder: _Finder = namespace['find']
        return finder


_CONFLICT = (
    'The URI template for this route is inconsistent or conflicts with '
    "another route's template. This is usually caused by configuring a field "
    'converter differently for the same field in two different routes, or by '
    'using different field names at the same level in the path (e.g., '
    "'/parents/{id}' and '/parents/{parent_id}/children')"
)
_NO_CHILDREN = (
    'Cannot add route with template "{0}". Field name "{1}" uses the converter '
    '"{2}" that will consume all the path, making it impossible to match this '
    'route.'
)


def _check_responder_kinds(method_map: MethodDict, asgi: bool) -> None:
    # NOTE(gyrfalcon): A blocking responder on the event loop stalls every
    #   connection, so it is refused instead of being wrapped silently.
    for method, responder in method_map.items():
        is_coroutine = inspect.iscoroutinefunction(responder)
        if asgi and not is_coroutine and is_python_func(responder):
            if _should_wrap_non_coroutines():
                method_map[method] = wrap_sync_to_async(responder)
                continue
            raise TypeError(
                f'The {responder} responder must be a non-blocking async '
                f'coroutine (i.e., defined using async def) to avoid blocking '
                f'the main request thread.'
            )
        if not asgi and is_coroutine:
            raise TypeError(
                f'The {responder} responder must be a regular synchronous '
                f'method to be used with a WSGI app.'
            )


class _Emitter:
    """Write the matcher's source for a segment tree.

    Objects the code needs (converters, patterns, route nodes) are bound to
    short global names in ``namespace``. At depth ``d`` the code keeps the
    segment in ``s{d}``, a converted value in ``v{d}`` (or ``v{d}_{k}`` for
    the k-th field of a compound segment) and a compound match in ``m{d}`` /
    ``g{d}``; assignments to ``params`` are queued and written only where a
    route is returned.
    """

    def __init__(self, known: dict[str, type[_converters.BaseConverter]]) -> None:
        self._known = known
        self._lines: list[str] = []
        self.namespace: dict[str, Any] = {}

    def build(self, roots: list[CompiledRouterNode]) -> str:
        self._lines = ['def find(path, params):', f'{_INDENT}n = len(path)']
        self._level(roots, 0, [], 1)
        self._lines.append(f'{_INDENT}return None')
        return '\n'.join(self._lines) + '\n'

    def _bind(self, prefix: str, obj: object) -> str:
        name = f'_{prefix}{len(self.namespace)}'
        self.namespace[name] = obj
        return name

    def _emit(self, depth: int, text: str) -> None:
        self._lines.append(_INDENT * depth + text)

    def _level(
        self,
        nodes: list[CompiledRouterNode],
        level: int,
        pending: list[str],
        depth: int,
    ) -> None:
        self._emit(depth, f'if n > {level}:')
        self._emit(depth + 1, f's{level} = path[{level}]')
        for node in sorted(nodes, key=lambda n: n.segment.rank):
            self._node(node, level, list(pending), depth + 1)

    def _converter(self, name: str, args: str | None) -> tuple[str, bool]:
        cls = self._known[name]
        instance = instantiate_converter(cls, args)
        return (
            self._bind('c', instance.convert),
            _converters.consumes_multiple_segments(instance),
        )

    def _node(
        self, node: CompiledRouterNode, level: int, pending: list[str], depth: int
    ) -> None:
        segment = node.segment
        s = f's{level}'
        if segment.is_literal:
            self._emit(depth, f'if {s} == {segment.raw!r}:')
            depth += 1
        elif segment.is_field:
            field = segment.fields[0]
            if field.converter is None:
                pending.append(f'params[{field.name!r}] = {s}')
            else:
                convert, takes_rest = self._converter(field.converter, field.args)
                value = f'v{level}'
                source = f'path[{level}:]' if takes_rest else s
                self._emit(depth, f'{value} = {convert}({source})')
                self._emit(depth, f'if {value} is not None:')
                depth += 1
                pending.append(f'params[{field.name!r}] = {value}')
                if takes_rest:
                    self._return(node, pending, depth)
                    return
        else:
            assert segment.pattern is not None
            match, groups = f'm{level}', f'g{level}'
            self._emit(
                depth, f'{match} = {self._bind("p", segment.pattern.match)}({s})'
            )
            self._emit(depth, f'if {match} is not None:')
            depth += 1
            self._emit(depth, f'{groups} = {match}.groupdict()')
            plain = False
            for index, field in enumerate(segment.fields):
                if field.converter is None:
                    plain = True
                    continue
                convert, _ = self._converter(field.converter, field.args)
                value = f'v{level}_{index}'
                self._emit(depth, f'{value} = {convert}({groups}.pop({field.name!r}))')
                self._emit(depth, f'if {value} is not None:')
                depth += 1
                pending.append(f'params[{field.name!r}] = {value}')
            if plain:
                pending.append(f'params.update({groups})')

        if node.children:
            self._level(node.children, level + 1, pending, depth)
        if node.resource is not None:
            self._emit(depth, f'if n == {level + 1}:')
            self._return(node, pending, depth + 1)
        elif not node.children:
            self._emit(depth, 'pass')

    def _return(self, node: CompiledRouterNode, pending: list[str], depth: int) -> None:
        for statement in pending:
            self._emit(depth, statement)
        self._emit(depth, f'return {self._bind("r", node)}')


def iter_routes(router: CompiledRouter) -> Iterable[CompiledRouterNode]:
    """Yield every node of the router's tree that ends a route, depth first."""
    stack = list(reversed(router._roots))
    while stack:
        node = stack.pop()
        if node.resource is not None:
            yield node
        stack.extend(reversed(node.children))
