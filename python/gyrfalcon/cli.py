"""The ``gyrfalcon`` command: serve an ASGI app on uvicorn with our engine.

``gyrfalcon serve module:app`` runs uvicorn with
``gyrfalcon.server.uvicorn:WebSocketProtocol`` as the WebSocket protocol class
(uvloop and httptools are used when installed, as uvicorn's ``auto`` does).
``gyrfalcon demo`` serves the bundled demo app (``--redis URL --workers N``
runs it in several processes whose hubs share a Redis), and ``gyrfalcon
--version`` says which versions and which engine are in use. ``python -m gyrfalcon`` is
the same command.

The options mirror uvicorn's. Settings of our own that uvicorn's ``Config``
cannot carry (``--ws-close-timeout``, ``--ws-max-queue-bytes``,
``--[no-]ws-close-on-app-exit`` and the compression group's
``--ws-compression-threshold``, ``--ws-deflate-*``) are handed to the
protocol class through environment variables (``GYRFALCON_WS_CLOSE_TIMEOUT``,
``GYRFALCON_WS_MAX_QUEUE_BYTES``, ``GYRFALCON_WS_CLOSE_ON_APP_EXIT``,
``GYRFALCON_WS_COMPRESSION_THRESHOLD``, ``GYRFALCON_WS_DEFLATE_*``), which
the class reads when it is imported, so that the processes that
``--workers`` and ``--reload`` spawn see them as well.

The HTTP protocol class is ``gyrfalcon.server.http:HttpToolsProtocol``
(uvicorn's httptools class with a request-head timeout and head limits, which
hands the upgrade request to the WebSocket class as received) unless
``--http`` names another or httptools is not installed. The flags of the
``limits`` group go to both classes through ``GYRFALCON_HTTP_*`` and
``GYRFALCON_WS_*`` environment variables; ``docs/topics/security.md`` lists
every limit.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from .version import __version__

__all__ = ['DEFAULT_WS', 'build_parser', 'main']

DEFAULT_WS = 'gyrfalcon.server.uvicorn:WebSocketProtocol'
"""The WebSocket protocol class ``gyrfalcon serve`` passes to uvicorn."""

DEFAULT_HTTP = 'gyrfalcon.server.http:HttpToolsProtocol'
"""The HTTP protocol class ``gyrfalcon serve`` uses when httptools is installed."""

DEMO_APP = 'gyrfalcon.demo:app'

DEMO_REDIS_ENV = 'GYRFALCON_DEMO_REDIS'
"""The environment variable that hands ``demo --redis`` to the demo app.

