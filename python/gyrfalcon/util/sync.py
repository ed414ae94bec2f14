"""Bridges between synchronous and asynchronous code.

``create_task()`` and ``get_running_loop()`` are not deprecated here (Falcon
4 deprecates its aliases): the proposal's examples use
``falcon.create_task()``, and ours also keeps the task alive until it is done.
"""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import functools
import inspect
import os
from collections.abc import Awaitable, Callable, Coroutine, Generator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

__all__ = (
    'async_to_sync',
    'create_task',
    'get_running_loop',
    'runs_sync',
    'sync_to_async',
    'wrap_sync_to_async',
    'wrap_sync_to_async_unsafe',
)

_T = TypeVar('_T')
_P = ParamSpec('_P')

get_running_loop = asyncio.get_running_loop

# NOTE(gyrfalcon): the event loop keeps only weak references to tasks, so a
#   fire-and-forget task could be garbage-collected mid-flight. Tasks made by
#   create_task() stay here until they finish.
_background_tasks: set[asyncio.Task[Any]] = set()

# Callables that are not thread-safe run one at a time on this thread.
_serial_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix='gyrfalcon')


def create_task(
    coro: Generator[Any, None, _T] | Coroutine[Any, Any, _T],
    *,
    name: str | None = None,
    context: contextvars.Context | None = None,
) -> asyncio.Task[_T]:
    """Schedule a coroutine on the running loop and return its task.

    This is ``asyncio.create_task()``, except that the task is referenced
    until it finishes, so it is not lost to garbage collection when the
    caller drops the returned task (fire and forget).

    Args:
        coro: The coroutine to run.
        name: The task's name (optional).
        context: The ``contextvars.Context`` to run the task in (optional;
            a copy of the current one by default).

    Returns:
        The new task.
    """
    task = asyncio.get_running_loop().create_task(coro, name=name, context=context)
    _background_tasks.add(task)
    task.add_done_callback(_background_tasks.discard)
    return task


def wrap_sync_to_async_unsafe(
    func: Callable[_P, _T],
) -> Callable[_P, Coroutine[Any, Any, _T]]:
    """Wrap a callable in a coroutine function that calls it directly.

    The callable runs on the event loop's own thread, blocking the loop while
    it runs: use this only for quick, non-blocking functions. For anything
    else, use ``wrap_sync_to_async()``.

    Args:
        func: The function, method or other callable to wrap.

    Returns:
        A coroutine function that calls `func` and returns its result.
    """

    @functools.wraps(func)
    async def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        return func(*args, **kwargs)

    return wrapper


def wrap_sync_to_async(
    func: Callable[_P, _T], threadsafe: bool | None = None
) -> Callable[_P, Coroutine[Any, Any, _T]]:
    """Wrap a callable in a coroutine function that runs it on a thread.

    Use this for blocking calls that have no async version (a database
    driver, say): each call is handed to an executor, so the event loop
    keeps running meanwhile. It costs a thread hop per call.

    Args:
        func: The function, method or other callable to wrap.
        threadsafe: ``False`` when `func` is not thread-safe: calls then run
            one at a time on a single shared thread. By default they run on
            the loop's default executor.

    Returns:
        A coroutine function that runs `func` and returns its result.
    """
    executor = _serial_executor if threadsafe is False else None

    @functools.wraps(func)
    async def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        call = functools.partial(func, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(executor, call)

    return wrapper


async def sync_to_async(func: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """Run a thread-safe callable on the default executor and await it.

    Args:
        func: The callable to run.
        *args: Positional arguments for `func`.
        **kwargs: Keyword arguments for `func`.

    Returns:
        What `func` returned.
    """
    call = functools.partial(func, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(None, call)


class _RunnerHolder:
    """A module-wide ``asyncio.Runner``, replaced when its loop is closed."""

    def __init__(self) -> None:
        self._runner = asyncio.Runner()

    def get(self) -> asyncio.Runner:
        try:
            closed = self._runner.get_loop().is_closed()
        except RuntimeError:  # the runner itself was closed
            closed = True
        if closed:
            self._runner = asyncio.Runner()
        return self._runner

    def close(self) -> None:
        self._runner.close()


_runner = _RunnerHolder()
atexit.register(_runner.close)


def async_to_sync(
    coroutine: Callable[..., Awaitable[_T]], *args: Any, **kwargs: Any
) -> _T:
    """Call a coroutine function from synchronous code and return its result.

    The coroutine runs to completion on a module-wide event loop (an
    ``asyncio.Runner``), which is created on first use. This is meant for
    tests and scripts; it cannot be called while an event loop is running
    in the same thread.

    Args:
        coroutine: The coroutine function to call.
        *args: Positional arguments for it.
        **kwargs: Keyword arguments for it.

    Returns:
        What the coroutine returned.
    """

    async def call() -> _T:
        return await coroutine(*args, **kwargs)

    return _runner.get().run(call())


def runs_sync(coroutine: Callable[_P, Awaitable[_T]]) -> Callable[_P, _T]:
    """Turn a coroutine function into a synchronous function.

    Each call goes through ``async_to_sync()``. This is slow, and meant for
    adapting async test functions to synchronous test runners.

    Args:
        coroutine: The coroutine function to adapt.

    Returns:
        A synchronous function with the same signature.
    """

    @functools.wraps(coroutine)
    def invoke(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        return async_to_sync(coroutine, *args, **kwargs)

    return invoke


def _should_wrap_non_coroutines() -> bool:
    """Tell whether ``FALCON_ASGI_WRAP_NON_COROUTINES`` is set (tests only)."""
    return 'FALCON_ASGI_WRAP_NON_COROUTINES' in os.environ


def _wrap_non_coroutine_unsafe(
    func: Callable[..., Any] | None,
) -> Callable[..., Any] | None:
    """Wrap a plain function with ``wrap_sync_to_async_unsafe()`` in test mode.

    Outside test mode (see ``_should_wrap_non_coroutines()``), and for
    coroutine functions, `func` is returned unchanged.
    """
    if func is None or not _should_wrap_non_coroutines():
        return func
    if inspect.iscoroutinefunction(func):
        return func
    return wrap_sync_to_async_unsafe(func)
