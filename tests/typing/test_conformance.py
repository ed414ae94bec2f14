"""Both engines satisfy one typed description of the engine contract.

mypy checks this file (``python3 -m mypy tests/typing``): the classes and
functions of ``gyrfalcon._native`` (through its stub, ``_native.pyi``) and of
the twin ``gyrfalcon.protocol._py`` must be assignable to the protocols
below, which restate ``docs/topics/engine-contract.md`` in types. Run by
pytest, the same file checks at runtime that every member exists on both
engines, and runs mypy on itself.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Protocol

import pytest

from gyrfalcon.protocol.common import DeflateParams, Request, Response, State

if TYPE_CHECKING:
    from gyrfalcon import _native
    from gyrfalcon.protocol import _py

Buffer = bytes | bytearray | memoryview
Headers = Sequence[tuple[bytes, bytes]]


class Connection(Protocol):
    """What both roles offer (engine contract: output, state and results)."""

    def receive_data(self, data: Buffer, /) -> int: ...
    def receive_eof(self) -> int: ...
    def next_message(self) -> str | bytes | None: ...
    def send_text(self, text: str, /) -> None: ...
    def send_binary(self, data: Buffer, /) -> None: ...
    def send_ping(self, data: Buffer = ..., /) -> None: ...
    def send_pong(self, data: Buffer = ..., /) -> None: ...
    def send_close(self, code: int = ..., reason: str = ..., /) -> None: ...
    def fail(self, code: int, reason: str = ..., /) -> None: ...
    def data_to_send(self) -> bytes: ...
    def close_expected(self) -> bool: ...
    @property
    def state(self) -> State: ...
    @property
    def request(self) -> Request | None: ...
    @property
    def response(self) -> Response | None: ...
    @property
    def close_sent(self) -> tuple[int, str] | None: ...
    @property
    def close_received(self) -> tuple[int, str] | None: ...
    @property
    def close_code(self) -> int | None: ...
    @property
    def close_reason(self) -> str | None: ...
    @property
    def error(self) -> tuple[int, str] | None: ...
    @property
    def failure_deferred(self) -> bool: ...
    @property
    def last_pong(self) -> bytes | None: ...
    @property
    def queued_messages(self) -> int: ...
    @property
    def queued_bytes(self) -> int: ...
    @property
    def reading_paused(self) -> bool: ...
    @property
    def pending_output(self) -> int: ...
    @property
    def writing_paused(self) -> bool: ...
    @property
    def deflate(self) -> DeflateParams | None: ...


class Server(Connection, Protocol):
    """The server role (engine contract: ``ServerConnection``)."""

    def receive_request(
        self,
        method: str,
        target: bytes,
        headers: Headers,
        http_version: str = ...,
    ) -> int: ...
    def accept(self, subprotocol: str | None = ..., headers: Headers = ...) -> int: ...
    def reject(
        self, status: int = ..., headers: Headers = ..., body: Buffer = ...
    ) -> None: ...
    def reject_start(self, status: int, headers: Headers = ...) -> None: ...
    def reject_body(self, body: Buffer, more_body: bool = ...) -> None: ...
    def send_prepared(self, frame: Buffer, *, compressed: bool = ...) -> None: ...


class Client(Connection, Protocol):
    """The client role (engine contract: ``ClientConnection``)."""

    def send_request(self) -> None: ...


class Validator(Protocol):
    """The incremental UTF-8 validator."""

    def feed(self, data: Buffer, /) -> bool: ...
    def finish(self) -> bool: ...
    def reset(self) -> None: ...


class ServerFactory(Protocol):
    """The ``ServerConnection`` constructor: limits, keyword-only."""

    def __call__(
        self,
        *,
        max_size: int | None = ...,
        max_frame_size: int | None = ...,
        max_fragments: int | None = ...,
        max_queue: int | None = ...,
        max_queue_bytes: int | None = ...,
        write_limit: int = ...,
        max_request_line: int = ...,
        max_header_line: int = ...,
        max_headers: int = ...,
        compression: bool = ...,
        compression_threshold: int = ...,
        deflate_window_bits: int = ...,
        deflate_mem_level: int = ...,
        deflate_level: int = ...,
        deflate_no_context_takeover: bool = ...,
    ) -> Server: ...


class ClientFactory(Protocol):
    """The ``ClientConnection`` constructor."""

    def __call__(
        self,
        host: str,
        target: str = ...,
        *,
        subprotocols: Sequence[str] = ...,
        headers: Headers = ...,
        origin: str | None = ...,
        random: Callable[[int], bytes] | None = ...,
        max_size: int | None = ...,
        max_frame_size: int | None = ...,
        max_fragments: int | None = ...,
        max_queue: int | None = ...,
        max_queue_bytes: int | None = ...,
        write_limit: int = ...,
        max_request_line: int = ...,
        max_header_line: int = ...,
        max_headers: int = ...,
        compression: bool = ...,
        compression_threshold: int = ...,
        deflate_window_bits: int = ...,
        deflate_mem_level: int = ...,
        deflate_level: int = ...,
        deflate_no_context_takeover: bool = ...,
    ) -> Client: ...


class EncodeFrame(Protocol):
    """``encode_frame()``."""

    def __call__(
        self,
        opcode: int,
        payload: Buffer,
        *,
        fin: bool = ...,
        rsv1: bool = ...,
        mask: Buffer | None = ...,
    ) -> bytes: ...


class PrepareFrame(Protocol):
    """``prepare_frame()`` (engine contract, "Prepared frames")."""

    def __call__(
        self,
        data: str | Buffer,
        *,
        deflate_window_bits: int | None = ...,
        deflate_mem_level: int = ...,
        deflate_level: int = ...,
    ) -> bytes: ...


class Engine(Protocol):
    """One engine module: everything the contract's module surface lists."""

    @property
    def ServerConnection(self) -> ServerFactory: ...
    @property
    def ClientConnection(self) -> ClientFactory: ...
    @property
    def Utf8Validator(self) -> Callable[[], Validator]: ...
    @property
    def accept_key(self) -> Callable[[str], str]: ...
    @property
    def apply_mask(self) -> Callable[[Buffer, Buffer], bytes]: ...
    @property
    def validate_utf8(self) -> Callable[[Buffer], bool]: ...
    @property
    def encode_frame(self) -> EncodeFrame: ...
    @property
    def prepare_frame(self) -> PrepareFrame: ...


