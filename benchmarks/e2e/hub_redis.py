"""Hub push across processes on Redis, against the same push in one process.

Issue 6's target: across two processes with Redis, at least 70% of the
single-process delivery rate. Both runs serve the same app (``create_app``
below, with ``gyrfalcon serve --factory``) and push the same messages to the
same number of connections; only the hub's backend and the number of
processes differ:

* ``one process``: one server, ``InProcessBackend``, all connections.
* ``two processes, Redis``: two servers (two ports), ``RedisBackend`` on a
  ``redis-server`` started here, half the connections on each.

The client is the Rust ``loadgen`` (``push`` workload): each connection
subscribes to the topic on connect and sends one ``"<count> <size>"``
request. The server whose request completes the set (a counter, in Redis
for the two-process run) publishes ``count`` messages of ``size`` bytes to
the topic, one ``await hub.publish()`` each. The rate is every delivered
message divided by the wall time from the requests to the last delivery
(the slower loadgen's, with two).

Run: ``python benchmarks/e2e/hub_redis.py`` (needs ``cargo`` to build the
loadgen, ``redis-server`` and the ``redis`` package). ``--rounds`` repeats
each run and keeps the best rate of each, alternating the two so that both
see the same machine.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LOADGEN_DIR = HERE / 'loadgen'
LOADGEN = Path(os.environ.get('LOADGEN', LOADGEN_DIR / 'target/release/loadgen'))
TOPIC = 'bench'


# -- the app -------------------------------------------------------------------


def create_app() -> Any:
    """Build the benchmark app (``gyrfalcon serve --factory``).

    Environment: ``HUB_BENCH_CONNS`` (connections in the whole run) and, for
    the Redis run, ``HUB_BENCH_REDIS`` (the Redis URL).
    """
    import gyrfalcon
    from gyrfalcon.hub import Backend, Hub, InProcessBackend

    conns = int(os.environ['HUB_BENCH_CONNS'])
    url = os.environ.get('HUB_BENCH_REDIS')
    backend: Backend
    if url:
        import redis.asyncio

        from gyrfalcon.hub.redis import RedisBackend

        backend = RedisBackend(url)
        counter = redis.asyncio.Redis(
            connection_pool=redis.asyncio.BlockingConnectionPool.from_url(url)
        )

        async def complete() -> bool:
            if await counter.incr('hub-bench:requests') < conns:
                return False
            await counter.delete('hub-bench:requests')
            return True
    else:
        backend = InProcessBackend()
        requests = [0]

        async def complete() -> bool:
            requests[0] += 1
            if requests[0] < conns:
                return False
            requests[0] = 0
            return True

    hub = Hub(backend)

    class Push:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            await hub.subscribe(ws, TOPIC)
            try:
                while True:
                    count, size = map(int, (await ws.receive_text()).split())
                    if await complete():
                        payload = 'x' * size
                        for _ in range(count):
                            await hub.publish(TOPIC, payload)
            except gyrfalcon.WebSocketDisconnected:
                pass

    class CloseHub:
        async def process_shutdown(self, scope: Any, event: Any) -> None:
            await hub.close()

    app = gyrfalcon.App(hub=hub, middleware=[CloseHub()])
    app.add_route('/hub', Push())
    return app


# -- the driver ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port: int = sock.getsockname()[1]
        return port


def wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f'a server exited with status {process.returncode}')
        with contextlib.suppress(OSError):
            socket.create_connection(('127.0.0.1', port), timeout=1).close()
            return
        time.sleep(0.05)
    raise RuntimeError(f'nothing listens on {port}')


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    executable = shutil.which('redis-server')
    if executable is None:
        raise RuntimeError('redis-server is needed (apt-get install redis-server)')
    port = free_port()
    process = subprocess.Popen(
        [executable, '--port', str(port), '--bind', '127.0.0.1', '--save', '']
        + ['--appendonly', 'no', '--loglevel', 'warning'],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_listening(port, process)
        yield f'redis://127.0.0.1:{port}/0'
    finally:
        process.kill()
        process.wait()


@contextlib.contextmanager
def servers(count: int, env: dict[str, str]) -> Iterator[list[int]]:
    ports = [free_port() for _ in range(count)]
    processes = [
        subprocess.Popen(
            [sys.executable, '-m', 'gyrfalcon', 'serve', 'hub_redis:create_app']
            + ['--factory', '--app-dir', str(HERE), '--port', str(port)]
            + ['--log-level', 'warning', '--no-access-log'],
            cwd=ROOT,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        for port, process in zip(ports, processes, strict=True):
            wait_listening(port, process)
        yield ports
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def loadgen(port: int, conns: int, messages: int, size: int) -> dict[str, Any]:
    command = [str(LOADGEN), 'push', '--addr', f'127.0.0.1:{port}', '--path', '/hub']
    command += ['--conns', str(conns), '--messages', str(messages)]
    command += ['--size', str(size)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f'{" ".join(command)}: {done.stderr.strip()}')
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def push(ports: Sequence[int], conns: int, messages: int, size: int) -> float:
    """Run one push over `ports` (connections split evenly); messages/s."""
    share = conns // len(ports)
    with ThreadPoolExecutor(len(ports)) as pool:
        results = list(
            pool.map(lambda port: loadgen(port, share, messages, size), ports)
        )
    delivered = sum(result['count'] for result in results)
    assert delivered == share * len(ports) * messages, results
    return delivered / max(result['wall_s'] for result in results)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition('\n')[0])
    parser.add_argument('--conns', type=int, default=1000)
    parser.add_argument('--messages', type=int, default=100)
    parser.add_argument('--size', type=int, default=256)
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--json', type=Path, help='also write the results here')
    args = parser.parse_args(argv)
    if not LOADGEN.exists():
        subprocess.run(
            ['cargo', 'build', '--release', '--quiet'], cwd=LOADGEN_DIR, check=True
        )
    rates: dict[str, list[float]] = {'one': [], 'redis': []}
    with redis_server() as url:
        base = {'HUB_BENCH_CONNS': str(args.conns)}
        with (
            servers(1, base) as one,
            servers(2, {**base, 'HUB_BENCH_REDIS': url}) as two,
        ):
            for ports in (one, two):  # warm-up
                push(ports, args.conns, 10, args.size)
            for _ in range(args.rounds):
                rates['one'].append(push(one, args.conns, args.messages, args.size))
                rates['redis'].append(push(two, args.conns, args.messages, args.size))
    best = {name: max(values) for name, values in rates.items()}
    ratio = best['redis'] / best['one']
    report = {
        'conns': args.conns,
        'messages': args.messages,
        'size': args.size,
        'rounds': rates,
        'best': best,
        'ratio': ratio,
    }
    print(f'{args.conns} connections, {args.messages} x {args.size} B each')
    print(f'  one process, in-process hub: {best["one"]:>12,.0f} msg/s')
    print(f'  two processes, Redis hub:    {best["redis"]:>12,.0f} msg/s')
    print(f'  ratio: {ratio:.0%} (target: at least 70%)')
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
