"""Hooks: run an action before or after a responder.

``@before(action)`` and ``@after(action)`` decorate a single responder, or a
resource class, in which case every responder of the class is wrapped
(``on_get()``, ``on_websocket()``, ``on_post_{suffix}()``...). For a
WebSocket responder the action receives the ``WebSocket`` where an HTTP
action receives the response.

Responders of an ASGI app are coroutines, so actions must be coroutine
functions too; a plain function is refused when the hook is applied, instead
of failing on the first request.
"""

from __future__ import annotations

import functools
import inspect
import os
import re
import warnings
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from gyrfalcon.constants import COMBINED_METHODS, TRUE_STRINGS
from gyrfalcon.errors import CompatibilityError
from gyrfalcon.util.misc import get_argnames, is_python_func
from gyrfalcon.util.sync import _wrap_non_coroutine_unsafe

__all__ = ('after', 'before', 'decorate_on_request')

_T = TypeVar('_T')

_RESPONDER_NAME = re.compile(
    r'^on_({})(_\w+)?$'.format('|'.join(m.lower() for m in COMBINED_METHODS))
)
_ON_REQUEST_NAME = re.compile(r'^on_request(_\w+)?$')

decorate_on_request: bool = (
    os.environ.get('FALCON_DECORATE_ON_REQUEST', '0') in TRUE_STRINGS
)
"""Let class-level hooks also wrap ``on_request()`` default responders.

Off by default (such responders are skipped with a warning). Set it before
the resource classes are decorated, or set the environment variable
``FALCON_DECORATE_ON_REQUEST=1``.
"""


def before(action: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[[_T], _T]:
    """Run `action` before the responder (or every responder of a class).

    The action is called as ``action(req, resp, resource, params, *args,
    **kwargs)``, where `params` holds the URI template fields that will be
    passed to the responder; the action may change or add to them::

        async def check_id(req, resp, resource, params):
            if not params['id'].isdigit():
                raise gyrfalcon.HTTPBadRequest(title='Invalid ID')

    Args:
        action (callable): The coroutine function to run.
        *args: Extra positional arguments for `action`.

    Keyword Args:
        **kwargs: Extra keyword arguments for `action`.

    Returns:
        The decorator.
    """
    return _decorator(action, args, kwargs, _wrap_before)


def after(action: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[[_T], _T]:
    """Run `action` after the responder (or every responder of a class).

    The action is called as ``action(req, resp, resource, *args,
    **kwargs)``. It does not run when the responder raises.

    Args:
        action (callable): The coroutine function to run.
        *args: Extra positional arguments for `action`.

    Keyword Args:
        **kwargs: Extra keyword arguments for `action`.

    Returns:
        The decorator.
    """
    return _decorator(action, args, kwargs, _wrap_after)


_Wrapper = Callable[
    [Callable[..., Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]],
    Callable[..., Any],
]


def _decorator(
    action: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    wrap: _Wrapper,
) -> Callable[[_T], _T]:
    def decorate(target: _T) -> _T:
        if not isinstance(target, type):
            return wrap(target, action, args, kwargs)  # type: ignore[arg-type,return-value]
        for name, responder in inspect.getmembers(target, callable):
            if _RESPONDER_NAME.match(name):
                setattr(target, name, wrap(responder, action, args, kwargs))
            elif _ON_REQUEST_NAME.match(name):
                if decorate_on_request:
                    setattr(target, name, wrap(responder, action, args, kwargs))
                else:
                    warnings.warn(
                        f'Skipping decoration of default responder {name!r} on '
                        f'resource {target.__name__!r}. To enable decorating '
                        f'default responders with class-level hooks, set '
                        f'gyrfalcon.hooks.decorate_on_request to True (or set '
                        f'the environment variable FALCON_DECORATE_ON_REQUEST=1).',
                        UserWarning,
                        stacklevel=3,
                    )
        return target

    return decorate


def _argnames(func: Callable[..., Any]) -> list[str]:
    return list(get_argnames(func))


def _async_action(
    action: Callable[..., Any], responder: Callable[..., Any]
) -> Callable[..., Awaitable[None]]:
    action = _wrap_non_coroutine_unsafe(action) or action
    if inspect.iscoroutinefunction(action) or not is_python_func(action):
        return action
    raise CompatibilityError(
        f'The hook action {action!r} must be a coroutine function (async def) '
        f'to be applied to the coroutine responder {responder!r}.'
    )


def _merge_positional(
    args: tuple[Any, ...], kwargs: dict[str, Any], names: list[str]
) -> None:
    # NOTE(gyrfalcon): The framework passes fields as keywords, but an app
    #   calling a decorated responder itself (e.g. through super()) may pass
    #   them by position.
    for name, value in zip(names, args, strict=False):
        kwargs.setdefault(name, value)


def _wrap_before(
    responder: Callable[..., Any],
    action: Callable[..., Any],
    action_args: tuple[Any, ...],
    action_kwargs: dict[str, Any],
) -> Callable[..., Any]:
    extra_names = _argnames(responder)[2:]

    if inspect.iscoroutinefunction(responder):
        run_action = _async_action(action, responder)

        @functools.wraps(responder)
        async def do_before(
            self: Any, req: Any, resp: Any, *args: Any, **kw: Any
        ) -> Any:
            if args:
                _merge_positional(args, kw, extra_names)
            await run_action(req, resp, self, kw, *action_args, **action_kwargs)
            return await responder(self, req, resp, **kw)

        return do_before

    @functools.wraps(responder)
    def do_before_sync(self: Any, req: Any, resp: Any, *args: Any, **kw: Any) -> Any:
        if args:
            _merge_positional(args, kw, extra_names)
        action(req, resp, self, kw, *action_args, **action_kwargs)
        return responder(self, req, resp, **kw)

    return do_before_sync


def _wrap_after(
    responder: Callable[..., Any],
    action: Callable[..., Any],
    action_args: tuple[Any, ...],
    action_kwargs: dict[str, Any],
) -> Callable[..., Any]:
    extra_names = _argnames(responder)[2:]

    if inspect.iscoroutinefunction(responder):
        run_action = _async_action(action, responder)

        @functools.wraps(responder)
        async def do_after(
            self: Any, req: Any, resp: Any, *args: Any, **kw: Any
        ) -> Any:
            if args:
                _merge_positional(args, kw, extra_names)
            result = await responder(self, req, resp, **kw)
            await run_action(req, resp, self, *action_args, **action_kwargs)
            return result

        return do_after

    @functools.wraps(responder)
    def do_after_sync(self: Any, req: Any, resp: Any, *args: Any, **kw: Any) -> Any:
        if args:
            _merge_positional(args, kw, extra_names)
        result = responder(self, req, resp, **kw)
        action(req, resp, self, *action_args, **action_kwargs)
        return result

    return do_after_sync
