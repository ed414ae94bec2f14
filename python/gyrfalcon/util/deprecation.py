"""Helpers that mark functions, properties and arguments as deprecated.

A deprecated callable keeps working and emits a ``DeprecatedWarning`` (a
``UserWarning``, so it is visible by default) each time it is used.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = (
    'AttributeRemovedError',
    'DeprecatedWarning',
    'deprecated',
    'deprecated_args',
)

_F = TypeVar('_F', bound=Callable[..., Any])


class AttributeRemovedError(AttributeError):
    """A deprecated attribute, class or function has since been removed."""


class DeprecatedWarning(UserWarning):
    """The warning category of every deprecation that Gyrfalcon emits."""


def deprecated(
    instructions: str, is_property: bool = False, method_name: str | None = None
) -> Callable[[_F], _F]:
    """Return a decorator that flags a function or property as deprecated.

    The decorated callable warns with ``DeprecatedWarning`` on every call,
    then runs as before.

    Args:
        instructions: What to do instead, e.g. ``'Please use x() instead.'``.
        is_property: ``True`` when decorating a property getter: the message
            then says "property" and omits the ``(...)`` after the name.
        method_name: The name to show in the message, when the decorated
            callable's ``__name__`` is not the public one (an alias).

    Returns:
        A decorator that wraps its argument with the warning.
    """

    def decorator(func: _F) -> _F:
        kind = 'property' if is_property else 'function'
        suffix = '' if is_property else '(...)'
        name = method_name or func.__name__
        message = f'Call to deprecated {kind} {name}{suffix}. {instructions}'

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            warnings.warn(message, category=DeprecatedWarning, stacklevel=2)
            return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]  # same signature as func

    return decorator


def deprecated_args(
    *, allowed_positional: int, is_method: bool = True
) -> Callable[[_F], _F]:
    """Return a decorator that warns when too many positional args are given.

    Keyword Args:
        allowed_positional: How many positional arguments remain allowed
            (not counting ``self``).
        is_method: ``True`` (the default) when decorating a method, so that
            ``self`` is allowed on top of `allowed_positional`.

    Returns:
        A decorator that warns with ``DeprecatedWarning`` when the wrapped
        callable receives more positional arguments than allowed.
    """
    if allowed_positional:
        detail = f' more than {allowed_positional}'
    else:
        detail = ''
    limit = allowed_positional + 1 if is_method else allowed_positional

    def decorator(func: _F) -> _F:
        message = (
            f'Calls to {func.__qualname__}(...) with{detail} positional args are '
            'deprecated. Please specify them as keyword arguments instead.'
        )

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if len(args) > limit:
                warnings.warn(message, DeprecatedWarning, stacklevel=2)
            return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]  # same signature as func

    return decorator