Set before uvicorn starts, so that every worker process inherits it.
"""

_LOG_LEVELS = ('critical', 'error', 'warning', 'info', 'debug', 'trace')


def _engine_description() -> str:
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        try:
            from . import protocol
        except ImportError as ex:
            return f'engine unavailable: {ex}'
    return f'{protocol.ENGINE} engine'


def _version_text() -> str:
    try:
        import uvicorn

        uvicorn_version = uvicorn.__version__
    except ImportError:  # pragma: no cover - uvicorn is a dependency
        uvicorn_version = 'not installed'
    return (
        f'gyrfalcon {__version__} ({_engine_description()}) with uvicorn '
        f'{uvicorn_version}, {platform.python_implementation()} '
        f'{platform.python_version()} on {platform.system()}'
    )


class _VersionAction(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help=kwargs.get('help'))

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        print(_version_text())
        parser.exit()


def _non_negative_float(value: str) -> float:
    try:
        result = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f'{value!r} is not a number') from None
    if result < 0:
        raise argparse.ArgumentTypeError(f'{value!r} is negative')
    return result


def _non_negative_int(value: str) -> int:
    try:
        result = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f'{value!r} is not an integer') from None
    if result < 0:
        raise argparse.ArgumentTypeError(f'{value!r} is negative')
    return result


def _positive_int(value: str) -> int:
    result = _non_negative_int(value)
    if result == 0:
        raise argparse.ArgumentTypeError(f'{value!r} is not positive')
    return result


def _int_between(low: int, high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            result = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f'{value!r} is not an integer') from None
        if not low <= result <= high:
            raise argparse.ArgumentTypeError(
                f'{value!r} is not between {low} and {high}'
            )
        return result

    return parse


def _add_bind_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group('binding')
    group.add_argument(
        '--host', default='127.0.0.1', help='bind to this host (default: %(default)s)'
    )
    group.add_argument(
        '--port',
        type=int,
        default=8000,
        help='bind to this port; 0 picks a free one (default: %(default)s)',
    )
    group.add_argument('--uds', help='bind to this UNIX domain socket')
    group.add_argument('--fd', type=int, help='bind to the socket with this fd')
    parser.add_argument(
        '--log-level',
        choices=_LOG_LEVELS,
        help='log level (default: info)',
    )


def _add_serve_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('app', help="the ASGI app as 'module:attribute'")
    _add_bind_options(parser)

    group = parser.add_argument_group('processes')
    group.add_argument(
        '--workers',
        type=int,
        help='number of worker processes (default: $WEB_CONCURRENCY or 1)',
    )
    group.add_argument('--reload', action='store_true', help='reload on code changes')
    group.add_argument(
        '--reload-dir',
        action='append',
        dest='reload_dirs',
        metavar='DIR',
        help='directory to watch with --reload (repeatable)',
    )
    group.add_argument(
        '--app-dir',
        default='.',
        help='add this directory to sys.path to import the app (default: .)',
    )
    group.add_argument(
        '--factory',
        action='store_true',
        help='APP names a factory that returns the ASGI app',
    )

    group = parser.add_argument_group('implementations')
    group.add_argument(
        '--loop',
        default='auto',
        help='event loop: auto, asyncio, uvloop or an import string '
        '(default: auto, which prefers uvloop)',
    )
    group.add_argument(
        '--http',
        help='HTTP protocol: auto, h11, httptools or an import string '
        f'(default: {DEFAULT_HTTP}, or auto when httptools is not installed)',
    )
    group.add_argument(
        '--ws',
        default=DEFAULT_WS,
        help=f'WebSocket protocol class (default: {DEFAULT_WS})',
    )
    group.add_argument(
        '--lifespan',
        choices=('auto', 'on', 'off'),
        default='auto',
        help='ASGI lifespan events (default: %(default)s)',
    )

    group = parser.add_argument_group('WebSocket')
    group.add_argument(
        '--ws-max-size',
        type=_non_negative_int,
        default=16 * 1024 * 1024,
        help='largest message in bytes; 0 for no limit (default: %(default)s)',
    )
    group.add_argument(
        '--ws-max-queue',
        type=_non_negative_int,
        default=32,
        help='received messages queued before reading pauses; 0 for no count '
        'limit (default: %(default)s)',
    )
    group.add_argument(
        '--ws-max-queue-bytes',
        type=_non_negative_int,
        help='received bytes queued before reading pauses; 0 for no byte limit '
        '(default: 4194304)',
    )
    group.add_argument(
        '--ws-ping-interval',
        type=_non_negative_float,
        default=20.0,
        help='seconds between keepalive pings; 0 disables them (default: %(default)s)',
    )
    group.add_argument(
        '--ws-ping-timeout',
        type=_non_negative_float,
        default=20.0,
        help='seconds to wait for a pong before closing with 1011; 0 waits '
        'forever (default: %(default)s)',
    )
    group.add_argument(
        '--ws-close-timeout',
        type=_non_negative_float,
        help="seconds to wait for the peer's Close frame (default: 10.0)",
    )
    group.add_argument(
        '--ws-close-on-app-exit',
        action=argparse.BooleanOptionalAction,
        default=None,
        help='close with 1011 (app error) or 1000 when the app ends without '
        'closing, instead of dropping the connection (default: on)',
    )

    group = parser.add_argument_group('compression')
    group.add_argument(
        '--ws-per-message-deflate',
        action=argparse.BooleanOptionalAction,
        default=True,
        help='negotiate permessage-deflate (RFC 7692) when the client offers it '
        '(default: on)',
    )
    group.add_argument(
        '--ws-compression-threshold',
        type=_non_negative_int,
        help='send messages shorter than this many bytes uncompressed (default: 128)',
    )
    group.add_argument(
        '--ws-deflate-window-bits',
        type=_int_between(9, 15),
        help='largest compression window, 9-15, of the server and (when the '
        'client lets it choose) of the client (default: 12)',
    )
    group.add_argument(
        '--ws-deflate-mem-level',
        type=_int_between(1, 9),
        help="zlib memLevel, 1-9, of the server's compressor (default: 5)",
    )
    group.add_argument(
        '--ws-deflate-context-takeover',
        action=argparse.BooleanOptionalAction,
        default=None,
        help="keep the server's compression window between messages; off "
        'answers server_no_context_takeover (default: on)',
    )

    group = parser.add_argument_group('HTTP and proxies')
    group.add_argument(
        '--root-path', default='', help="the ASGI 'root_path' of a mounted app"
    )
    group.add_argument(
        '--proxy-headers',
        action=argparse.BooleanOptionalAction,
        default=True,
        help='trust X-Forwarded-Proto and X-Forwarded-For (default: on)',
    )
    group.add_argument(
        '--forwarded-allow-ips',
        help="comma-separated IPs or networks to trust proxy headers from, or '*' "
        '(default: $FORWARDED_ALLOW_IPS or 127.0.0.1)',
    )
    group.add_argument(
        '--server-header',
        action=argparse.BooleanOptionalAction,
        default=True,
        help='send the Server header (default: on)',
    )
    group.add_argument(
        '--date-header',
        action=argparse.BooleanOptionalAction,
        default=True,
        help='send the Date header (default: on)',
    )
    group.add_argument(
        '--header',
        action='append',
        dest='headers',
        metavar='NAME:VALUE',
        help='add a default response header (repeatable)',
    )
    group.add_argument(
        '--access-log',
        action=argparse.BooleanOptionalAction,
        default=True,
        help='log HTTP requests (default: on)',
    )
    group.add_argument(
        '--timeout-keep-alive',
        type=int,
        default=5,
        help='seconds before idle HTTP keep-alive connections close '
        '(default: %(default)s)',
    )
    group.add_argument(
        '--timeout-graceful-shutdown',
        type=int,
        help='seconds to wait for connections and tasks when shutting down',
    )
    group.add_argument(
        '--limit-concurrency',
        type=int,
        help='most concurrent connections or tasks before HTTP 503',
    )
    group.add_argument(
        '--backlog', type=int, default=2048, help='listen backlog (default: 2048)'
    )
    group.add_argument('--ssl-keyfile', help='TLS key file (serves https and wss)')
    group.add_argument('--ssl-certfile', help='TLS certificate file')

    _add_limit_options(parser)


def _add_limit_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        'limits', 'see docs/topics/security.md for what a client sees at each limit'
    )
    group.add_argument(
        '--http-head-timeout',
        type=_non_negative_float,
        help='seconds a request head may take from its first byte; 0 for no '
        'limit (default: 10.0)',
    )
    group.add_argument(
        '--http-max-request-line',
        type=_positive_int,
        help='longest request line in bytes, else HTTP 414 (default: 8192)',
    )
    group.add_argument(
        '--http-max-header-line',
        type=_positive_int,
        help='longest header line in bytes, else HTTP 431 (default: 8192)',
    )
    group.add_argument(
        '--http-max-headers',
        type=_positive_int,
        help='most header lines in a request, else HTTP 431 (default: 128)',
    )
    group.add_argument(
        '--http-max-head-size',
        type=_positive_int,
        help='most bytes in a request head, else HTTP 431 (default: 65536)',
    )
    group.add_argument(
        '--ws-allowed-origins',
        action='append',
        metavar='ORIGINS',
        help='comma-separated Origin allow-list (https://example.com, '
        "https://*.example.com, 'null', and 'none' for no Origin header); "
        'others get HTTP 403 (repeatable; default: no check)',
    )
    group.add_argument(
        '--ws-max-connections',
        type=_non_negative_int,
        help='most open WebSocket connections per worker, else HTTP 503; 0 for '
        'no limit (default: 0)',
    )
    group.add_argument(
        '--ws-max-frame-size',
        type=_non_negative_int,
        help='largest frame payload in bytes, else close 1009; 0 for only '
        '--ws-max-size (default: 0)',
    )
    group.add_argument(
        '--ws-max-fragments',
        type=_non_negative_int,
        help='most frames per message, else close 1009; 0 for no limit (default: 0)',
    )


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``gyrfalcon`` command.

    Returns:
        The parser, with the ``serve`` and ``demo`` subcommands.
    """
    parser = argparse.ArgumentParser(
        prog='gyrfalcon',
        description='Serve ASGI apps on uvicorn with the Gyrfalcon WebSocket engine.',
    )
    parser.add_argument(
        '--version',
        action=_VersionAction,
        help='print the versions and the engine in use, then exit',
    )
    commands = parser.add_subparsers(dest='command', metavar='COMMAND')

    serve = commands.add_parser(
        'serve',
        help='serve an ASGI app',
        description='Serve an ASGI app on uvicorn with the Gyrfalcon WebSocket '
        'protocol class.',
    )
    _add_serve_options(serve)
    serve.set_defaults(handler=_serve, command_parser=serve)

    demo = commands.add_parser(
        'demo',
        help='serve the demo app',
        description=f'Serve the demo app ({DEMO_APP}).',
    )
    _add_bind_options(demo)
    group = demo.add_argument_group('processes')
    group.add_argument(
        '--workers',
        type=int,
        default=1,
        help='number of worker processes; use --redis to share the hub '
        'between them (default: %(default)s)',
    )
    group.add_argument(
        '--redis',
        metavar='URL',
        help='run the hub on this Redis (redis://host:port/db), so that every '
        "worker's chat and feed reach every client; needs the 'redis' extra",
    )
    demo.set_defaults(handler=_demo, command_parser=demo)
    return parser


