"""Settings of the server adapters that uvicorn's ``Config`` cannot carry.

They are read from environment variables when an adapter module is
imported, so that processes started by ``--workers`` or ``--reload`` (which
inherit the environment and import the protocol class by name) get them too.
``gyrfalcon serve`` sets these variables from its flags.
"""

from __future__ import annotations

import os

__all__ = [
    'env_bool',
    'env_float',
    'env_int',
    'env_limit',
    'env_list',
]


def env_float(name: str, default: float) -> float:
    """Read a non-negative number of seconds.

    Args:
        name: The environment variable.
        default: The value when it is unset or empty.

    Returns:
        The number.

    Raises:
        ValueError: The value is not a non-negative number.
    """
    value = os.environ.get(name, '').strip()
    if not value:
        return default
    try:
        result = float(value)
    except ValueError:
        raise ValueError(f'{name} must be a number of seconds, not {value!r}') from None
    if result < 0:
        raise ValueError(f'{name} must not be negative')
    return result


def env_limit(name: str, default: int | None) -> int | None:
    """Read a byte limit, where ``0`` or ``none`` means no limit.

    Args:
        name: The environment variable.
        default: The value when it is unset or empty.

    Returns:
        The limit, or ``None`` for no limit.

    Raises:
        ValueError: The value is neither a non-negative integer nor ``none``.
    """
    value = os.environ.get(name, '').strip().lower()
    if not value:
        return default
    if value in ('0', 'none'):
        return None
    try:
        result = int(value)
    except ValueError:
        raise ValueError(
            f"{name} must be a number of bytes, or 0 or 'none' for no limit, "
            f'not {value!r}'
        ) from None
    if result < 0:
        raise ValueError(f'{name} must not be negative')
    return result


def env_bool(name: str, default: bool) -> bool:
    """Read a flag: ``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off``.

    Args:
        name: The environment variable.
        default: The value when it is unset or empty.

    Returns:
        The flag.

    Raises:
        ValueError: The value is not one of the words above.
    """
    value = os.environ.get(name, '').strip().lower()
    if not value:
        return default
    if value in ('1', 'true', 'yes', 'on'):
        return True
    if value in ('0', 'false', 'no', 'off'):
        return False
    raise ValueError(f'{name} must be 1 or 0 (true or false), not {value!r}')


def env_list(name: str) -> tuple[str, ...] | None:
    """Read a comma-separated list; unset or empty means ``None``.

    Args:
        name: The environment variable.

    Returns:
        The stripped, non-empty items, or ``None`` when the variable is unset
        or blank.
    """
    value = os.environ.get(name, '').strip()
    if not value:
        return None
    return tuple(item.strip() for item in value.split(',') if item.strip())


def env_int(name: str, default: int, low: int = 0, high: int | None = None) -> int:
    """Read an integer within ``low``..``high`` (inclusive).

    Args:
        name: The environment variable.
        default: The value when it is unset or empty.
        low: The smallest value allowed.
        high: The largest value allowed, or ``None`` for no bound.

    Returns:
        The integer.

    Raises:
        ValueError: The value is not an integer, or is out of range.
    """
    value = os.environ.get(name, '').strip()
    if not value:
        return default
    try:
        result = int(value)
    except ValueError:
        raise ValueError(f'{name} must be an integer, not {value!r}') from None
    if result < low or (high is not None and result > high):
        bounds = f'at least {low}' if high is None else f'between {low} and {high}'
        raise ValueError(f'{name} must be {bounds}, not {result}')
    return result
