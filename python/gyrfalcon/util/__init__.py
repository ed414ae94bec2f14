"""General utilities for apps and for the framework itself.

Everything in the ``structures``, ``misc``, ``time``, ``sync`` and
``deprecation`` modules is also available at the top level
(``gyrfalcon.http_now()``, ``gyrfalcon.Context``...). The ``uri`` and
``mediatypes`` modules are imported explicitly::

    from gyrfalcon.util import uri

    decoded = uri.decode('a%20b')
"""

from __future__ import annotations

from http import cookies as http_cookies

from ..constants import PYTHON_VERSION
from . import deprecation, mediatypes, misc, structures, sync, time, uri
from .deprecation import (
    AttributeRemovedError,
    DeprecatedWarning,
    deprecated,
    deprecated_args,
)
from .mediatypes import parse_header
from .misc import (
    code_to_http_status,
    dt_to_http,
    get_argnames,
    get_bound_method,
    get_http_status,
    http_date_to_dt,
    http_now,
    http_status_to_code,
    is_python_func,
    secure_filename,
    to_query_str,
)
from .structures import CaseInsensitiveDict, Context, ETag
from .sync import (
    async_to_sync,
    create_task,
    get_running_loop,
    runs_sync,
    sync_to_async,
    wrap_sync_to_async,
    wrap_sync_to_async_unsafe,
)
from .time import TimezoneGMT

__all__ = (
    'PYTHON_VERSION',
    'AttributeRemovedError',
    'CaseInsensitiveDict',
    'Context',
    'DeprecatedWarning',
    'ETag',
    'TimezoneGMT',
    'async_to_sync',
    'code_to_http_status',
    'create_task',
    'deprecated',
    'deprecated_args',
    'deprecation',
    'dt_to_http',
    'get_argnames',
    'get_bound_method',
    'get_http_status',
    'get_running_loop',
    'http_cookies',
    'http_date_to_dt',
    'http_now',
    'http_status_to_code',
    'is_python_func',
    'mediatypes',
    'misc',
    'parse_header',
    'runs_sync',
    'secure_filename',
    'structures',
    'sync',
    'sync_to_async',
    'time',
    'to_query_str',
    'uri',
    'wrap_sync_to_async',
    'wrap_sync_to_async_unsafe',
)