def _export_settings(args: argparse.Namespace) -> None:
    # NOTE(gyrfalcon): The protocol class reads these when it is imported, in
    #   this process and in every worker or reloader process (they inherit the
    #   environment), so set them before uvicorn imports the class.
    if args.ws_close_timeout is not None:
        os.environ['GYRFALCON_WS_CLOSE_TIMEOUT'] = repr(args.ws_close_timeout)
    if args.ws_max_queue_bytes is not None:
        os.environ['GYRFALCON_WS_MAX_QUEUE_BYTES'] = str(args.ws_max_queue_bytes)
    if args.ws_close_on_app_exit is not None:
        os.environ['GYRFALCON_WS_CLOSE_ON_APP_EXIT'] = (
            '1' if args.ws_close_on_app_exit else '0'
        )
    _export_limits(args)
    _export_compression_settings(args)


def _export_limits(args: argparse.Namespace) -> None:
    # The "limits" group: GYRFALCON_HTTP_* for gyrfalcon.server.http (and the
    # engine's head limits), GYRFALCON_WS_* for the WebSocket class.
    numbers = {
        'http_head_timeout': 'GYRFALCON_HTTP_HEAD_TIMEOUT',
        'http_max_request_line': 'GYRFALCON_HTTP_MAX_REQUEST_LINE',
        'http_max_header_line': 'GYRFALCON_HTTP_MAX_HEADER_LINE',
        'http_max_headers': 'GYRFALCON_HTTP_MAX_HEADERS',
        'http_max_head_size': 'GYRFALCON_HTTP_MAX_HEAD_SIZE',
        'ws_max_connections': 'GYRFALCON_WS_MAX_CONNECTIONS',
        'ws_max_frame_size': 'GYRFALCON_WS_MAX_FRAME_SIZE',
        'ws_max_fragments': 'GYRFALCON_WS_MAX_FRAGMENTS',
    }
    for name, variable in numbers.items():
        value = getattr(args, name)
        if value is not None:
            os.environ[variable] = repr(value)
    if args.ws_allowed_origins:
        from .server._origins import OriginPolicy

        origins = [
            item.strip()
            for value in args.ws_allowed_origins
            for item in value.split(',')
            if item.strip()
        ]
        OriginPolicy(origins)  # ValueError for an invalid entry, before serving
        os.environ['GYRFALCON_WS_ALLOWED_ORIGINS'] = ','.join(origins)