if TYPE_CHECKING:
    # mypy: each engine's classes and functions fit the protocols above.
    native_engine: Engine = _native
    python_engine: Engine = _py

    def _native_server(connection: _native.ServerConnection) -> Server:
        return connection

    def _native_client(connection: _native.ClientConnection) -> Client:
        return connection

    def _python_server(connection: _py.ServerConnection) -> Server:
        return connection

    def _python_client(connection: _py.ClientConnection) -> Client:
        return connection


def _members(protocol: type) -> set[str]:
    names: set[str] = set()
    for klass in protocol.__mro__:
        if klass in (object, Protocol) or klass.__name__ == 'Generic':
            continue
        names |= {name for name in vars(klass) if not name.startswith('_')}
    return names


@pytest.mark.parametrize(
    ('attribute', 'protocol'),
    [
        ('ServerConnection', Server),
        ('ClientConnection', Client),
        ('Utf8Validator', Validator),
    ],
)
def test_members_exist(engine: ModuleType, attribute: str, protocol: type) -> None:
    klass = getattr(engine, attribute)
    missing = {name for name in _members(protocol) if not hasattr(klass, name)}
    assert not missing


def test_module_surface(engine: ModuleType) -> None:
    for name in _members(Engine):
        assert callable(getattr(engine, name)), name


def test_mypy_accepts_both_engines() -> None:
    """Run mypy on this file, when mypy and the native stub are available."""
    if importlib.util.find_spec('mypy') is None:
        pytest.skip('mypy is not installed')
    root = Path(__file__).resolve().parents[2]
    stub = root / 'python' / 'gyrfalcon' / '_native.pyi'
    if not stub.exists():
        required = os.environ.get('GYRFALCON_REQUIRE_NATIVE', '') not in ('', '0')
        if required:
            pytest.fail('python/gyrfalcon/_native.pyi is missing')
        pytest.skip('python/gyrfalcon/_native.pyi does not exist yet')
    result = subprocess.run(
        [sys.executable, '-m', 'mypy', '--no-incremental', str(Path(__file__))],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
