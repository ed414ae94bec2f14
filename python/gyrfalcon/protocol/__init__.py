"""The sans-I/O WebSocket engine: bytes in; messages, flags and bytes out.

Two implementations share one contract (``docs/topics/engine-contract.md``):
the Rust engine in ``gyrfalcon._native`` and its pure-Python twin in
``gyrfalcon.protocol._py``. This module picks one at import time and re-exports
it, so ``from gyrfalcon.protocol import ServerConnection`` gives the engine in
use. ``ENGINE`` says which (``'native'`` or ``'python'``).

Selection:

* ``GYRFALCON_ENGINE=native`` requires the Rust engine;
  ``GYRFALCON_ENGINE=python`` selects the twin; unset (or ``auto``) prefers
  the Rust engine and falls back to the twin with a ``RuntimeWarning``.
* ``GYRFALCON_REQUIRE_NATIVE=1`` turns a failed native import into an
  ``ImportError`` whatever ``GYRFALCON_ENGINE`` says (CI sets it), except that
  an explicit ``GYRFALCON_ENGINE=python`` still selects the twin.

``load_engine('native')`` and ``load_engine('python')`` return either engine's
module explicitly; the test suite uses them to run every engine test on both.
"""

from __future__ import annotations

import importlib
import os
import warnings
from types import ModuleType
from typing import TYPE_CHECKING, Literal

from .common import (
    CLOSE_RECEIVED,
    CLOSED,
    DEFERRED,
    FAILED,
    HANDSHAKE,
    MESSAGES,
    OUTPUT,
    PAUSE,
    PONG,
    DeflateParams,
    ExtensionOffer,
    Flags,
    Request,
    Response,
    State,
)

__all__ = [
    'CLOSED',
    'CLOSE_RECEIVED',
    'DEFERRED',
    'ENGINE',
    'FAILED',
    'HANDSHAKE',
    'MESSAGES',
    'OUTPUT',
    'PAUSE',
    'PONG',
    'ClientConnection',
    'DeflateParams',
    'ExtensionOffer',
    'Flags',
    'Request',
    'Response',
    'ServerConnection',
    'State',
    'Utf8Validator',
    'accept_key',
    'apply_mask',
    'encode_frame',
    'load_engine',
    'prepare_frame',
    'validate_utf8',
]

EngineName = Literal['native', 'python']

_MODULES: dict[str, str] = {
    'native': 'gyrfalcon._native',
    'python': 'gyrfalcon.protocol._py',
}


def load_engine(name: EngineName) -> ModuleType:
    """Import one engine's module by name.

    Args:
        name: ``'native'`` for the Rust engine, ``'python'`` for the twin.

    Returns:
        The module, which exports ``ServerConnection``, ``ClientConnection``,
        ``Utf8Validator``, ``accept_key``, ``apply_mask``, ``encode_frame``,
        ``prepare_frame`` and ``validate_utf8``.

    Raises:
        ValueError: Unknown engine name.
        ImportError: The engine cannot be imported (for ``'native'``: the
            extension was not built).
    """
    try:
        module_name = _MODULES[name]
    except KeyError:
        raise ValueError(
            f"unknown engine {name!r}; expected 'native' or 'python'"
        ) from None
    return importlib.import_module(module_name)


def _select() -> tuple[EngineName, ModuleType]:
    choice = os.environ.get('GYRFALCON_ENGINE', 'auto').strip().lower() or 'auto'
    require_native = os.environ.get('GYRFALCON_REQUIRE_NATIVE', '') not in (
        '',
        '0',
        'false',
    )
    if choice == 'python':
        return 'python', load_engine('python')
    if choice not in ('native', 'auto'):
        raise ImportError(
            f'GYRFALCON_ENGINE={choice!r} is not one of native, python or auto'
        )
    try:
        return 'native', load_engine('native')
    except ImportError as ex:
        if choice == 'native' or require_native:
            raise ImportError(
                'the Rust engine (gyrfalcon._native) could not be imported; '
                'reinstall gyrfalcon with `pip install .` so that the '
                'extension is built, or set GYRFALCON_ENGINE=python '
                f'to use the pure-Python twin ({ex})'
            ) from ex
        warnings.warn(
            'gyrfalcon._native is unavailable; using the pure-Python engine '
            f'(much slower): {ex}',
            RuntimeWarning,
            stacklevel=2,
        )
        return 'python', load_engine('python')


ENGINE: EngineName
_engine: ModuleType
ENGINE, _engine = _select()

if TYPE_CHECKING:
    from ._py import (
        ClientConnection as ClientConnection,
        ServerConnection as ServerConnection,
        Utf8Validator as Utf8Validator,
        accept_key as accept_key,
        apply_mask as apply_mask,
        encode_frame as encode_frame,
        prepare_frame as prepare_frame,
        validate_utf8 as validate_utf8,
    )
else:
    ServerConnection = _engine.ServerConnection
    ClientConnection = _engine.ClientConnection
    Utf8Validator = _engine.Utf8Validator
    accept_key = _engine.accept_key
    apply_mask = _engine.apply_mask
    encode_frame = _engine.encode_frame
    prepare_frame = _engine.prepare_frame
    validate_utf8 = _engine.validate_utf8