def _default_http() -> str:
    if importlib.util.find_spec('httptools') is None:
        return 'auto'
    return DEFAULT_HTTP


def _export_compression_settings(args: argparse.Namespace) -> None:
    # The "compression" group; --[no-]ws-per-message-deflate is uvicorn's own
    # ws_per_message_deflate and goes through its Config instead.
    if args.ws_compression_threshold is not None:
        os.environ['GYRFALCON_WS_COMPRESSION_THRESHOLD'] = str(
            args.ws_compression_threshold
        )
    if args.ws_deflate_window_bits is not None:
        os.environ['GYRFALCON_WS_DEFLATE_WINDOW_BITS'] = str(
            args.ws_deflate_window_bits
        )
    if args.ws_deflate_mem_level is not None:
        os.environ['GYRFALCON_WS_DEFLATE_MEM_LEVEL'] = str(args.ws_deflate_mem_level)
    if args.ws_deflate_context_takeover is not None:
        os.environ['GYRFALCON_WS_DEFLATE_CONTEXT_TAKEOVER'] = (
            '1' if args.ws_deflate_context_takeover else '0'
        )


def _parse_headers(parser: argparse.ArgumentParser, values: list[str] | None) -> Any:
    headers = []
    for value in values or ():
        name, sep, content = value.partition(':')
        if not sep or not name.strip():
            parser.error(f'--header {value!r} is not NAME:VALUE')
        headers.append((name.strip(), content.strip()))
    return headers


def _run(app: str, **kwargs: Any) -> int:
    import uvicorn

    # uvicorn.run() exits the process itself when the server fails to start
    # (for example, an app that cannot be imported); it logs why first.
    uvicorn.run(app, **kwargs)
    return 0


def _serve(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    try:
        _export_settings(args)
    except ValueError as ex:
        parser.error(str(ex))
    return _run(
        args.app,
        host=args.host,
        port=args.port,
        uds=args.uds,
        fd=args.fd,
        loop=args.loop,
        http=args.http or _default_http(),
        ws=args.ws,
        ws_max_size=args.ws_max_size,
        ws_max_queue=args.ws_max_queue,
        ws_ping_interval=args.ws_ping_interval or None,
        ws_ping_timeout=args.ws_ping_timeout or None,
        ws_per_message_deflate=args.ws_per_message_deflate,
        lifespan=args.lifespan,
        reload=args.reload,
        reload_dirs=args.reload_dirs,
        workers=args.workers,
        log_level=args.log_level,
        access_log=args.access_log,
        proxy_headers=args.proxy_headers,
        server_header=args.server_header,
        date_header=args.date_header,
        forwarded_allow_ips=args.forwarded_allow_ips,
        root_path=args.root_path,
        limit_concurrency=args.limit_concurrency,
        backlog=args.backlog,
        timeout_keep_alive=args.timeout_keep_alive,
        timeout_graceful_shutdown=args.timeout_graceful_shutdown,
        ssl_keyfile=args.ssl_keyfile,
        ssl_certfile=args.ssl_certfile,
        headers=_parse_headers(parser, args.headers),
        factory=args.factory,
        app_dir=args.app_dir,
    )


def _demo(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    module = DEMO_APP.partition(':')[0]
    try:
        spec = importlib.util.find_spec(module)
    except ImportError:
        spec = None
    if spec is None:
        print(
            f'gyrfalcon demo: the demo app ({DEMO_APP}) is not part of this '
            'installation of gyrfalcon.',
            file=sys.stderr,
        )
        return 1
    if args.workers < 1:
        parser.error('--workers must be at least 1')
    if args.redis is not None:
        if importlib.util.find_spec('redis') is None:
            print(
                "gyrfalcon demo: --redis needs the 'redis' package: "
                "pip install 'gyrfalcon[redis]'",
                file=sys.stderr,
            )
            return 1
        os.environ[DEMO_REDIS_ENV] = args.redis
    elif args.workers > 1:
        print(
            f'gyrfalcon demo: {args.workers} workers without --redis: each worker '
            'has its own hub, so clients only see the clients of their worker',
            file=sys.stderr,
        )
    return _run(
        DEMO_APP,
        host=args.host,
        port=args.port,
        uds=args.uds,
        fd=args.fd,
        log_level=args.log_level,
        http=_default_http(),
        ws=DEFAULT_WS,
        workers=args.workers,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``gyrfalcon`` command.

    Args:
        argv: The arguments after the program name; ``sys.argv[1:]`` when
            ``None``.

    Returns:
        The exit status.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    status: int = args.handler(args, args.command_parser)
    return status
