"""Write the conformance vectors in ``tests/vectors/*.json``.

Run ``python3 tests/engine/make_vectors.py`` after changing a case here. The
JSON files are the source of truth for both engines (and for the Rust tests);
this script only spells them out readably. It does not use either engine:
every input is built with the small encoder below and every expectation is
written from the contract (``docs/topics/engine-contract.md``) and the RFCs,
so the vectors can catch a bug that both engines share.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).resolve().parent.parent / 'vectors'

# Flags (engine-contract.md, "Flags").
HANDSHAKE, MESSAGES, OUTPUT, PAUSE = 1, 2, 4, 8
PONG, CLOSE_RECEIVED, FAILED, CLOSED = 16, 32, 64, 128
DEFERRED = 256
FAULT = FAILED | OUTPUT | CLOSED

KEY = bytes.fromhex('37fa213d')  # RFC 6455 §5.7; DETERMINISTIC's every mask
GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

CONT, TEXT, BINARY, CLOSE, PING, PONG_OP = 0, 1, 2, 8, 9, 10

Case = dict[str, Any]

NO_MESSAGE = 'received continuation frame without a message in progress'


# --- a tiny independent encoder ----------------------------------------------


def xor(data: bytes, key: bytes) -> bytes:
    return bytes(b ^ key[i % 4] for i, b in enumerate(data))


def frame(
    opcode: int,
    payload: bytes = b'',
    *,
    fin: bool = True,
    rsv: int = 0,
    key: bytes | None = KEY,
    length: int | None = None,
    form: int | None = None,
) -> bytes:
    """Encode a frame; `length` and `form` override the length field."""
    declared = len(payload) if length is None else length
    if form is None:
        form = 0 if declared < 126 else 126 if declared < 65536 else 127
    first = (0x80 if fin else 0) | rsv << 4 | opcode
    mask_bit = 0x80 if key is not None else 0
    if form == 0:
        head = bytes([first, mask_bit | declared])
    elif form == 126:
        head = bytes([first, mask_bit | 126]) + declared.to_bytes(2, 'big')
    else:
        head = bytes([first, mask_bit | 127]) + declared.to_bytes(8, 'big')
    if key is None:
        return head + payload
    return head + key + xor(payload, key)


def client_frame(opcode: int, payload: bytes = b'', **kw: Any) -> bytes:
    """A frame as a client sends it (masked with the RFC key)."""
    return frame(opcode, payload, **kw)


def server_frame(opcode: int, payload: bytes = b'', **kw: Any) -> bytes:
    """A frame as a server sends it (unmasked)."""
    return frame(opcode, payload, key=None, **kw)


def out_frame(role: str, opcode: int, payload: bytes = b'') -> bytes:
    """A frame that the engine under test sends in `role`."""
    return (
        server_frame(opcode, payload)
        if role == 'server'
        else client_frame(opcode, payload)
    )


def in_frame(role: str, opcode: int, payload: bytes = b'', **kw: Any) -> bytes:
    """A frame that the engine under test receives in `role`."""
    if role == 'server':
        return client_frame(opcode, payload, **kw)
    return server_frame(opcode, payload, **kw)


def close_payload(code: int, reason: str = '') -> bytes:
    return code.to_bytes(2, 'big') + reason.encode()


def hexs(data: bytes) -> str:
    if len(data) <= 256:
        return data.hex(' ')
    return data.hex()


def text(value: str) -> dict[str, str]:
    return {'type': 'text', 'data': value}


def binary(value: bytes) -> dict[str, str]:
    return {'type': 'binary', 'data': value.hex()}


def case(
    id: str,
    source: str,
    role: str,
    data: bytes,
    expect: dict[str, Any],
    *,
    options: dict[str, Any] | None = None,
    open: bool = True,
    eof: bool = False,
    actions: list[dict[str, Any]] | None = None,
    extensions: str | None = None,
    after: list[dict[str, Any]] | None = None,
) -> Case:
    result: Case = {'id': id, 'source': source, 'role': role}
    if options:
        result['options'] = options
    if not open:
        result['open'] = False
    if extensions is not None:
        result['extensions'] = extensions
    if actions:
        result['actions'] = actions
    result['input'] = hexs(data)
    if eof:
        result['eof'] = True
    if after:
        result['after'] = after
    result['expect'] = expect
    return result


def ok(
    flags: int,
    messages: list[dict[str, str]] | None = None,
    output: bytes = b'',
    **more: Any,
) -> dict[str, Any]:
    expect: dict[str, Any] = {
        'flags': flags,
        'messages': messages or [],
        'output': hexs(output),
        'state': 'OPEN',
        'error': None,
        'close_received': None,
        'close_sent': None,
        'close_expected': False,
    }
    expect.update(more)
    return expect


def fault(
    role: str,
    code: int,
    message: str,
    *,
    flags: int = 0,
    messages: list[dict[str, str]] | None = None,
    output_before: bytes = b'',
) -> dict[str, Any]:
    """The expectation for a peer fault while OPEN."""
    return {
        'flags': FAULT | flags,
        'messages': messages or [],
        'output': hexs(
            output_before + out_frame(role, CLOSE, close_payload(code, message))
        ),
        'state': 'CLOSED',
        'error': [code, message],
        'close_received': None,
        'close_sent': [code, message],
        'close_expected': True,
        'close_code': code,
        'close_reason': message,
    }


def feed(data: bytes) -> dict[str, Any]:
    """An ``actions`` call that feeds `data`."""
    return {'call': 'receive_data', 'args': [hexs(data)]}


def pops(messages: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The ``after`` calls that take every queued message and one more.

    The last ``next_message()`` finds the queue empty: a deferred failure
    takes effect there.
    """
    return [{'call': 'next_message'}] * (len(messages) + 1)


def deferred(
    role: str,
    code: int,
    message: str,
    messages: list[dict[str, str]],
    *,
    flags: int = 0,
    output_before: bytes = b'',
    taken: bool = False,
) -> dict[str, Any]:
    """The expectation for a peer fault found while messages were queued.

    Right after the input (`taken` False) the failure waits: the state is
    still OPEN, nothing is recorded and ``messages`` can be taken. With
    `taken`, the vector's ``after`` calls (``pops(messages)``) took them and
    asked once more: the failure took effect as an immediate one would.
    """
    if not taken:
        return ok(
            DEFERRED | flags,
            messages,
            output_before,
            failure_deferred=True,
            queued_messages=len(messages),
        )
    expect = fault(role, code, message, output_before=output_before)
    expect['flags'] = DEFERRED | flags
    expect['popped'] = [*messages, None]
    expect['messages'] = []
    expect['failure_deferred'] = False
    return expect


def both(build: Any) -> list[Case]:
    return [build('server'), build('client')]


# --- frames.json -------------------------------------------------------------


def frames() -> list[Case]:
    cases: list[Case] = []
    hello = b'Hello'
    # RFC 6455 §5.7, exactly as printed.
    cases.append(
        case(
            'rfc6455-5.7-unmasked-hello',
            'RFC 6455 §5.7',
            'client',
            bytes.fromhex('81 05 48 65 6c 6c 6f'),
            ok(MESSAGES, [text('Hello')]),
        )
    )
    cases.append(
        case(
            'rfc6455-5.7-masked-hello',
            'RFC 6455 §5.7',
            'server',
            bytes.fromhex('81 85 37 fa 21 3d 7f 9f 4d 51 58'),
            ok(MESSAGES, [text('Hello')]),
        )
    )
    cases.append(
        case(
            'rfc6455-5.7-fragmented-hello',
            'RFC 6455 §5.7',
            'client',
            bytes.fromhex('01 03 48 65 6c 80 02 6c 6f'),
            ok(MESSAGES, [text('Hello')]),
        )
    )
    cases.append(
        case(
            'rfc6455-5.7-fragmented-hello-masked',
            'RFC 6455 §5.7, §5.4',
            'server',
            client_frame(TEXT, b'Hel', fin=False) + client_frame(CONT, b'lo'),
            ok(MESSAGES, [text('Hello')]),
        )
    )
    # RFC 6455 §5.7: the unmasked Ping, answered by the masked Pong printed
    # in the RFC (the client's mask key is the RFC's).
    cases.append(
        case(
            'rfc6455-5.7-ping-client',
            'RFC 6455 §5.7, §5.5.2',
            'client',
            bytes.fromhex('89 05 48 65 6c 6c 6f'),
            ok(OUTPUT, output=bytes.fromhex('8a 85 37 fa 21 3d 7f 9f 4d 51 58')),
        )
    )
    cases.append(
        case(
            'rfc6455-5.7-ping-server',
            'RFC 6455 §5.7, §5.5.2',
            'server',
            client_frame(PING, hello),
            ok(OUTPUT, output=bytes.fromhex('8a 05 48 65 6c 6c 6f')),
        )
    )
    cases.append(
        case(
            'rfc6455-5.7-pong-client',
            'RFC 6455 §5.7, §5.5.3',
            'client',
            bytes.fromhex('8a 05 48 65 6c 6c 6f'),
            ok(PONG, last_pong=hello.hex()),
        )
    )
    cases.append(
        case(
            'rfc6455-5.7-pong-server',
            'RFC 6455 §5.7, §5.5.3',
            'server',
            bytes.fromhex('8a 85 37 fa 21 3d 7f 9f 4d 51 58'),
            ok(PONG, last_pong=hello.hex()),
        )
    )
    for role in ('server', 'client'):
        cases.append(
            case(
                f'binary-message-{role}',
                'RFC 6455 §5.6',
                role,
                in_frame(role, BINARY, bytes(range(20))),
                ok(MESSAGES, [binary(bytes(range(20)))]),
            )
        )
        cases.append(
            case(
                f'empty-text-message-{role}',
                'RFC 6455 §5.6',
                role,
                in_frame(role, TEXT),
                ok(MESSAGES, [text('')]),
            )
        )
        cases.append(
            case(
                f'empty-binary-message-{role}',
                'RFC 6455 §5.6',
                role,
                in_frame(role, BINARY),
                ok(MESSAGES, [binary(b'')]),
            )
        )
        cases.append(
            case(
                f'empty-fragments-{role}',
                'RFC 6455 §5.4',
                role,
                in_frame(role, BINARY, fin=False)
                + in_frame(role, CONT, fin=False)
                + in_frame(role, CONT, b'x', fin=False)
                + in_frame(role, CONT),
                ok(MESSAGES, [binary(b'x')]),
            )
        )
        cases.append(
            case(
                f'three-messages-one-read-{role}',
                'RFC 6455 §5.6',
                role,
                in_frame(role, TEXT, b'one')
                + in_frame(role, BINARY, b'two')
                + in_frame(role, TEXT, 'thrée'.encode()),
                ok(MESSAGES, [text('one'), binary(b'two'), text('thrée')]),
            )
        )
        cases.append(
            case(
                f'ping-between-fragments-{role}',
                'RFC 6455 §5.4, §5.5',
                role,
                in_frame(role, TEXT, b'Hel', fin=False)
                + in_frame(role, PING, b'p')
                + in_frame(role, CONT, b'lo'),
                ok(
                    MESSAGES | OUTPUT,
                    [text('Hello')],
                    output=out_frame(role, PONG_OP, b'p'),
                ),
            )
        )
        cases.append(
            case(
                f'pong-between-fragments-{role}',
                'RFC 6455 §5.4, §5.5',
                role,
                in_frame(role, BINARY, b'ab', fin=False)
                + in_frame(role, PONG_OP, b'q')
                + in_frame(role, CONT, b'cd'),
                ok(MESSAGES | PONG, [binary(b'abcd')], last_pong=b'q'.hex()),
            )
        )
        cases.append(
            case(
                f'empty-ping-{role}',
                'RFC 6455 §5.5.2',
                role,
                in_frame(role, PING),
                ok(OUTPUT, output=out_frame(role, PONG_OP)),
            )
        )
        cases.append(
            case(
                f'max-control-payload-{role}',
                'RFC 6455 §5.5',
                role,
                in_frame(role, PING, bytes(125)),
                ok(OUTPUT, output=out_frame(role, PONG_OP, bytes(125))),
            )
        )
        cases.append(
            case(
                f'two-pings-{role}',
                'RFC 6455 §5.5.2',
                role,
                in_frame(role, PING, b'1') + in_frame(role, PING, b'2'),
                ok(
                    OUTPUT,
                    output=out_frame(role, PONG_OP, b'1')
                    + out_frame(role, PONG_OP, b'2'),
                ),
            )
        )
        cases.append(
            case(
                f'partial-frame-{role}',
                'RFC 6455 §5.2',
                role,
                in_frame(role, TEXT, b'Hello')[:-2],
                ok(0),
            )
        )
        cases.append(
            case(
                f'partial-header-{role}',
                'RFC 6455 §5.2',
                role,
                in_frame(role, BINARY, bytes(300))[:3],
                ok(0),
            )
        )

    # One vector per frame fault row, in both roles where the row applies.
    for role in ('server', 'client'):
        for rsv in (4, 2, 1):
            cases.append(
                case(
                    f'reserved-bit-rsv{ {4: 1, 2: 2, 1: 3}[rsv] }-{role}',
                    'RFC 6455 §5.2',
                    role,
                    in_frame(role, TEXT, b'x', rsv=rsv),
                    fault(role, 1002, 'received frame with reserved bits set'),
                )
            )
        cases.append(
            case(
                f'reserved-bit-on-control-{role}',
                'RFC 6455 §5.2',
                role,
                in_frame(role, PING, rsv=4),
                fault(role, 1002, 'received frame with reserved bits set'),
            )
        )
        for opcode in (3, 4, 5, 6, 7, 11, 12, 13, 14, 15):
            cases.append(
                case(
                    f'reserved-opcode-{opcode}-{role}',
                    'RFC 6455 §5.2',
                    role,
                    in_frame(role, opcode, b'x'),
                    fault(role, 1002, f'received frame with reserved opcode {opcode}'),
                )
            )
        cases.append(
            case(
                f'invalid-64-bit-length-{role}',
                'RFC 6455 §5.2',
                role,
                in_frame(role, BINARY, length=1 << 63)[:14],
                fault(role, 1002, 'received frame with invalid payload length'),
            )
        )
        cases.append(
            case(
                f'invalid-64-bit-length-all-ones-{role}',
                'RFC 6455 §5.2',
                role,
                in_frame(role, BINARY, length=(1 << 64) - 1)[:14],
                fault(role, 1002, 'received frame with invalid payload length'),
            )
        )
        cases.append(
            case(
                f'non-minimal-length-16-{role}',
                'RFC 6455 §5.2',
                role,
                in_frame(role, BINARY, b'x' * 125, form=126),
                fault(role, 1002, 'received frame with non-minimal payload length'),
            )
        )
        cases.append(
            case(
                f'non-minimal-length-16-zero-{role}',
                'RFC 6455 §5.2',
                role,
                in_frame(role, BINARY, b'', form=126),
                fault(role, 1002, 'received frame with non-minimal payload length'),
            )
        )
        cases.append(
            case(
                f'non-minimal-length-64-{role}',
                'RFC 6455 §5.2',
                role,
                in_frame(role, BINARY, length=65535, form=127)[:14],
                fault(role, 1002, 'received frame with non-minimal payload length'),
            )
        )
        cases.append(
            case(
                f'minimal-length-16-{role}',
                'RFC 6455 §5.2',
                role,
                in_frame(role, BINARY, bytes(126)),
                ok(MESSAGES, [binary(bytes(126))]),
            )
        )
        cases.append(
            case(
                f'control-frame-too-long-{role}',
                'RFC 6455 §5.5',
                role,
                in_frame(role, PING, bytes(126)),
                fault(role, 1002, 'received control frame longer than 125 bytes'),
            )
        )
        cases.append(
            case(
                f'control-frame-too-long-header-only-{role}',
                'RFC 6455 §5.5',
                role,
                in_frame(role, PONG_OP, length=1000)[: 8 if role == 'server' else 4],
                fault(role, 1002, 'received control frame longer than 125 bytes'),
            )
        )
        cases.append(
            case(
                f'close-frame-too-long-{role}',
                'RFC 6455 §5.5',
                role,
                in_frame(role, CLOSE, close_payload(1000, 'x' * 124)),
                fault(role, 1002, 'received control frame longer than 125 bytes'),
            )
        )
        for opcode in (PING, PONG_OP, CLOSE):
            cases.append(
                case(
                    f'fragmented-control-frame-{opcode}-{role}',
                    'RFC 6455 §5.5',
                    role,
                    in_frame(role, opcode, fin=False),
                    fault(role, 1002, 'received fragmented control frame'),
                )
            )
        cases.append(
            case(
                f'continuation-without-message-{role}',
                'RFC 6455 §5.4',
                role,
                in_frame(role, CONT, b'x'),
                fault(
                    role,
                    1002,
                    'received continuation frame without a message in progress',
                ),
            )
        )
        cases.append(
            case(
                f'continuation-after-complete-message-{role}',
                'RFC 6455 §5.4; engine contract, deferred faults',
                role,
                in_frame(role, TEXT, b'a') + in_frame(role, CONT, b'b'),
                deferred(
                    role,
                    1002,
                    'received continuation frame without a message in progress',
                    [text('a')],
                    flags=MESSAGES,
                    taken=True,
                ),
                after=pops([text('a')]),
            )
        )
        for opcode in (TEXT, BINARY):
            cases.append(
                case(
                    f'new-data-frame-in-fragmented-message-{opcode}-{role}',
                    'RFC 6455 §5.4',
                    role,
                    in_frame(role, TEXT, b'a', fin=False)
                    + in_frame(role, opcode, b'b'),
                    fault(
                        role,
                        1002,
                        'received new data frame before the previous message finished',
                    ),
                )
            )
        cases.append(
            case(
                f'data-after-fault-ignored-{role}',
                'RFC 6455 §7.1.7',
                role,
                in_frame(role, TEXT, b'x', rsv=1)
                + in_frame(role, TEXT, b'y')
                + in_frame(role, PING),
                fault(role, 1002, 'received frame with reserved bits set'),
            )
        )
    cases.append(
        case(
            'unmasked-frame-from-client',
            'RFC 6455 §5.1',
            'server',
            server_frame(TEXT, b'Hello'),
            fault('server', 1002, 'received unmasked frame from client'),
        )
    )
    cases.append(
        case(
            'unmasked-control-frame-from-client',
            'RFC 6455 §5.1',
            'server',
            server_frame(PING),
            fault('server', 1002, 'received unmasked frame from client'),
        )
    )
    cases.append(
        case(
            'masked-frame-from-server',
            'RFC 6455 §5.1',
            'client',
            client_frame(TEXT, b'Hello'),
            fault('client', 1002, 'received masked frame from server'),
        )
    )
    cases.append(
        case(
            'masked-close-from-server',
            'RFC 6455 §5.1',
            'client',
            client_frame(CLOSE, close_payload(1000)),
            fault('client', 1002, 'received masked frame from server'),
        )
    )
    # The first failing row of the table wins.
    cases.append(
        case(
            'order-rsv-before-opcode',
            'engine contract, frame faults',
            'server',
            client_frame(3, rsv=4),
            fault('server', 1002, 'received frame with reserved bits set'),
        )
    )
    cases.append(
        case(
            'order-opcode-before-mask',
            'engine contract, frame faults',
            'server',
            server_frame(3),
            fault('server', 1002, 'received frame with reserved opcode 3'),
        )
    )
    cases.append(
        case(
            'order-mask-before-length',
            'engine contract, frame faults',
            'server',
            server_frame(BINARY, length=1 << 63)[:10],
            fault('server', 1002, 'received unmasked frame from client'),
        )
    )
    cases.append(
        case(
            'order-length-before-control-size',
            'engine contract, frame faults',
            'server',
            client_frame(PING, length=1 << 63)[:14],
            fault('server', 1002, 'received frame with invalid payload length'),
        )
    )
    cases.append(
        case(
            'order-control-size-before-fragmented-control',
            'engine contract, frame faults',
            'server',
            client_frame(PING, bytes(126), fin=False),
            fault('server', 1002, 'received control frame longer than 125 bytes'),
        )
    )
    cases.append(
        case(
            'order-mask-before-fragmented-control',
            'engine contract, frame faults',
            'server',
            server_frame(PING, fin=False),
            fault('server', 1002, 'received unmasked frame from client'),
        )
    )
    cases.append(
        case(
            'order-mask-before-continuation',
            'engine contract, frame faults',
            'server',
            server_frame(CONT),
            fault('server', 1002, 'received unmasked frame from client'),
        )
    )
    cases.append(
        case(
            'order-control-rules-before-message-rules',
            'engine contract, frame faults',
            'server',
            client_frame(TEXT, b'a', fin=False) + client_frame(PING, fin=False),
            fault('server', 1002, 'received fragmented control frame'),
        )
    )
    return cases


# --- frames.json: deferred faults --------------------------------------------

RSV_SET = 'received frame with reserved bits set'
HELLO = 'Hello, world!'


def deferred_faults() -> list[Case]:
    """A fault behind queued messages waits for them (engine contract).

    Autobahn 3.2-3.4, 4.1.3-4.1.5, 4.2.3-4.2.5 and 5.15 send a valid
    message and then a faulty frame, and expect the echo of the message
    before the Close. The vector runner never takes messages between input
    calls, so the message is still queued when the fault is found in every
    feeding mode.
    """
    cases: list[Case] = []
    for role in ('server', 'client'):
        hello = [text(HELLO)]
        autobahn = (
            in_frame(role, TEXT, HELLO.encode())
            + in_frame(role, TEXT, HELLO.encode(), rsv=2)
            + in_frame(role, PING, HELLO.encode())
        )
        cases.append(
            case(
                f'autobahn-3.2-deferred-{role}',
                'Autobahn 3.2; engine contract, deferred faults',
                role,
                autobahn,
                deferred(role, 1002, RSV_SET, hello, flags=MESSAGES),
            )
        )
        cases.append(
            case(
                f'autobahn-3.2-deferred-taken-{role}',
                'Autobahn 3.2; engine contract, deferred faults',
                role,
                autobahn,
                deferred(role, 1002, RSV_SET, hello, flags=MESSAGES, taken=True),
                after=pops(hello),
            )
        )
        echo = deferred(role, 1002, RSV_SET, hello, flags=MESSAGES, taken=True)
        echo['output'] = hexs(
            out_frame(role, TEXT, HELLO.encode())
            + out_frame(role, CLOSE, close_payload(1002, RSV_SET))
        )
        cases.append(
            case(
                f'autobahn-3.2-echo-then-close-{role}',
                'Autobahn 3.2; engine contract, deferred faults',
                role,
                autobahn,
                echo,
                after=[
                    {'call': 'next_message'},
                    {'call': 'send_text', 'args': [HELLO]},
                    {'call': 'next_message'},
                ],
            )
        )
        cases.append(
            case(
                f'autobahn-4.1.3-deferred-{role}',
                'Autobahn 4.1.3; engine contract, deferred faults',
                role,
                in_frame(role, TEXT, HELLO.encode())
                + in_frame(role, 5)
                + in_frame(role, PING, HELLO.encode()),
                deferred(
                    role,
                    1002,
                    'received frame with reserved opcode 5',
                    hello,
                    flags=MESSAGES,
                    taken=True,
                ),
                after=pops(hello),
            )
        )
        # Autobahn 5.15: a fragmented message, then a continuation with
        # nothing to continue.
        fragmented = [text('fragment1fragment2')]
        cases.append(
            case(
                f'autobahn-5.15-deferred-{role}',
                'Autobahn 5.15; engine contract, deferred faults',
                role,
                in_frame(role, TEXT, b'fragment1', fin=False)
                + in_frame(role, CONT, b'fragment2')
                + in_frame(role, CONT, b'fragment3', fin=False)
                + in_frame(role, TEXT, b'fragment4'),
                deferred(
                    role, 1002, NO_MESSAGE, fragmented, flags=MESSAGES, taken=True
                ),
                after=pops(fragmented),
            )
        )
        cases.append(
            case(
                f'deferred-message-from-earlier-read-{role}',
                'engine contract, deferred faults',
                role,
                in_frame(role, 3),
                deferred(
                    role, 1002, 'received frame with reserved opcode 3', [text('a')]
                ),
                actions=[
                    {'call': 'receive_data', 'args': [hexs(in_frame(role, TEXT, b'a'))]}
                ],
            )
        )
        cases.append(
            case(
                f'deferred-pong-before-fault-only-{role}',
                'RFC 6455 §5.5.2, §7.1.7; engine contract, deferred faults',
                role,
                in_frame(role, TEXT, b'a')
                + in_frame(role, PING, b'p')
                + in_frame(role, 3)
                + in_frame(role, PING, b'q'),
                deferred(
                    role,
                    1002,
                    'received frame with reserved opcode 3',
                    [text('a')],
                    flags=MESSAGES | OUTPUT,
                    output_before=out_frame(role, PONG_OP, b'p'),
                ),
            )
        )
        invalid_close = 'received close frame with invalid code 999'
        cases.append(
            case(
                f'deferred-invalid-close-frame-{role}',
                'RFC 6455 §7.4.1; engine contract, deferred faults',
                role,
                in_frame(role, BINARY, b'a')
                + in_frame(role, CLOSE, close_payload(999)),
                deferred(
                    role,
                    1002,
                    invalid_close,
                    [binary(b'a')],
                    flags=MESSAGES,
                    taken=True,
                ),
                after=pops([binary(b'a')]),
            )
        )
        cases.append(
            case(
                f'deferred-invalid-utf8-{role}',
                'RFC 6455 §8.1; engine contract, deferred faults',
                role,
                in_frame(role, TEXT, b'a') + in_frame(role, TEXT, b'\xff'),
                deferred(
                    role,
                    1007,
                    'invalid UTF-8 in text message',
                    [text('a')],
                    flags=MESSAGES,
                    taken=True,
                ),
                after=pops([text('a')]),
            )
        )
        cases.append(
            case(
                f'valid-close-after-message-not-deferred-{role}',
                'RFC 6455 §5.5.1; engine contract, deferred faults',
                role,
                in_frame(role, TEXT, b'a') + in_frame(role, CLOSE, close_payload(1000)),
                ok(
                    MESSAGES | CLOSE_RECEIVED | OUTPUT | CLOSED,
                    [text('a')],
                    out_frame(role, CLOSE, close_payload(1000)),
                    state='CLOSED',
                    close_received=[1000, ''],
                    close_sent=[1000, ''],
                    close_expected=True,
                    failure_deferred=False,
                ),
            )
        )
        cases.append(
            case(
                f'fault-after-messages-taken-{role}',
                'engine contract, deferred faults',
                role,
                in_frame(role, 3),
                fault(role, 1002, 'received frame with reserved opcode 3'),
                actions=[
                    feed(in_frame(role, TEXT, b'a')),
                    {'call': 'next_message'},
                ],
            )
        )
        closing = fault(role, 1002, 'received frame with reserved opcode 3')
        closing.update(
            flags=FAILED | CLOSED,
            messages=[text('a')],
            output='',
            close_sent=[1000, ''],
            failure_deferred=False,
        )
        cases.append(
            case(
                f'closing-fault-not-deferred-{role}',
                'RFC 6455 §5.5.1; engine contract, deferred faults',
                role,
                in_frame(role, 3),
                closing,
                actions=[
                    feed(in_frame(role, TEXT, b'a')),
                    {'call': 'send_close', 'args': [1000, '']},
                ],
            )
        )
        cases.append(
            case(
                f'deferred-then-eof-{role}',
                'engine contract, deferred faults',
                role,
                autobahn,
                {
                    'flags': MESSAGES | DEFERRED | FAILED | CLOSED,
                    'messages': hello,
                    'output': '',
                    'state': 'CLOSED',
                    'error': [1002, RSV_SET],
                    'close_received': None,
                    'close_sent': None,
                    'close_expected': True,
                    'close_code': 1002,
                    'close_reason': RSV_SET,
                    'failure_deferred': False,
                },
                eof=True,
            )
        )
        for call, args, sent in (
            ('send_close', [1000, 'bye'], [1000, 'bye']),
            ('fail', [1011, 'app error'], [1011, 'app error']),
        ):
            cases.append(
                case(
                    f'deferred-then-{call.replace("_", "-")}-{role}',
                    'RFC 6455 §7.1.7; engine contract, deferred faults',
                    role,
                    autobahn,
                    {
                        'flags': MESSAGES | DEFERRED,
                        'messages': hello,
                        'output': hexs(
                            out_frame(role, CLOSE, close_payload(sent[0], sent[1]))
                        ),
                        'state': 'CLOSED',
                        'error': None,
                        'close_received': None,
                        'close_sent': sent,
                        'close_expected': True,
                        'close_code': sent[0],
                        'close_reason': sent[1],
                        'failure_deferred': False,
                    },
                    after=[{'call': call, 'args': args}],
                )
            )
    # Bytes kept before accept() and frames behind a client's 101.
    kept = client_frame(TEXT, b'a') + client_frame(3)
    cases.append(
        case(
            'deferred-in-accept',
            'engine contract, deferred faults',
            'server',
            STANDARD_REQUEST + kept,
            {
                **deferred(
                    'server',
                    1002,
                    'received frame with reserved opcode 3',
                    [text('a')],
                    flags=HANDSHAKE | MESSAGES,
                ),
                'output': hexs(accept_101()),
            },
            open=False,
            after=[{'call': 'accept'}],
        )
    )
    cases.append(
        case(
            'deferred-behind-101',
            'engine contract, deferred faults',
            'client',
            response() + server_frame(TEXT, b'a') + server_frame(3),
            deferred(
                'client',
                1002,
                'received frame with reserved opcode 3',
                [text('a')],
                flags=HANDSHAKE | MESSAGES,
            ),
            open=False,
        )
    )
    return cases


# --- close.json --------------------------------------------------------------


def closing() -> list[Case]:
    cases: list[Case] = []
    for role in ('server', 'client'):

        def closed(code: int, reason: str, echo: bytes, **more: Any) -> dict[str, Any]:
            expect = {
                'flags': CLOSE_RECEIVED | OUTPUT | CLOSED,
                'messages': [],
                'output': hexs(echo),
                'state': 'CLOSED',
                'error': None,
                'close_received': [code, reason],
                'close_sent': [code, ''],
                'close_expected': True,
                'close_code': code,
                'close_reason': reason,
            }
            expect.update(more)
            return expect

        cases.append(
            case(
                f'peer-close-{role}',
                'RFC 6455 §5.5.1, §7.1.2',
                role,
                in_frame(role, CLOSE, close_payload(1000, 'bye')),
                closed(1000, 'bye', out_frame(role, CLOSE, close_payload(1000))),
            )
        )
        cases.append(
            case(
                f'peer-close-empty-{role}',
                'RFC 6455 §5.5.1, §7.1.5',
                role,
                in_frame(role, CLOSE),
                closed(1005, '', out_frame(role, CLOSE), close_sent=[1005, '']),
            )
        )
        cases.append(
            case(
                f'peer-close-code-only-{role}',
                'RFC 6455 §5.5.1',
                role,
                in_frame(role, CLOSE, close_payload(1001)),
                closed(1001, '', out_frame(role, CLOSE, close_payload(1001))),
            )
        )
        cases.append(
            case(
                f'peer-close-utf8-reason-{role}',
                'RFC 6455 §5.5.1',
                role,
                in_frame(role, CLOSE, close_payload(4000, 'κόσμε')),
                closed(4000, 'κόσμε', out_frame(role, CLOSE, close_payload(4000))),
            )
        )
        cases.append(
            case(
                f'peer-close-max-reason-{role}',
                'RFC 6455 §5.5',
                role,
                in_frame(role, CLOSE, close_payload(1000, 'r' * 123)),
                closed(1000, 'r' * 123, out_frame(role, CLOSE, close_payload(1000))),
            )
        )
        for code in (
            1000,
            1001,
            1002,
            1003,
            1007,
            1008,
            1009,
            1010,
            1011,
            1012,
            1013,
            1014,
            3000,
            3999,
            4000,
            4999,
        ):
            cases.append(
                case(
                    f'peer-close-code-{code}-{role}',
                    'RFC 6455 §7.4',
                    role,
                    in_frame(role, CLOSE, close_payload(code)),
                    closed(code, '', out_frame(role, CLOSE, close_payload(code))),
                )
            )
        for code in (
            0,
            999,
            1004,
            1005,
            1006,
            1015,
            1016,
            1100,
            2000,
            2999,
            5000,
            65535,
        ):
            cases.append(
                case(
                    f'peer-close-invalid-code-{code}-{role}',
                    'RFC 6455 §7.4',
                    role,
                    in_frame(role, CLOSE, close_payload(code)),
                    fault(role, 1002, f'received close frame with invalid code {code}'),
                )
            )
        cases.append(
            case(
                f'peer-close-1-byte-{role}',
                'RFC 6455 §5.5.1',
                role,
                in_frame(role, CLOSE, b'\x03'),
                fault(role, 1002, 'received close frame with 1-byte payload'),
            )
        )
        cases.append(
            case(
                f'peer-close-invalid-utf8-reason-{role}',
                'RFC 6455 §5.5.1, §8.1',
                role,
                in_frame(role, CLOSE, close_payload(1000) + b'\xff'),
                fault(role, 1007, 'invalid UTF-8 in close reason'),
            )
        )
        cases.append(
            case(
                f'peer-close-truncated-utf8-reason-{role}',
                'RFC 6455 §5.5.1, §8.1',
                role,
                in_frame(role, CLOSE, close_payload(1000) + 'é'.encode()[:1]),
                fault(role, 1007, 'invalid UTF-8 in close reason'),
            )
        )
        cases.append(
            case(
                f'peer-close-surrogate-reason-{role}',
                'RFC 3629, RFC 6455 §8.1',
                role,
                in_frame(role, CLOSE, close_payload(1000) + b'\xed\xa0\x80'),
                fault(role, 1007, 'invalid UTF-8 in close reason'),
            )
        )
        cases.append(
            case(
                f'data-after-close-ignored-{role}',
                'RFC 6455 §5.5.1',
                role,
                in_frame(role, CLOSE, close_payload(1000))
                + in_frame(role, TEXT, b'late')
                + in_frame(role, PING, b'p')
                + in_frame(role, TEXT, b'bad', rsv=1),
                closed(1000, '', out_frame(role, CLOSE, close_payload(1000))),
            )
        )
        cases.append(
            case(
                f'close-between-fragments-{role}',
                'RFC 6455 §5.4, §5.5.1',
                role,
                in_frame(role, TEXT, b'Hel', fin=False)
                + in_frame(role, CLOSE, close_payload(1000))
                + in_frame(role, CONT, b'lo'),
                closed(1000, '', out_frame(role, CLOSE, close_payload(1000))),
            )
        )
        cases.append(
            case(
                f'messages-before-close-kept-{role}',
                'RFC 6455 §5.5.1',
                role,
                in_frame(role, TEXT, b'a') + in_frame(role, CLOSE, close_payload(1000)),
                closed(
                    1000,
                    '',
                    out_frame(role, CLOSE, close_payload(1000)),
                    flags=MESSAGES | CLOSE_RECEIVED | OUTPUT | CLOSED,
                    messages=[text('a')],
                ),
            )
        )
        # Closing handshake started by us: send_close(), then the peer.
        us = [{'call': 'send_close', 'args': [1000, 'bye']}]

        def closing_expect(**more: Any) -> dict[str, Any]:
            expect = {
                'flags': 0,
                'messages': [],
                'output': '',
                'state': 'CLOSING',
                'error': None,
                'close_received': None,
                'close_sent': [1000, 'bye'],
                'close_expected': False,
                'close_code': None,
                'close_reason': None,
            }
            expect.update(more)
            return expect

        cases.append(
            case(
                f'close-handshake-initiated-{role}',
                'RFC 6455 §7.1.2, §7.1.3',
                role,
                in_frame(role, CLOSE, close_payload(1000)),
                closing_expect(
                    flags=CLOSE_RECEIVED | CLOSED,
                    state='CLOSED',
                    close_received=[1000, ''],
                    close_expected=True,
                    close_code=1000,
                    close_reason='',
                ),
                actions=us,
            )
        )
        cases.append(
            case(
                f'close-handshake-initiated-other-code-{role}',
                'RFC 6455 §7.1.2',
                role,
                in_frame(role, CLOSE, close_payload(1001, 'going')),
                closing_expect(
                    flags=CLOSE_RECEIVED | CLOSED,
                    state='CLOSED',
                    close_received=[1001, 'going'],
                    close_expected=True,
                    close_code=1001,
                    close_reason='going',
                ),
                actions=us,
            )
        )
        cases.append(
            case(
                f'closing-discards-messages-{role}',
                'RFC 6455 §7.1.2',
                role,
                in_frame(role, TEXT, b'late')
                + in_frame(role, BINARY, b'x', fin=False)
                + in_frame(role, CONT, b'y'),
                closing_expect(),
                actions=us,
            )
        )
        cases.append(
            case(
                f'closing-skips-utf8-and-limits-{role}',
                'engine contract, CLOSING',
                role,
                in_frame(role, TEXT, b'\xff' * 20) + in_frame(role, BINARY, bytes(40)),
                closing_expect(),
                actions=us,
                options={'max_size': 8, 'max_frame_size': 4},
            )
        )
        cases.append(
            case(
                f'closing-finishes-message-in-progress-{role}',
                'engine contract, CLOSING',
                role,
                in_frame(role, CONT, b'lo'),
                closing_expect(),
                actions=[
                    {
                        'call': 'receive_data',
                        'args': [in_frame(role, TEXT, b'Hel', fin=False).hex()],
                    },
                    *us,
                ],
            )
        )
        cases.append(
            case(
                f'closing-does-not-answer-ping-{role}',
                'RFC 6455 §5.5.1',
                role,
                in_frame(role, PING, b'p'),
                closing_expect(),
                actions=us,
            )
        )
        cases.append(
            case(
                f'closing-records-pong-{role}',
                'RFC 6455 §5.5.3',
                role,
                in_frame(role, PONG_OP, b'p'),
                closing_expect(flags=PONG, last_pong='70'),
                actions=us,
            )
        )
        cases.append(
            case(
                f'closing-framing-fault-{role}',
                'engine contract, CLOSING',
                role,
                in_frame(role, CONT, b'x'),
                closing_expect(
                    flags=FAILED | CLOSED,
                    state='CLOSED',
                    error=[
                        1002,
                        'received continuation frame without a message in progress',
                    ],
                    close_expected=True,
                    close_code=1002,
                    close_reason=NO_MESSAGE,
                ),
                actions=us,
            )
        )
        cases.append(
            case(
                f'closing-invalid-close-{role}',
                'engine contract, CLOSING',
                role,
                in_frame(role, CLOSE, b'\x03'),
                closing_expect(
                    flags=FAILED | CLOSED,
                    state='CLOSED',
                    error=[1002, 'received close frame with 1-byte payload'],
                    close_expected=True,
                    close_code=1002,
                    close_reason='received close frame with 1-byte payload',
                ),
                actions=us,
            )
        )
        # receive_eof() in each state.
        cases.append(
            case(
                f'eof-when-open-{role}',
                'engine contract, receive_eof',
                role,
                in_frame(role, TEXT, b'a')
                + in_frame(role, TEXT, b'partial', fin=False),
                {
                    'flags': MESSAGES | CLOSED,
                    'messages': [text('a')],
                    'output': '',
                    'state': 'CLOSED',
                    'error': None,
                    'close_received': None,
                    'close_sent': None,
                    'close_expected': True,
                    'close_code': 1006,
                    'close_reason': '',
                },
                eof=True,
            )
        )
        cases.append(
            case(
                f'eof-when-closing-{role}',
                'engine contract, receive_eof',
                role,
                b'',
                closing_expect(
                    flags=CLOSED,
                    state='CLOSED',
                    close_expected=True,
                    close_code=1000,
                    close_reason='bye',
                ),
                eof=True,
                actions=us,
            )
        )
        cases.append(
            case(
                f'eof-when-closed-{role}',
                'engine contract, receive_eof',
                role,
                in_frame(role, CLOSE),
                closed(1005, '', out_frame(role, CLOSE), close_sent=[1005, '']),
                eof=True,
            )
        )
    return cases


# --- utf8.json ---------------------------------------------------------------


def utf8() -> list[Case]:
    cases: list[Case] = []
    valid = [
        ('ascii', b'Hello, world'),
        ('2-byte', 'é'.encode()),
        ('3-byte', '€'.encode()),
        ('4-byte', '𝄞'.encode()),
        ('greek', 'κόσμε'.encode()),
        ('max-code-point', '\U0010ffff'.encode()),
        ('before-surrogates', '\ud7ff'.encode()),
        ('after-surrogates', '\ue000'.encode()),
        ('bom', '\ufeff'.encode()),
        ('nul', b'\x00'),
    ]
    invalid = [
        ('lone-continuation', b'\x80'),
        ('continuation-bf', b'\xbf'),
        ('invalid-lead-c0', b'\xc0\x80'),
        ('invalid-lead-c1', b'\xc1\xbf'),
        ('invalid-lead-f5', b'\xf5\x80\x80\x80'),
        ('invalid-lead-ff', b'\xff'),
        ('invalid-lead-fe', b'\xfe'),
        ('overlong-3-byte', b'\xe0\x80\xaf'),
        ('overlong-3-byte-max', b'\xe0\x9f\xbf'),
        ('overlong-4-byte', b'\xf0\x80\x80\xaf'),
        ('overlong-4-byte-max', b'\xf0\x8f\xbf\xbf'),
        ('surrogate-low', b'\xed\xa0\x80'),
        ('surrogate-high', b'\xed\xbf\xbf'),
        ('surrogate-pair', b'\xed\xa0\x80\xed\xb0\x80'),
        ('above-max', b'\xf4\x90\x80\x80'),
        ('missing-continuation', b'\xc3a'),
        ('3-byte-missing-continuation', b'\xe2\x82a'),
        ('4-byte-missing-continuation', b'\xf0\x9f\x98a'),
        ('truncated-2-byte', b'a\xc3'),
        ('truncated-3-byte', b'a\xe2\x82'),
        ('truncated-4-byte', b'a\xf0\x9f\x98'),
    ]
    for role in ('server', 'client'):
        for name, data in valid:
            cases.append(
                case(
                    f'utf8-valid-{name}-{role}',
                    'RFC 3629, RFC 6455 §8.1',
                    role,
                    in_frame(role, TEXT, data),
                    ok(MESSAGES, [text(data.decode())]),
                )
            )
        for name, data in invalid:
            cases.append(
                case(
                    f'utf8-invalid-{name}-{role}',
                    'RFC 3629, RFC 6455 §8.1',
                    role,
                    in_frame(role, TEXT, data),
                    fault(role, 1007, 'invalid UTF-8 in text message'),
                )
            )
        # Autobahn 6.2: a valid sequence split across fragments.
        for name, data in valid[1:5]:
            pieces = b''.join(
                in_frame(
                    role,
                    TEXT if i == 0 else CONT,
                    data[i : i + 1],
                    fin=i == len(data) - 1,
                )
                for i in range(len(data))
            )
            cases.append(
                case(
                    f'utf8-valid-{name}-byte-per-fragment-{role}',
                    'Autobahn 6.2',
                    role,
                    pieces,
                    ok(MESSAGES, [text(data.decode())]),
                )
            )
        # Fail fast: the fault comes with the first impossible byte, before
        # the frame or the message is complete (Autobahn 6.4.1-6.4.4).
        kosme = 'κόσμε'.encode()
        cases.append(
            case(
                f'autobahn-6.4.1-invalid-second-fragment-{role}',
                'Autobahn 6.4.1',
                role,
                in_frame(role, TEXT, kosme, fin=False)
                + in_frame(role, CONT, b'\xf4\x90\x80\x80', fin=False),
                fault(role, 1007, 'invalid UTF-8 in text message'),
            )
        )
        cases.append(
            case(
                f'autobahn-6.4.2-invalid-at-fragment-start-{role}',
                'Autobahn 6.4.2',
                role,
                in_frame(role, TEXT, kosme + b'\xf4', fin=False)
                + in_frame(role, CONT, b'\x90', fin=False),
                fault(role, 1007, 'invalid UTF-8 in text message'),
            )
        )
        body = kosme + b'\xf4\x90\x80\x80' + b'edited'
        partial = in_frame(role, TEXT, body)[: -len(b'edited')]
        cases.append(
            case(
                f'autobahn-6.4.3-invalid-in-partial-frame-{role}',
                'Autobahn 6.4.3',
                role,
                partial,
                fault(role, 1007, 'invalid UTF-8 in text message'),
            )
        )
        body = kosme + b'\xf4\x90' + b'\x80\x80edited'
        partial = in_frame(role, TEXT, body)[: -len(b'\x80\x80edited')]
        cases.append(
            case(
                f'autobahn-6.4.4-invalid-second-byte-in-partial-frame-{role}',
                'Autobahn 6.4.4',
                role,
                partial,
                fault(role, 1007, 'invalid UTF-8 in text message'),
            )
        )
        cases.append(
            case(
                f'utf8-surrogate-prefix-fails-fast-{role}',
                'RFC 3629, Autobahn 6.4',
                role,
                in_frame(role, TEXT, b'a\xed\xa0', fin=False),
                fault(role, 1007, 'invalid UTF-8 in text message'),
            )
        )
        cases.append(
            case(
                f'utf8-surrogate-prefix-in-partial-frame-{role}',
                'RFC 3629, Autobahn 6.4',
                role,
                in_frame(role, TEXT, b'a\xed\xa0\x80zzz')[:-4],
                fault(role, 1007, 'invalid UTF-8 in text message'),
            )
        )
        cases.append(
            case(
                f'utf8-valid-prefix-waits-{role}',
                'Autobahn 6.4',
                role,
                in_frame(role, TEXT, b'a\xf4\x8f', fin=False),
                ok(0),
            )
        )
        cases.append(
            case(
                f'utf8-valid-prefix-in-partial-frame-waits-{role}',
                'Autobahn 6.4',
                role,
                in_frame(role, TEXT, b'a\xf4\x8f\xbf\xbf')[:-2],
                ok(0),
            )
        )
        cases.append(
            case(
                f'utf8-final-fragment-ends-mid-sequence-{role}',
                'RFC 6455 §8.1',
                role,
                in_frame(role, TEXT, b'a', fin=False)
                + in_frame(role, CONT, b'\xe2\x82'),
                fault(role, 1007, 'invalid UTF-8 in text message'),
            )
        )
        cases.append(
            case(
                f'utf8-empty-final-fragment-after-partial-sequence-{role}',
                'RFC 6455 §8.1',
                role,
                in_frame(role, TEXT, b'\xc3', fin=False) + in_frame(role, CONT),
                fault(role, 1007, 'invalid UTF-8 in text message'),
            )
        )
        cases.append(
            case(
                f'utf8-not-checked-for-binary-{role}',
                'RFC 6455 §5.6',
                role,
                in_frame(role, BINARY, b'\xff\xed\xa0\x80'),
                ok(MESSAGES, [binary(b'\xff\xed\xa0\x80')]),
            )
        )
        cases.append(
            case(
                f'utf8-state-reset-between-messages-{role}',
                'RFC 6455 §8.1',
                role,
                in_frame(role, TEXT, 'é'.encode()) + in_frame(role, TEXT, b'a'),
                ok(MESSAGES, [text('é'), text('a')]),
            )
        )
    return cases


# --- limits.json -------------------------------------------------------------


def limits() -> list[Case]:
    cases: list[Case] = []
    for role in ('server', 'client'):

        def too_big(message: str, role: str = role, **kw: Any) -> dict[str, Any]:
            return fault(role, 1009, message, **kw)

        cases.append(
            case(
                f'max-size-exact-{role}',
                'engine contract, max_size',
                role,
                in_frame(role, BINARY, bytes(16)),
                ok(MESSAGES, [binary(bytes(16))]),
                options={'max_size': 16},
            )
        )
        cases.append(
            case(
                f'max-size-plus-one-{role}',
                'engine contract, max_size; RFC 6455 §10.4',
                role,
                in_frame(role, BINARY, bytes(17)),
                too_big('message exceeds 16 bytes'),
                options={'max_size': 16},
            )
        )
        cases.append(
            case(
                f'max-size-checked-before-payload-{role}',
                'RFC 6455 §10.4',
                role,
                in_frame(role, BINARY, length=17)[: 2 if role == 'client' else 6],
                too_big('message exceeds 16 bytes'),
                options={'max_size': 16},
            )
        )
        cases.append(
            case(
                f'max-size-text-counts-utf8-bytes-{role}',
                'engine contract, max_size',
                role,
                in_frame(role, TEXT, 'éé'.encode())
                + in_frame(role, TEXT, 'ééé'.encode()),
                deferred(
                    role,
                    1009,
                    'message exceeds 5 bytes',
                    [text('éé')],
                    flags=MESSAGES,
                    taken=True,
                ),
                options={'max_size': 5},
                after=pops([text('éé')]),
            )
        )
        cases.append(
            case(
                f'max-size-fragments-exact-{role}',
                'engine contract, max_size',
                role,
                in_frame(role, BINARY, bytes(6), fin=False)
                + in_frame(role, CONT, bytes(6), fin=False)
                + in_frame(role, CONT, bytes(4)),
                ok(MESSAGES, [binary(bytes(16))]),
                options={'max_size': 16},
            )
        )
        cases.append(
            case(
                f'max-size-fragments-sum-past-limit-{role}',
                'RFC 6455 §10.4; undici CVE-2026-9675',
                role,
                in_frame(role, BINARY, bytes(6), fin=False)
                + in_frame(role, CONT, bytes(6), fin=False)
                + in_frame(role, CONT, bytes(5)),
                too_big('message exceeds 16 bytes'),
                options={'max_size': 16},
            )
        )
        cases.append(
            case(
                f'max-size-applies-per-message-{role}',
                'engine contract, max_size',
                role,
                in_frame(role, BINARY, bytes(16))
                + in_frame(role, TEXT, b'a' * 10, fin=False)
                + in_frame(role, CONT, b'b' * 6),
                ok(MESSAGES, [binary(bytes(16)), text('a' * 10 + 'b' * 6)]),
                options={'max_size': 16},
            )
        )
        cases.append(
            case(
                f'max-size-does-not-count-control-frames-{role}',
                'engine contract, max_size',
                role,
                in_frame(role, BINARY, bytes(8), fin=False)
                + in_frame(role, PING, bytes(20))
                + in_frame(role, CONT, bytes(8)),
                ok(
                    MESSAGES | OUTPUT,
                    [binary(bytes(16))],
                    output=out_frame(role, PONG_OP, bytes(20)),
                ),
                options={'max_size': 16},
            )
        )
        cases.append(
            case(
                f'huge-declared-length-{role}',
                'RFC 6455 §10.4; RUSTSEC-2022-0035',
                role,
                in_frame(role, BINARY, length=1 << 62)[:14],
                too_big('message exceeds 16777216 bytes'),
            )
        )
        cases.append(
            case(
                f'max-size-none-{role}',
                'engine contract, max_size',
                role,
                in_frame(role, BINARY, length=1 << 62)[:14],
                ok(0),
                options={'max_size': None},
            )
        )
        cases.append(
            case(
                f'max-frame-size-exact-{role}',
                'engine contract, max_frame_size',
                role,
                in_frame(role, BINARY, bytes(4), fin=False)
                + in_frame(role, CONT, bytes(4)),
                ok(MESSAGES, [binary(bytes(8))]),
                options={'max_frame_size': 4},
            )
        )
        cases.append(
            case(
                f'max-frame-size-plus-one-{role}',
                'engine contract, max_frame_size',
                role,
                in_frame(role, BINARY, bytes(4), fin=False)
                + in_frame(role, CONT, bytes(5)),
                too_big('frame exceeds 4 bytes'),
                options={'max_frame_size': 4},
            )
        )
        cases.append(
            case(
                f'max-frame-size-before-max-size-{role}',
                'engine contract, frame faults',
                role,
                in_frame(role, TEXT, b'x' * 9),
                too_big('frame exceeds 4 bytes'),
                options={'max_frame_size': 4, 'max_size': 8},
            )
        )
        cases.append(
            case(
                f'max-frame-size-ignores-control-frames-{role}',
                'engine contract, max_frame_size',
                role,
                in_frame(role, PING, bytes(10)),
                ok(OUTPUT, output=out_frame(role, PONG_OP, bytes(10))),
                options={'max_frame_size': 4},
            )
        )
        cases.append(
            case(
                f'max-fragments-exact-{role}',
                'engine contract, max_fragments',
                role,
                in_frame(role, TEXT, b'a', fin=False)
                + in_frame(role, CONT, b'b', fin=False)
                + in_frame(role, CONT, b'c'),
                ok(MESSAGES, [text('abc')]),
                options={'max_fragments': 3},
            )
        )
        cases.append(
            case(
                f'max-fragments-plus-one-{role}',
                'engine contract, max_fragments; CVE-2026-12151',
                role,
                in_frame(role, TEXT, b'a', fin=False)
                + in_frame(role, CONT, fin=False)
                + in_frame(role, CONT, fin=False)
                + in_frame(role, CONT, b'c'),
                too_big('message exceeds 3 fragments'),
                options={'max_fragments': 3},
            )
        )
        cases.append(
            case(
                f'max-fragments-single-frame-{role}',
                'engine contract, max_fragments',
                role,
                in_frame(role, BINARY, b'a') + in_frame(role, BINARY, b'b'),
                ok(MESSAGES, [binary(b'a'), binary(b'b')]),
                options={'max_fragments': 1},
            )
        )
        cases.append(
            case(
                f'max-size-before-max-fragments-{role}',
                'engine contract, frame faults',
                role,
                in_frame(role, BINARY, b'a', fin=False) + in_frame(role, CONT, b'bc'),
                too_big('message exceeds 2 bytes'),
                options={'max_fragments': 1, 'max_size': 2},
            )
        )
        # The inbound queue's high-water marks (PAUSE); nothing is refused.
        cases.append(
            case(
                f'max-queue-pauses-{role}',
                'engine contract, inbound queue',
                role,
                in_frame(role, TEXT, b'a')
                + in_frame(role, TEXT, b'b')
                + in_frame(role, TEXT, b'c'),
                ok(
                    MESSAGES | PAUSE,
                    [text('a'), text('b'), text('c')],
                    reading_paused=True,
                    queued_messages=3,
                    queued_bytes=3,
                ),
                options={'max_queue': 2},
            )
        )
        cases.append(
            case(
                f'max-queue-bytes-pauses-{role}',
                'engine contract, inbound queue',
                role,
                in_frame(role, BINARY, bytes(10)),
                ok(
                    MESSAGES | PAUSE,
                    [binary(bytes(10))],
                    reading_paused=True,
                    queued_messages=1,
                    queued_bytes=10,
                ),
                options={'max_queue_bytes': 10},
            )
        )
        cases.append(
            case(
                f'below-high-water-{role}',
                'engine contract, inbound queue',
                role,
                in_frame(role, BINARY, bytes(9)),
                ok(
                    MESSAGES,
                    [binary(bytes(9))],
                    reading_paused=False,
                    queued_messages=1,
                    queued_bytes=9,
                ),
                options={'max_queue_bytes': 10, 'max_queue': 2},
            )
        )
    return cases


# --- lengths.json (large inputs: fed whole and byte by byte only) -------------


def lengths() -> list[Case]:
    payload256 = bytes(range(256))
    payload64k = bytes(i * 7 % 251 for i in range(65536))
    cases = [
        case(
            'rfc6455-5.7-256-byte-binary',
            'RFC 6455 §5.7',
            'client',
            bytes.fromhex('82 7e 01 00') + payload256,
            ok(MESSAGES, [binary(payload256)]),
        ),
        case(
            'rfc6455-5.7-64-kib-binary',
            'RFC 6455 §5.7',
            'client',
            bytes.fromhex('82 7f 00 00 00 00 00 01 00 00') + payload64k,
            ok(MESSAGES, [binary(payload64k)]),
        ),
        case(
            'rfc6455-5.7-256-byte-binary-masked',
            'RFC 6455 §5.7',
            'server',
            client_frame(BINARY, payload256),
            ok(MESSAGES, [binary(payload256)]),
        ),
    ]
    head = STANDARD_REQUEST
    cases.append(
        case(
            'handshake-before-accept-limit-exact',
            'engine contract, check 14',
            'server',
            head + bytes(65536),
            {
                'flags': HANDSHAKE,
                'output': '',
                'state': 'CONNECTING',
                'error': None,
                'close_expected': False,
            },
            open=False,
        )
    )
    cases.append(
        case(
            'handshake-before-accept-limit-plus-one',
            'engine contract, check 14',
            'server',
            head + bytes(65537),
            handshake_fault(
                400,
                'received too much data before the handshake completed',
                flags=HANDSHAKE,
            ),
            open=False,
        )
    )
    return cases


# --- handshake.json (server) -------------------------------------------------

STANDARD_REQUEST = (
    b'GET /chat HTTP/1.1\r\n'
    b'Host: server.example.com\r\n'
    b'Upgrade: websocket\r\n'
    b'Connection: Upgrade\r\n'
    b'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
    b'Sec-WebSocket-Version: 13\r\n'
    b'\r\n'
)

PHRASES = {
    400: 'Bad Request',
    405: 'Method Not Allowed',
    414: 'Request-URI Too Long',
    426: 'Upgrade Required',
    431: 'Request Header Fields Too Large',
}


def error_response(status: int, message: str) -> bytes:
    """The failure response, spelled out from the contract."""
    body = f'Failed to open a WebSocket connection: {message}.\n'.encode()
    extra = ''
    if status == 405:
        extra = 'Allow: GET\r\n'
    elif status == 426 and 'Sec-WebSocket-Version' in message:
        extra = 'Sec-WebSocket-Version: 13\r\n'
    elif status == 426:
        extra = 'Upgrade: websocket\r\n'
    head = (
        f'HTTP/1.1 {status} {PHRASES[status]}\r\n'
        'Content-Type: text/plain; charset=utf-8\r\n'
        f'{extra}'
        f'Content-Length: {len(body)}\r\n'
        'Connection: close\r\n'
        '\r\n'
    )
    return head.encode() + body


def handshake_fault(status: int, message: str, flags: int = 0) -> dict[str, Any]:
    return {
        'flags': FAULT | flags,
        'messages': [],
        'output': hexs(error_response(status, message)),
        'state': 'CLOSED',
        'error': [status, message],
        'close_received': None,
        'close_sent': None,
        'close_expected': True,
        'close_code': 1006,
        'close_reason': '',
    }


def request(
    *,
    line: bytes = b'GET /chat HTTP/1.1',
    drop: tuple[bytes, ...] = (),
    replace: dict[bytes, bytes] | None = None,
    add: tuple[bytes, ...] = (),
) -> bytes:
    """The standard request with header lines dropped, replaced or added."""
    replace = replace or {}
    lines = [line]
    for header in STANDARD_REQUEST.split(b'\r\n')[1:-2]:
        name = header.split(b':', 1)[0]
        if name in drop:
            continue
        lines.append(replace.get(name, header))
    lines.extend(add)
    return b'\r\n'.join(lines) + b'\r\n\r\n'


def handshake() -> list[Case]:
    cases: list[Case] = []

    def accepted(
        data: bytes,
        id: str,
        source: str,
        req: dict[str, Any] | None = None,
        **options: Any,
    ) -> None:
        expect: dict[str, Any] = {
            'flags': HANDSHAKE,
            'messages': [],
            'output': '',
            'state': 'CONNECTING',
            'error': None,
            'close_received': None,
            'close_sent': None,
            'close_expected': False,
            'close_code': None,
        }
        if req is not None:
            expect['request'] = req
        cases.append(
            case(id, source, 'server', data, expect, open=False, options=options)
        )

    def refused(
        data: bytes, id: str, source: str, status: int, message: str, **options: Any
    ) -> None:
        cases.append(
            case(
                id,
                source,
                'server',
                data,
                handshake_fault(status, message),
                open=False,
                options=options,
            )
        )

    accepted(
        STANDARD_REQUEST,
        'rfc6455-1.3-standard-request',
        'RFC 6455 §1.3',
        {
            'method': 'GET',
            'target': '/chat',
            'path': '/chat',
            'raw_path': '/chat',
            'query_string': '',
            'http_version': '1.1',
            'key': 'dGhlIHNhbXBsZSBub25jZQ==',
            'subprotocols': [],
            'extensions': [],
            'headers': [
                [h.split(b': ')[0].decode(), h.split(b': ')[1].decode()]
                for h in STANDARD_REQUEST.split(b'\r\n')[1:-2]
            ],
        },
    )
    accepted(
        request(line=b'GET /a%20b/%E2%82%AC/%zz%2?x=1&y=%20 HTTP/1.1'),
        'request-target-split-and-decoded',
        'RFC 3986 §2.1; engine contract, Request',
        {
            'target': '/a%20b/%E2%82%AC/%zz%2?x=1&y=%20',
            'path': '/a b/€/%zz%2',
            'raw_path': '/a%20b/%E2%82%AC/%zz%2',
            'query_string': 'x=1&y=%20',
        },
    )
    accepted(
        request(line=b'GET /%FF%41? HTTP/1.1'),
        'request-path-invalid-utf8-replaced',
        'engine contract, Request.path',
        {'path': '/\ufffdA', 'query_string': ''},
    )
    accepted(
        request(line=b'GET /?a?b#f HTTP/1.1'),
        'request-query-after-first-question-mark',
        'RFC 3986 §3.4',
        {'raw_path': '/', 'query_string': 'a?b#f'},
    )
    accepted(
        request(
            add=(
                b'Sec-WebSocket-Protocol: chat, , superchat',
                b'sec-websocket-protocol:\tv2 ',
            )
        ),
        'subprotocols-split-across-headers',
        'RFC 6455 §4.2.1, §11.3.4',
        {'subprotocols': ['chat', 'superchat', 'v2']},
    )
    refused(
        request(add=(b'Sec-WebSocket-Extensions: a;b=1;c="q\\"t"',)),
        'check-13-quoted-value-not-token',
        'RFC 6455 §9.1',
        400,
        'invalid Sec-WebSocket-Extensions header',
    )
    accepted(
        request(
            add=(
                b'Sec-WebSocket-Extensions: '
                b'permessage-deflate; client_max_window_bits, '
                b'x-webkit-deflate-frame',
                b'Sec-WebSocket-Extensions: a;b=1 ; c="1\\5" ,, d',
            )
        ),
        'extensions-parsed',
        'RFC 6455 §9.1',
        {
            'extensions': [
                ['permessage-deflate', [['client_max_window_bits', None]]],
                ['x-webkit-deflate-frame', []],
                ['a', [['b', '1'], ['c', '15']]],
                ['d', []],
            ]
        },
    )
    accepted(
        request(add=(b'Sec-WebSocket-Extensions: ',)),
        'extensions-empty-value',
        'RFC 9110 §5.6.1 (empty elements skipped)',
        {'extensions': []},
    )
    accepted(
        request(
            replace={
                b'Upgrade': b'uPgRaDe:  h2c ,WebSocket\t',
                b'Connection': b'CONNECTION: keep-alive, Upgrade',
                b'Host': b'host:',
            }
        ),
        'header-names-case-insensitive-tokens',
        'RFC 9110 §5.1, §7.8; RFC 6455 §4.2.1',
        {
            'headers': [
                ['host', ''],
                ['uPgRaDe', 'h2c ,WebSocket'],
                ['CONNECTION', 'keep-alive, Upgrade'],
                ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
                ['Sec-WebSocket-Version', '13'],
            ],
        },
    )
    accepted(
        request(add=(b'Upgrade: other', b'Connection: upgrade')),
        'upgrade-and-connection-over-several-headers',
        'RFC 9110 §5.3',
        None,
    )
    accepted(
        request(replace={b'Sec-WebSocket-Version': b'Sec-WebSocket-Version:  13 '}),
        'version-stripped',
        'RFC 9110 §5.5',
        None,
    )
    accepted(
        request(add=(b'X-Obs: caf\xc3\xa9\x80\xff', b'X-Empty:')),
        'header-value-obs-text',
        'RFC 9110 §5.5',
        None,
    )
    accepted(
        request(line=b'GET /' + b'a' * 20 + b' HTTP/1.1'),
        'request-line-limit-exact',
        'engine contract, check 1',
        None,
        max_request_line=34,
    )
    cases.append(
        case(
            'request-line-limit-exact-cr-pending',
            'engine contract, check 1',
            'server',
            b'G' * 34 + b'\r',
            {'flags': 0, 'output': '', 'state': 'CONNECTING', 'error': None},
            open=False,
            options={'max_request_line': 34},
        )
    )
    accepted(
        request(add=(b'X: ' + b'a' * 45,)),
        'header-line-limit-exact',
        'engine contract, check 3',
        None,
        max_header_line=48,
    )
    accepted(
        request(),
        'header-count-limit-exact',
        'engine contract, check 4',
        None,
        max_headers=5,
    )
    cases.append(
        case(
            'request-with-frames-kept-until-accept',
            'engine contract, receive_data',
            'server',
            STANDARD_REQUEST + client_frame(TEXT, b'early'),
            {
                'flags': HANDSHAKE,
                'messages': [],
                'output': '',
                'state': 'CONNECTING',
                'error': None,
            },
            open=False,
        )
    )
    cases.append(
        case(
            'request-eof',
            'engine contract, receive_eof',
            'server',
            STANDARD_REQUEST[:30],
            {
                'flags': CLOSED,
                'output': '',
                'state': 'CLOSED',
                'error': None,
                'close_expected': True,
                'close_code': 1006,
                'close_reason': '',
            },
            open=False,
            eof=True,
        )
    )

    # Check 1: the request line is too long.
    refused(
        request(line=b'GET /' + b'a' * 21 + b' HTTP/1.1'),
        'check-1-request-line-too-long',
        'engine contract, check 1',
        414,
        'request line exceeds 34 bytes',
        max_request_line=34,
    )
    refused(
        b'GET /' + b'a' * 40,
        'check-1-request-line-too-long-incomplete',
        'engine contract, check 1',
        414,
        'request line exceeds 34 bytes',
        max_request_line=34,
    )
    refused(
        b'G' * 35 + b'\r',
        'check-1-cr-is-not-yet-content',
        'engine contract, check 1',
        414,
        'request line exceeds 34 bytes',
        max_request_line=34,
    )
    refused(
        b'G\x00' * 30,
        'check-1-before-check-2',
        'engine contract, checks 1-2',
        414,
        'request line exceeds 34 bytes',
        max_request_line=34,
    )
    # Check 2: a malformed request line.
    for name, line in [
        ('missing-version', b'GET /chat'),
        ('double-space', b'GET  /chat HTTP/1.1'),
        ('trailing-space', b'GET /chat HTTP/1.1 '),
        ('method-not-token', b'G(T /chat HTTP/1.1'),
        ('empty-method', b' /chat HTTP/1.1'),
        ('absolute-form', b'GET http://example.com/chat HTTP/1.1'),
        ('asterisk-form', b'GET * HTTP/1.1'),
        ('target-control-byte', b'GET /ch\x7fat HTTP/1.1'),
        ('target-non-ascii', b'GET /caf\xc3\xa9 HTTP/1.1'),
        ('version-lowercase', b'GET /chat http/1.1'),
        ('version-two-digits', b'GET /chat HTTP/11'),
        ('version-long', b'GET /chat HTTP/1.10'),
        ('tab-separator', b'GET\t/chat HTTP/1.1'),
        ('empty', b''),
    ]:
        refused(
            request(line=line),
            f'check-2-{name}',
            'RFC 9112 §3; engine contract, check 2',
            400,
            'invalid HTTP request line',
        )
    refused(
        b'GET /chat HTTP/1.1\nHost: x\r\n\r\n',
        'check-2-bare-lf',
        'RFC 9112 §2.2; engine contract, check 2',
        400,
        'invalid HTTP request line',
    )
    refused(
        b'GET /chat\r HTTP/1.1\r\n\r\n',
        'check-2-bare-cr',
        'RFC 9112 §2.2; engine contract, check 2',
        400,
        'invalid HTTP request line',
    )
    # Check 3: a header line is too long.
    refused(
        request(add=(b'X: ' + b'a' * 46,)),
        'check-3-header-line-too-long',
        'engine contract, check 3',
        431,
        'header line exceeds 48 bytes',
        max_header_line=48,
    )
    refused(
        STANDARD_REQUEST[:-2] + b'X: ' + b'a' * 60,
        'check-3-header-line-too-long-incomplete',
        'engine contract, check 3',
        431,
        'header line exceeds 48 bytes',
        max_header_line=48,
    )
    refused(
        request(add=(b'X\x00' + b'a' * 50,)),
        'check-3-before-check-5',
        'engine contract, checks 3-5',
        431,
        'header line exceeds 48 bytes',
        max_header_line=48,
    )
    refused(
        request(add=(b'X: ' + b'a' * 46,), line=b'GET /chat HTTP/1.0'),
        'check-3-before-check-6',
        'engine contract, checks 3-6',
        431,
        'header line exceeds 48 bytes',
        max_header_line=48,
    )
    # Check 4: too many header lines.
    refused(
        request(add=(b'X: 1',)),
        'check-4-too-many-headers',
        'engine contract, check 4',
        431,
        'request has more than 5 headers',
        max_headers=5,
    )
    refused(
        request(add=(b'bad header',)),
        'check-4-before-check-5',
        'engine contract, checks 4-5',
        431,
        'request has more than 5 headers',
        max_headers=5,
    )
    # Check 5: a malformed header line.
    for name, line in [
        ('no-colon', b'X-Header'),
        ('space-before-colon', b'Host : example.com'),
        ('empty-name', b': value'),
        ('name-not-token', b'X(1): y'),
        ('obsolete-folding', b' folded'),
        ('obsolete-folding-tab', b'\tfolded'),
        ('nul-in-value', b'X: a\x00b'),
        ('del-in-value', b'X: a\x7fb'),
        ('cr-in-value', b'X: a\rb'),
        ('non-ascii-name', b'X\xc3\xa9: y'),
    ]:
        refused(
            request(add=(line,)),
            f'check-5-{name}',
            'RFC 9112 §5; engine contract, check 5',
            400,
            'invalid HTTP header',
        )
    refused(
        STANDARD_REQUEST[:-2] + b'X: y\n\r\n',
        'check-5-bare-lf',
        'RFC 9112 §2.2; engine contract, check 5',
        400,
        'invalid HTTP header',
    )
    refused(
        STANDARD_REQUEST[:-2] + b'\n',
        'check-5-bare-lf-empty-line',
        'RFC 9112 §2.2; engine contract, check 5',
        400,
        'invalid HTTP header',
    )
    # Check 6: the HTTP version.
    for version in (b'HTTP/1.0', b'HTTP/2.0', b'HTTP/0.9', b'HTTP/1.2'):
        refused(
            request(line=b'GET /chat ' + version),
            f'check-6-{version.decode().lower()}',
            'RFC 6455 §4.1; engine contract, check 6',
            400,
            'unsupported HTTP version',
        )
    refused(
        request(line=b'POST /chat HTTP/1.0'),
        'check-6-before-check-7',
        'engine contract, checks 6-7',
        400,
        'unsupported HTTP version',
    )
    # Check 7: the method.
    for method in (b'POST', b'HEAD', b'get', b'CONNECT'):
        refused(
            request(line=method + b' /chat HTTP/1.1'),
            f'check-7-{method.decode()}',
            'RFC 6455 §4.1; engine contract, check 7',
            405,
            'HTTP method must be GET',
        )
    refused(
        request(line=b'PUT /chat HTTP/1.1', drop=(b'Host',)),
        'check-7-before-check-8',
        'engine contract, checks 7-8',
        405,
        'HTTP method must be GET',
    )
    # Check 8: Host.
    refused(
        request(drop=(b'Host',)),
        'check-8-missing-host',
        'RFC 9112 §3.2',
        400,
        'missing Host header',
    )
    refused(
        request(add=(b'host: other',)),
        'check-8-two-hosts',
        'RFC 9112 §3.2',
        400,
        'more than one Host header',
    )
    refused(
        request(drop=(b'Host', b'Upgrade')),
        'check-8-before-check-9',
        'engine contract, checks 8-9',
        400,
        'missing Host header',
    )
    # Check 9: Upgrade.
    refused(
        request(drop=(b'Upgrade',)),
        'check-9-missing-upgrade',
        'RFC 6455 §4.2.1',
        426,
        'missing Upgrade header',
    )
    for name, value in [
        ('h2c', b'h2c'),
        ('websocket-version', b'websocket/13'),
        ('empty', b''),
        ('substring', b'websockets'),
    ]:
        refused(
            request(replace={b'Upgrade': b'Upgrade: ' + value}),
            f'check-9-invalid-{name}',
            'RFC 6455 §4.2.1',
            426,
            'invalid Upgrade header',
        )
    refused(
        request(drop=(b'Upgrade', b'Connection')),
        'check-9-before-check-10',
        'engine contract, checks 9-10',
        426,
        'missing Upgrade header',
    )
    # Check 10: Connection.
    refused(
        request(drop=(b'Connection',)),
        'check-10-missing-connection',
        'RFC 6455 §4.2.1',
        426,
        'missing Connection header',
    )
    for name, value in [
        ('keep-alive', b'keep-alive'),
        ('close', b'close'),
        ('substring', b'upgrades'),
    ]:
        refused(
            request(replace={b'Connection': b'Connection: ' + value}),
            f'check-10-invalid-{name}',
            'RFC 6455 §4.2.1',
            426,
            'invalid Connection header',
        )
    refused(
        request(drop=(b'Connection', b'Sec-WebSocket-Version')),
        'check-10-before-check-11',
        'engine contract, checks 10-11',
        426,
        'missing Connection header',
    )
    # Check 11: Sec-WebSocket-Version.
    refused(
        request(drop=(b'Sec-WebSocket-Version',)),
        'check-11-missing-version',
        'RFC 6455 §4.2.1',
        426,
        'missing Sec-WebSocket-Version header',
    )
    refused(
        request(add=(b'Sec-WebSocket-Version: 13',)),
        'check-11-two-versions',
        'RFC 6455 §4.2.1',
        426,
        'more than one Sec-WebSocket-Version header',
    )
    for name, value in [
        ('8', b'8'),
        ('list', b'13, 8'),
        ('empty', b''),
        ('013', b'013'),
    ]:
        refused(
            request(
                replace={b'Sec-WebSocket-Version': b'Sec-WebSocket-Version: ' + value}
            ),
            f'check-11-unsupported-{name}',
            'RFC 6455 §4.4',
            426,
            'unsupported Sec-WebSocket-Version header',
        )
    refused(
        request(drop=(b'Sec-WebSocket-Version', b'Sec-WebSocket-Key')),
        'check-11-before-check-12',
        'engine contract, checks 11-12',
        426,
        'missing Sec-WebSocket-Version header',
    )
    # Check 12: Sec-WebSocket-Key.
    refused(
        request(drop=(b'Sec-WebSocket-Key',)),
        'check-12-missing-key',
        'RFC 6455 §4.2.1',
        400,
        'missing Sec-WebSocket-Key header',
    )
    refused(
        request(add=(b'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',)),
        'check-12-two-keys',
        'RFC 6455 §4.2.1',
        400,
        'more than one Sec-WebSocket-Key header',
    )
    for name, value in [
        ('short', b'dGhlIHNhbXBsZQ=='),
        ('no-padding', b'dGhlIHNhbXBsZSBub25jZQ'),
        ('not-canonical', b'dGhlIHNhbXBsZSBub25jZR=='),
        ('bad-alphabet', b'dGhlIHNhbXBsZSBub25j-Q=='),
        ('url-safe-alphabet', b'dGhlIHNhbXBsZSBub25j_Q=='),
        ('one-padding', b'dGhlIHNhbXBsZSBub25jZQA='),
        ('17-bytes', b'dGhlIHNhbXBsZSBub25jZSE='),
        ('empty', b''),
    ]:
        refused(
            request(replace={b'Sec-WebSocket-Key': b'Sec-WebSocket-Key: ' + value}),
            f'check-12-invalid-{name}',
            'RFC 6455 §4.2.1',
            400,
            'invalid Sec-WebSocket-Key header',
        )
    refused(
        request(drop=(b'Sec-WebSocket-Key',), add=(b'Sec-WebSocket-Extensions: ;',)),
        'check-12-before-check-13',
        'engine contract, checks 12-13',
        400,
        'missing Sec-WebSocket-Key header',
    )
    # Check 13: Sec-WebSocket-Extensions syntax.
    for name, value in [
        ('leading-semicolon', b'; a'),
        ('space-in-element', b'a b'),
        ('empty-parameter', b'a;'),
        ('double-semicolon', b'a;;b'),
        ('empty-value', b'a; b='),
        ('space-around-equals', b'a; b = 1'),
        ('quoted-not-token', b'a; b="1 2"'),
        ('quoted-empty', b'a; b=""'),
        ('unterminated-quote', b'a; b="1'),
        ('quoted-name', b'"a"'),
        ('value-not-token', b'a; b=1/2'),
        ('trailing-backslash', b'a; b="1\\'),
    ]:
        refused(
            request(add=(b'Sec-WebSocket-Extensions: ' + value,)),
            f'check-13-{name}',
            'RFC 6455 §9.1',
            400,
            'invalid Sec-WebSocket-Extensions header',
        )
    return cases


# --- client.json -------------------------------------------------------------

CLIENT_KEY = base64.b64encode(KEY * 4).decode()
CLIENT_ACCEPT = base64.b64encode(
    hashlib.sha1((CLIENT_KEY + GUID).encode()).digest()
).decode()


def response(
    *,
    line: bytes = b'HTTP/1.1 101 Switching Protocols',
    drop: tuple[bytes, ...] = (),
    replace: dict[bytes, bytes] | None = None,
    add: tuple[bytes, ...] = (),
) -> bytes:
    replace = replace or {}
    lines = [line]
    for header in (
        b'Upgrade: websocket',
        b'Connection: Upgrade',
        b'Sec-WebSocket-Accept: ' + CLIENT_ACCEPT.encode(),
    ):
        name = header.split(b':', 1)[0]
        if name in drop:
            continue
        lines.append(replace.get(name, header))
    lines.extend(add)
    return b'\r\n'.join(lines) + b'\r\n\r\n'


def client() -> list[Case]:
    cases: list[Case] = []

    def opened(
        data: bytes,
        id: str,
        source: str,
        flags: int = HANDSHAKE,
        messages: list[dict[str, str]] | None = None,
        resp: dict[str, Any] | None = None,
        output: bytes = b'',
        **options: Any,
    ) -> None:
        expect = ok(flags, messages, output)
        if resp is not None:
            expect['response'] = resp
        cases.append(
            case(id, source, 'client', data, expect, open=False, options=options)
        )

    def refused(
        data: bytes,
        id: str,
        source: str,
        message: str,
        resp: dict[str, Any] | None = None,
        **options: Any,
    ) -> None:
        expect = {
            'flags': FAILED | CLOSED,
            'messages': [],
            'output': '',
            'state': 'CLOSED',
            'error': [1002, message],
            'close_received': None,
            'close_sent': None,
            'close_expected': True,
            'close_code': 1006,
            'close_reason': '',
        }
        if resp is not None:
            expect['response'] = resp
        cases.append(
            case(id, source, 'client', data, expect, open=False, options=options)
        )

    opened(
        response(),
        'client-standard-response',
        'RFC 6455 §4.1',
        resp={
            'status': 101,
            'reason': 'Switching Protocols',
            'subprotocol': None,
            'extensions': [],
            'body': '',
            'headers': [
                ['Upgrade', 'websocket'],
                ['Connection', 'Upgrade'],
                ['Sec-WebSocket-Accept', CLIENT_ACCEPT],
            ],
        },
    )
    opened(
        response(line=b'HTTP/1.1 101'),
        'client-status-line-without-reason',
        'RFC 9112 §4',
        resp={'reason': ''},
    )
    opened(
        response(line=b'HTTP/1.1 101 '),
        'client-status-line-empty-reason',
        'RFC 9112 §4',
        resp={'reason': ''},
    )
    opened(
        response(
            replace={
                b'Upgrade': b'upgrade: WebSocket',
                b'Connection': b'connection: x, UPGRADE',
            }
        ),
        'client-case-insensitive',
        'RFC 6455 §4.1',
    )
    opened(
        response(add=(b'Sec-WebSocket-Protocol: chat',)),
        'client-subprotocol-selected',
        'RFC 6455 §4.1',
        resp={'subprotocol': 'chat'},
        subprotocols=['superchat', 'chat'],
    )
    opened(
        response() + server_frame(TEXT, b'Hello') + server_frame(PING, b'p'),
        'client-frames-after-response',
        'RFC 6455 §4.1',
        HANDSHAKE | MESSAGES | OUTPUT,
        [text('Hello')],
        output=client_frame(PONG_OP, b'p'),
    )
    opened(response()[:-1], 'client-incomplete-response', 'RFC 6455 §4.1', 0)
    cases[-1]['expect']['state'] = 'CONNECTING'
    opened(
        response(line=b'HTTP/1.1 101 ' + b'x' * 9),
        'client-status-line-limit-exact',
        'engine contract, client checks',
        max_request_line=22,
    )

    refused(
        response(line=b'HTTP/1.1 101 ' + b'x' * 10),
        'client-status-line-too-long',
        'engine contract, client checks',
        'status line exceeds 22 bytes',
        max_request_line=22,
    )
    refused(
        response(add=(b'X: ' + b'y' * 60,)),
        'client-header-line-too-long',
        'engine contract, client checks',
        'header line exceeds 56 bytes',
        max_header_line=56,
    )
    refused(
        response(add=(b'X: 1',)),
        'client-too-many-headers',
        'engine contract, client checks',
        'response has more than 3 headers',
        max_headers=3,
    )
    for name, line in [
        ('version', b'HTTP/1 101 OK'),
        ('status-2-digits', b'HTTP/1.1 10 OK'),
        ('status-letters', b'HTTP/1.1 1O1 OK'),
        ('no-status', b'HTTP/1.1'),
        ('lowercase', b'http/1.1 101 OK'),
        ('control-in-reason', b'HTTP/1.1 101 O\x00K'),
    ]:
        refused(
            response(line=line),
            f'client-invalid-status-line-{name}',
            'RFC 9112 §4',
            'invalid HTTP status line',
        )
    refused(
        response(add=(b'Bad Header: x',)),
        'client-invalid-header',
        'RFC 9112 §5',
        'invalid HTTP header',
    )
    refused(
        b'HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nnope!extra',
        'client-rejected-with-body',
        'RFC 6455 §4.1',
        'server rejected WebSocket connection: HTTP 403',
        resp={
            'status': 403,
            'reason': 'Forbidden',
            'body': b'nope!'.hex(' '),
            'headers': [['Content-Length', '5']],
        },
    )
    refused(
        b'HTTP/1.1 404 Not Found\r\n\r\nwhatever came',
        'client-rejected-without-length',
        'engine contract, client checks',
        'server rejected WebSocket connection: HTTP 404',
        # NOTE(gyrfalcon): the body is "whatever arrived with the head", so
        #   it depends on how the input is split; test_client.py checks it.
        resp={'status': 404},
    )
    refused(
        b'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
        'client-rejected-200',
        'RFC 6455 §4.1',
        'server rejected WebSocket connection: HTTP 200',
        resp={'status': 200, 'body': ''},
    )
    cases.append(
        case(
            'client-rejection-waits-for-body',
            'engine contract, client checks',
            'client',
            b'HTTP/1.1 500 Oops\r\nContent-Length: 10\r\n\r\n12345',
            {
                'flags': 0,
                'output': '',
                'state': 'CONNECTING',
                'error': None,
            },
            open=False,
        )
    )
    refused(
        response(drop=(b'Upgrade',)),
        'client-missing-upgrade',
        'RFC 6455 §4.1',
        'missing Upgrade header',
    )
    refused(
        response(replace={b'Upgrade': b'Upgrade: h2c'}),
        'client-invalid-upgrade',
        'RFC 6455 §4.1',
        'invalid Upgrade header',
    )
    refused(
        response(drop=(b'Connection',)),
        'client-missing-connection',
        'RFC 6455 §4.1',
        'missing Connection header',
    )
    refused(
        response(replace={b'Connection': b'Connection: close'}),
        'client-invalid-connection',
        'RFC 6455 §4.1',
        'invalid Connection header',
    )
    refused(
        response(drop=(b'Sec-WebSocket-Accept',)),
        'client-missing-accept',
        'RFC 6455 §4.1',
        'missing Sec-WebSocket-Accept header',
    )
    refused(
        response(add=(b'Sec-WebSocket-Accept: ' + CLIENT_ACCEPT.encode(),)),
        'client-two-accepts',
        'RFC 6455 §4.1',
        'more than one Sec-WebSocket-Accept header',
    )
    refused(
        response(
            replace={
                b'Sec-WebSocket-Accept': b'Sec-WebSocket-Accept: '
                + b's3pPLMBiTxaQ9kYGzzhZRbK+xOo='
            }
        ),
        'client-wrong-accept',
        'RFC 6455 §4.1',
        'invalid Sec-WebSocket-Accept header',
    )
    refused(
        response(add=(b'Sec-WebSocket-Protocol: chat',)),
        'client-unexpected-subprotocol',
        'RFC 6455 §4.1',
        'unexpected Sec-WebSocket-Protocol header',
    )
    refused(
        response(add=(b'Sec-WebSocket-Protocol: other',)),
        'client-subprotocol-not-offered',
        'RFC 6455 §4.1',
        'unexpected Sec-WebSocket-Protocol header',
        subprotocols=['chat'],
    )
    refused(
        response(add=(b'Sec-WebSocket-Protocol: chat, v2',)),
        'client-two-subprotocols',
        'RFC 6455 §4.1',
        'unexpected Sec-WebSocket-Protocol header',
        subprotocols=['chat', 'v2'],
    )
    refused(
        response(
            add=(b'Sec-WebSocket-Protocol: chat', b'Sec-WebSocket-Protocol: chat')
        ),
        'client-subprotocol-twice',
        'RFC 6455 §4.1',
        'unexpected Sec-WebSocket-Protocol header',
        subprotocols=['chat'],
    )
    refused(
        response(add=(b'Sec-WebSocket-Extensions: permessage-deflate',)),
        'client-unexpected-extension',
        'RFC 6455 §4.1',
        'unexpected Sec-WebSocket-Extensions header',
    )
    refused(
        response(drop=(b'Upgrade',), add=(b'Sec-WebSocket-Extensions: x',)),
        'client-order-upgrade-first',
        'engine contract, client checks',
        'missing Upgrade header',
    )
    return cases


# --- deflate.json ------------------------------------------------------------

TAIL = b'\x00\x00\xff\xff'
# RFC 7692 §7.2.3.1: "Hello" in one compressed block, tail removed.
HELLO_DEFLATED = bytes.fromhex('f2 48 cd c9 c9 07 00')
# RFC 7692 §7.2.3.2: the second "Hello", referring back to the first.
HELLO_AGAIN = bytes.fromhex('f2 00 11 00 00')
# RFC 7692 §7.2.3.3: "Hello" in a stored (uncompressed) block.
HELLO_STORED = bytes.fromhex('00 05 00 fa ff 48 65 6c 6c 6f 00')
# RFC 7692 §7.2.3.4: "Hello" in a final block, then the 0x00 octet.
HELLO_FINAL = bytes.fromhex('f3 48 cd c9 c9 07 00')
INVALID_DATA = 'invalid compressed data'
INVALID_EXTENSIONS = 'invalid Sec-WebSocket-Extensions header'
RESERVED = 'received frame with reserved bits set'
DEFLATE_SOURCE = 'RFC 7692'


def compressor(wbits: int = 9) -> Any:
    """A raw deflate stream as an RFC 7692 peer keeps one (stdlib zlib)."""
    return zlib.compressobj(6, zlib.DEFLATED, -wbits, 8)


def deflated(data: bytes, stream: Any = None, strip: bool = True) -> bytes:
    """`data` compressed as one message (RFC 7692 §7.2.1): sync flush, no tail."""
    stream = stream or compressor()
    out = stream.compress(data) + stream.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(TAIL)
    return out[:-4] if strip else out


# A 300-byte back-reference: valid in a 9-bit (512-byte) window, not in an
# 8-bit one. The first message holds 20 distinct bytes and a run; the second
# repeats the 20 bytes, 300 bytes back, in a later zlib call.
NINE_BIT_FIRST = bytes((i * 73 + 41) % 256 for i in range(20)) + b'a' * 280
NINE_BIT_SECOND = NINE_BIT_FIRST[:20]


def nine_bit_messages() -> tuple[bytes, bytes]:
    """Two messages of one context whose second reaches 300 bytes back.

    zlib's own 9-bit streams never reach back more than 250 bytes (its
    ``MAX_DIST`` is the window less 262), so the peer is a wider zlib
    stream; the checks below prove the window it needs is 9 bits.
    """
    stream = compressor(15)
    wire = (deflated(NINE_BIT_FIRST, stream), deflated(NINE_BIT_SECOND, stream))
    for bits, fits in ((9, True), (8, False)):
        inflater = zlib.decompressobj(wbits=-bits)
        try:
            for payload, message in zip(wire, (NINE_BIT_FIRST, NINE_BIT_SECOND),
                                        strict=True):  # fmt: skip
                assert inflater.decompress(payload + TAIL) == message
        except zlib.error:
            assert not fits
        else:
            assert fits
    return wire


def params(
    server_nct: bool = False,
    client_nct: bool = False,
    server_bits: int = 15,
    client_bits: int = 15,
) -> dict[str, Any]:
    return {
        'server_no_context_takeover': server_nct,
        'client_no_context_takeover': client_nct,
        'server_max_window_bits': server_bits,
        'client_max_window_bits': client_bits,
    }


def accept_101(
    extensions: str | None = None,
    protocol: str | None = None,
    extra: tuple[str, ...] = (),
) -> bytes:
    """The 101 a server answers the standard request with."""
    head = (
        'HTTP/1.1 101 Switching Protocols\r\n'
        'Upgrade: websocket\r\n'
        'Connection: Upgrade\r\n'
        'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n'
    )
    if protocol is not None:
        head += f'Sec-WebSocket-Protocol: {protocol}\r\n'
    if extensions is not None:
        head += f'Sec-WebSocket-Extensions: {extensions}\r\n'
    for line in extra:
        head += line + '\r\n'
    return (head + '\r\n').encode()


def client_request_head(
    extensions: str | None = None, protocol: str | None = None
) -> str:
    """The standard client request, as Latin-1 text."""
    head = (
        'GET /chat HTTP/1.1\r\n'
        'Host: server.example.com\r\n'
        'Upgrade: websocket\r\n'
        'Connection: Upgrade\r\n'
        f'Sec-WebSocket-Key: {CLIENT_KEY}\r\n'
        'Sec-WebSocket-Version: 13\r\n'
    )
    if protocol is not None:
        head += f'Sec-WebSocket-Protocol: {protocol}\r\n'
    if extensions is not None:
        head += f'Sec-WebSocket-Extensions: {extensions}\r\n'
    return head + '\r\n'


def extension_lines(*values: str) -> tuple[bytes, ...]:
    return tuple(b'Sec-WebSocket-Extensions: ' + value.encode() for value in values)


# The handshake each role's compressed-message vectors open with.
OFFER = {'server': 'permessage-deflate', 'client': None}
ANSWER = 'permessage-deflate; server_max_window_bits=12'
NO_CONTEXT = {
    'server': 'permessage-deflate; client_no_context_takeover',
    'client': 'permessage-deflate; server_no_context_takeover; '
    'server_max_window_bits=12',
}

# Offers a server declines (RFC 7692 §7.1, engine contract), by name.
DECLINED = [
    ('unknown-parameter', 'permessage-deflate; x'),
    ('unknown-parameter-value', 'permessage-deflate; mode=fast'),
    (
        'duplicate-server-no-context-takeover',
        'permessage-deflate; server_no_context_takeover; server_no_context_takeover',
    ),
    (
        'duplicate-client-no-context-takeover',
        'permessage-deflate; client_no_context_takeover; client_no_context_takeover',
    ),
    (
        'duplicate-server-bits',
        'permessage-deflate; server_max_window_bits=10; server_max_window_bits=10',
    ),
    (
        'duplicate-client-bits',
        'permessage-deflate; client_max_window_bits; client_max_window_bits=9',
    ),
    ('value-on-server-no-context', 'permessage-deflate; server_no_context_takeover=1'),
    (
        'quoted-value-on-client-no-context',
        'permessage-deflate; client_no_context_takeover="x"',
    ),
    ('server-bits-without-value', 'permessage-deflate; server_max_window_bits'),
    ('server-bits-0', 'permessage-deflate; server_max_window_bits=0'),
    ('server-bits-7', 'permessage-deflate; server_max_window_bits=7'),
    ('server-bits-8', 'permessage-deflate; server_max_window_bits=8'),
    ('server-bits-16', 'permessage-deflate; server_max_window_bits=16'),
    ('server-bits-leading-zero', 'permessage-deflate; server_max_window_bits=09'),
    (
        'server-bits-quoted-leading-zero',
        'permessage-deflate; server_max_window_bits="010"',
    ),  # fmt: skip
    ('server-bits-plus-sign', 'permessage-deflate; server_max_window_bits=+9'),
    ('server-bits-word', 'permessage-deflate; server_max_window_bits=ten'),
    ('client-bits-7', 'permessage-deflate; client_max_window_bits=7'),
    ('client-bits-16', 'permessage-deflate; client_max_window_bits=16'),
    ('client-bits-leading-zero', 'permessage-deflate; client_max_window_bits=08'),
    ('client-bits-word', 'permessage-deflate; client_max_window_bits=x'),
    ('uppercase-name', 'Permessage-Deflate'),
    ('uppercase-parameter', 'permessage-deflate; Server_No_Context_Takeover'),
]


ON = {'compression': True}


def deflate() -> list[Case]:
    cases: list[Case] = []
    deflate_server(cases)
    deflate_client(cases)
    for role in ('server', 'client'):
        deflate_received(cases, role)
    return cases


def deflate_server(cases: list[Case]) -> None:
    """The server's choice and its exact 101 (RFC 7692 §5, §7.1)."""
    on = ON

    def negotiated(
        offers: tuple[str, ...],
        id: str,
        source: str,
        answer: str | None,
        agreed: dict[str, Any] | None,
        **options: Any,
    ) -> None:
        expect = {
            'flags': HANDSHAKE,
            'messages': [],
            'output': hexs(accept_101(answer)),
            'state': 'OPEN',
            'error': None,
            'close_expected': False,
            'deflate': agreed,
        }
        cases.append(
            case(
                id,
                source,
                'server',
                request(add=extension_lines(*offers)),
                expect,
                open=False,
                options={**on, **options},
                after=[{'call': 'accept'}],
            )
        )

    plain = 'permessage-deflate; server_max_window_bits=12'
    negotiated(
        ('permessage-deflate',),
        'deflate-server-compression-off',
        'engine contract, compression',
        None,
        None,
        compression=False,
    )
    negotiated((), 'deflate-server-no-offer', 'RFC 7692 §5', None, None)
    negotiated(
        ('permessage-deflate',),
        'deflate-server-plain-offer',
        'RFC 7692 §7.1.2.1',
        plain,
        params(server_bits=12),
    )
    negotiated(
        ('permessage-deflate; client_max_window_bits',),
        'deflate-server-browser-offer',
        'RFC 7692 §7.1.2.2',
        plain + '; client_max_window_bits=12',
        params(server_bits=12, client_bits=12),
    )
    negotiated(
        ('permessage-deflate',),
        'deflate-server-window-15',
        'RFC 7692 §7.1.2.1',
        'permessage-deflate',
        params(),
        deflate_window_bits=15,
    )
    negotiated(
        ('permessage-deflate; client_max_window_bits',),
        'deflate-server-window-15-client-bits',
        'RFC 7692 §7.1.2.2',
        'permessage-deflate; client_max_window_bits=15',
        params(),
        deflate_window_bits=15,
    )
    negotiated(
        ('permessage-deflate; server_no_context_takeover',),
        'deflate-server-server-no-context-takeover',
        'RFC 7692 §7.1.1.1',
        'permessage-deflate; server_no_context_takeover; server_max_window_bits=12',
        params(server_nct=True, server_bits=12),
    )
    negotiated(
        ('permessage-deflate; client_no_context_takeover',),
        'deflate-server-client-no-context-takeover',
        'RFC 7692 §7.1.1.2',
        'permessage-deflate; client_no_context_takeover; server_max_window_bits=12',
        params(client_nct=True, server_bits=12),
    )
    negotiated(
        ('permessage-deflate',),
        'deflate-server-our-no-context-takeover',
        'engine contract, deflate_no_context_takeover',
        'permessage-deflate; server_no_context_takeover; server_max_window_bits=12',
        params(server_nct=True, server_bits=12),
        deflate_no_context_takeover=True,
    )
    for offered, window, expected in [
        (10, 12, 10),
        (14, 12, 12),
        (9, 15, 9),
        (15, 15, 15),
        (12, 9, 9),
    ]:
        negotiated(
            (f'permessage-deflate; server_max_window_bits={offered}',),
            f'deflate-server-server-bits-{offered}-window-{window}',
            'RFC 7692 §7.1.2.1',
            f'permessage-deflate; server_max_window_bits={expected}',
            params(server_bits=expected),
            deflate_window_bits=window,
        )
    for offered, window, expected in [(10, 12, 10), (8, 12, 8), (15, 12, 12),
                                      (9, 9, 9), (14, 15, 14)]:  # fmt: skip
        server = f'; server_max_window_bits={min(window, 15)}' if window < 15 else ''
        negotiated(
            (f'permessage-deflate; client_max_window_bits={offered}',),
            f'deflate-server-client-bits-{offered}-window-{window}',
            'RFC 7692 §7.1.2.2',
            f'permessage-deflate{server}; client_max_window_bits={expected}',
            params(server_bits=min(window, 15), client_bits=expected),
            deflate_window_bits=window,
        )
    everything = (
        'permessage-deflate; server_no_context_takeover; client_no_context_takeover'
        '; server_max_window_bits=10; client_max_window_bits=9'
    )
    negotiated(
        (everything,),
        'deflate-server-all-parameters',
        'RFC 7692 §7.1',
        everything,
        params(True, True, 10, 9),
    )
    negotiated(
        (
            'permessage-deflate; client_max_window_bits=9; server_max_window_bits=10'
            '; client_no_context_takeover; server_no_context_takeover',
        ),
        'deflate-server-answer-order',
        'engine contract, server negotiation',
        everything,
        params(True, True, 10, 9),
    )
    negotiated(
        ('permessage-deflate; server_max_window_bits="10"',),
        'deflate-server-quoted-value',
        'RFC 6455 §9.1',
        'permessage-deflate; server_max_window_bits=10',
        params(server_bits=10),
    )
    negotiated(
        ('permessage-deflate ;server_max_window_bits=10 ;\tclient_max_window_bits',),
        'deflate-server-whitespace',
        'RFC 6455 §9.1',
        'permessage-deflate; server_max_window_bits=10; client_max_window_bits=12',
        params(server_bits=10, client_bits=12),
    )
    for name, offer in DECLINED:
        negotiated(
            (offer,),
            f'deflate-server-declines-{name}',
            'engine contract, server negotiation',
            None,
            None,
        )
        negotiated(
            (offer + ', permessage-deflate; client_max_window_bits=9',),
            f'deflate-server-declines-{name}-then-accepts-next',
            'engine contract, server negotiation',
            plain + '; client_max_window_bits=9',
            params(server_bits=12, client_bits=9),
        )
    negotiated(
        ('x-webkit-deflate-frame, permessage-deflate',),
        'deflate-server-other-extension-first',
        'RFC 6455 §9.1',
        plain,
        params(server_bits=12),
    )
    negotiated(
        ('x-webkit-deflate-frame; no_context_takeover',),
        'deflate-server-other-extension-only',
        'RFC 6455 §9.1',
        None,
        None,
    )
    negotiated(
        ('permessage-deflate; x', 'permessage-deflate; server_no_context_takeover'),
        'deflate-server-offer-in-second-header',
        'RFC 6455 §9.1',
        'permessage-deflate; server_no_context_takeover; server_max_window_bits=12',
        params(server_nct=True, server_bits=12),
    )
    negotiated(
        ('permessage-deflate; client_max_window_bits=9, permessage-deflate',),
        'deflate-server-first-acceptable-offer-wins',
        'RFC 7692 §5',
        plain + '; client_max_window_bits=9',
        params(server_bits=12, client_bits=9),
    )
    cases.append(
        case(
            'deflate-server-response-line-order',
            'engine contract, server negotiation',
            'server',
            request(
                add=(
                    b'Sec-WebSocket-Protocol: chat',
                    *extension_lines('permessage-deflate'),
                )
            ),
            {
                'flags': HANDSHAKE,
                'output': hexs(accept_101(plain, 'chat', ('X-Extra: 1',))),
                'state': 'OPEN',
                'deflate': params(server_bits=12),
            },
            open=False,
            options=on,
            after=[{'call': 'accept', 'args': ['chat', [['X-Extra', '1']]]}],
        )
    )
    cases.append(
        case(
            'deflate-server-frames-before-accept',
            'engine contract, accept()',
            'server',
            request(add=extension_lines('permessage-deflate'))
            + client_frame(TEXT, HELLO_DEFLATED, rsv=4),
            {
                'flags': HANDSHAKE | MESSAGES,
                'messages': [text('Hello')],
                'output': hexs(accept_101(plain)),
                'state': 'OPEN',
                'deflate': params(server_bits=12),
            },
            open=False,
            options=on,
            after=[{'call': 'accept'}],
        )
    )


def deflate_client(cases: list[Case]) -> None:
    """The client's offer, and its checks of the response (RFC 7692 §5)."""
    on = ON
    plain = ANSWER

    def client_opened(
        answer: str | None,
        id: str,
        source: str,
        agreed: dict[str, Any] | None,
        sent: str | None = None,
        extra: bytes = b'',
        flags: int = HANDSHAKE,
        messages: list[dict[str, str]] | None = None,
        **options: Any,
    ) -> None:
        lines = () if answer is None else extension_lines(answer)
        expect = ok(flags, messages, deflate=agreed)
        if sent is not None:
            expect['request_sent'] = sent
        if answer is not None:
            expect['response'] = {
                'extensions': [] if not answer else [_element(answer)]
            }
        cases.append(
            case(
                id,
                source,
                'client',
                response(add=lines) + extra,
                expect,
                open=False,
                options={**on, **options},
            )
        )

    def client_refused(
        answer: tuple[bytes, ...],
        id: str,
        source: str,
        message: str = INVALID_EXTENSIONS,
        **options: Any,
    ) -> None:
        cases.append(
            case(
                id,
                source,
                'client',
                response(add=answer),
                {
                    'flags': FAILED | CLOSED,
                    'messages': [],
                    'output': '',
                    'state': 'CLOSED',
                    'error': [1002, message],
                    'deflate': None,
                    'close_code': 1006,
                },
                open=False,
                options={**on, **options},
            )
        )

    client_opened(
        plain + '; client_max_window_bits=12',
        'deflate-client-offer-default',
        'engine contract, client offer',
        params(server_bits=12, client_bits=12),
        client_request_head(
            'permessage-deflate; client_max_window_bits; server_max_window_bits=12'
        ),
    )
    client_opened(
        'permessage-deflate',
        'deflate-client-offer-window-15',
        'engine contract, client offer',
        params(),
        client_request_head('permessage-deflate; client_max_window_bits'),
        deflate_window_bits=15,
    )
    client_opened(
        'permessage-deflate; client_no_context_takeover; server_max_window_bits=9'
        '; client_max_window_bits=9',
        'deflate-client-offer-no-context-takeover',
        'engine contract, client offer',
        params(client_nct=True, server_bits=9, client_bits=9),
        client_request_head(
            'permessage-deflate; client_max_window_bits; server_max_window_bits=9'
            '; client_no_context_takeover'
        ),
        deflate_window_bits=9,
        deflate_no_context_takeover=True,
    )
    cases.append(
        case(
            'deflate-client-offer-after-subprotocols',
            'engine contract, client offer',
            'client',
            response(add=(b'Sec-WebSocket-Protocol: chat', *extension_lines(plain))),
            ok(
                HANDSHAKE,
                deflate=params(server_bits=12),
                request_sent=client_request_head(
                    'permessage-deflate; client_max_window_bits'
                    '; server_max_window_bits=12',
                    'chat, v2',
                ),
                response={'subprotocol': 'chat'},
            ),
            open=False,
            options={**on, 'subprotocols': ['chat', 'v2']},
        )
    )
    client_opened(
        None,
        'deflate-client-no-offer-without-compression',
        'engine contract, client offer',
        None,
        client_request_head(),
        compression=False,
    )
    client_opened(
        None,
        'deflate-client-offer-not-answered',
        'RFC 7692 §5',
        None,
    )
    client_opened(
        '',
        'deflate-client-empty-answer',
        'engine contract, client response',
        None,
    )
    client_opened(
        plain,
        'deflate-client-answer-server-bits',
        'RFC 7692 §7.1.2.1',
        params(server_bits=12),
    )
    client_opened(
        'permessage-deflate; server_max_window_bits=9; client_max_window_bits=10',
        'deflate-client-answer-both-bits',
        'RFC 7692 §7.1.2',
        params(server_bits=9, client_bits=10),
    )
    client_opened(
        'permessage-deflate; server_max_window_bits=12; client_max_window_bits=15',
        'deflate-client-answer-client-bits-15',
        'RFC 7692 §7.1.2.2',
        params(server_bits=12, client_bits=15),
    )
    client_opened(
        'permessage-deflate; server_no_context_takeover; client_no_context_takeover'
        '; server_max_window_bits=12',
        'deflate-client-answer-no-context-takeover',
        'RFC 7692 §7.1.1',
        params(True, True, 12),
    )
    client_opened(
        plain,
        'deflate-client-no-context-offered-not-answered',
        'RFC 7692 §7.1.1.2',
        params(client_nct=True, server_bits=12),
        deflate_no_context_takeover=True,
    )
    client_opened(
        'permessage-deflate; server_max_window_bits="11"',
        'deflate-client-answer-quoted',
        'RFC 6455 §9.1',
        params(server_bits=11),
    )
    client_opened(
        'permessage-deflate',
        'deflate-client-window-15-answer-without-bits',
        'RFC 7692 §7.1.2.1',
        params(),
        deflate_window_bits=15,
    )
    client_opened(
        'permessage-deflate; server_max_window_bits=9',
        'deflate-client-window-15-answer-server-bits',
        'RFC 7692 §7.1.2.1',
        params(server_bits=9),
        deflate_window_bits=15,
    )
    client_opened(
        plain,
        'deflate-client-frames-after-response',
        'engine contract, client response',
        params(server_bits=12),
        extra=server_frame(TEXT, HELLO_DEFLATED, rsv=4),
        flags=HANDSHAKE | MESSAGES,
        messages=[text('Hello')],
    )
    for name, answer in [
        ('other-extension', 'x-webkit-deflate-frame'),
        ('two-elements', f'{plain}, {plain}'),
        ('unknown-parameter', plain + '; x'),
        ('duplicate-parameter',
         'permessage-deflate; server_no_context_takeover; server_no_context_takeover'
         '; server_max_window_bits=12'),
        ('value-on-no-context-takeover',
         'permessage-deflate; client_no_context_takeover=1; server_max_window_bits=12'),
        ('server-bits-missing', 'permessage-deflate'),
        ('server-bits-above-offer', 'permessage-deflate; server_max_window_bits=13'),
        ('server-bits-without-value', 'permessage-deflate; server_max_window_bits'),
        ('server-bits-8', 'permessage-deflate; server_max_window_bits=8'),
        ('server-bits-leading-zero', 'permessage-deflate; server_max_window_bits=09'),
        ('client-bits-without-value', plain + '; client_max_window_bits'),
        ('client-bits-8', plain + '; client_max_window_bits=8'),
        ('client-bits-16', plain + '; client_max_window_bits=16'),
        ('syntax-trailing-semicolon', 'permessage-deflate;'),
        ('syntax-unterminated-quote', 'permessage-deflate; server_max_window_bits="1'),
        ('uppercase-name', 'Permessage-Deflate; server_max_window_bits=12'),
    ]:  # fmt: skip
        client_refused(
            extension_lines(answer),
            f'deflate-client-refuses-{name}',
            'engine contract, client response',
        )
    client_refused(
        extension_lines(plain, plain),
        'deflate-client-refuses-two-headers',
        'engine contract, client response',
    )
    client_refused(
        extension_lines('permessage-deflate; server_max_window_bits=16'),
        'deflate-client-refuses-server-bits-16',
        'engine contract, client response',
        deflate_window_bits=15,
    )
    client_refused(
        extension_lines('permessage-deflate'),
        'deflate-client-refuses-answer-without-offer',
        'RFC 6455 §4.1',
        'unexpected Sec-WebSocket-Extensions header',
        compression=False,
    )
    client_refused(
        (b'Sec-WebSocket-Protocol: chat', *extension_lines('x')),
        'deflate-client-subprotocol-checked-first',
        'engine contract, client checks',
        'unexpected Sec-WebSocket-Protocol header',
    )


def deflate_received(cases: list[Case], role: str) -> None:
    """Compressed messages received (RFC 7692 §6, §7.2.2)."""
    on = ON

    def opened_with(role: str, extensions: str | None, **options: Any) -> Any:
        def add(id: str, source: str, data: bytes, expect: dict[str, Any],
                **more: Any) -> None:  # fmt: skip
            cases.append(
                case(
                    f'{id}-{role}',
                    source,
                    role,
                    data,
                    expect,
                    options={**on, **options, **more.pop('options', {})},
                    extensions=extensions,
                    **more,
                )
            )

        return add

    extensions = OFFER[role] if role == 'server' else ANSWER
    add = opened_with(role, extensions)
    fresh = opened_with(role, NO_CONTEXT[role])

    def z(opcode: int, payload: bytes, role: str = role, **kw: Any) -> bytes:
        """A compressed frame: RSV1 set unless `rsv` says otherwise."""
        kw.setdefault('rsv', 4)
        return in_frame(role, opcode, payload, **kw)

    def failed(code: int, message: str, role: str = role, **kw: Any) -> Any:
        return fault(role, code, message, **kw)

    add(
        'rfc7692-7.2.3.1-hello',
        'RFC 7692 §7.2.3.1',
        z(TEXT, HELLO_DEFLATED),
        ok(MESSAGES, [text('Hello')]),
    )
    add(
        'rfc7692-7.2.3.1-fragmented',
        'RFC 7692 §7.2.3.1',
        z(TEXT, HELLO_DEFLATED[:3], fin=False) + z(CONT, HELLO_DEFLATED[3:], rsv=0),
        ok(MESSAGES, [text('Hello')]),
    )
    add(
        'rfc7692-7.2.3.2-shared-window',
        'RFC 7692 §7.2.3.2',
        z(TEXT, HELLO_DEFLATED) + z(TEXT, HELLO_AGAIN),
        ok(MESSAGES, [text('Hello'), text('Hello')]),
    )
    fresh(
        'rfc7692-7.2.3.2-no-context-takeover',
        'RFC 7692 §7.1.1, §7.2.3.2',
        z(TEXT, HELLO_DEFLATED) + z(TEXT, HELLO_AGAIN),
        deferred(role, 1007, INVALID_DATA, [text('Hello')], flags=MESSAGES,
                 taken=True),
        after=pops([text('Hello')]),
    )  # fmt: skip
    fresh(
        'deflate-no-context-takeover-independent-messages',
        'RFC 7692 §7.1.1',
        z(TEXT, HELLO_DEFLATED) + z(TEXT, HELLO_DEFLATED),
        ok(MESSAGES, [text('Hello'), text('Hello')]),
    )
    add(
        'rfc7692-7.2.3.3-stored-block',
        'RFC 7692 §7.2.3.3',
        z(TEXT, HELLO_STORED),
        ok(MESSAGES, [text('Hello')]),
    )
    # RFC 7692 §7.2.3.4 verbatim: "Hello" in a final block, then the 0x00
    # octet that starts an empty stored block. Bytes after a final block
    # are discarded unread, wherever they arrive; the next message starts a
    # fresh stream.
    add(
        'rfc7692-7.2.3.4-final-block-then-octet',
        'RFC 7692 §7.2.3.4',
        z(TEXT, HELLO_FINAL + b'\x00'),
        ok(MESSAGES, [text('Hello')]),
    )
    add(
        'rfc7692-7.2.3.4-octet-in-continuation',
        'RFC 7692 §7.2.3.4; engine contract, after a final block',
        z(TEXT, HELLO_FINAL, fin=False) + z(CONT, b'\x00', rsv=0),
        ok(MESSAGES, [text('Hello')]),
    )
    add(
        'rfc7692-7.2.3.4-then-message',
        'RFC 7692 §7.2.3.4; engine contract, after a final block',
        z(TEXT, HELLO_FINAL + b'\x00') + z(TEXT, HELLO_DEFLATED),
        ok(MESSAGES, [text('Hello'), text('Hello')]),
    )
    add(
        'deflate-final-block',
        'RFC 7692 §7.2.3.4',
        z(TEXT, HELLO_FINAL),
        ok(MESSAGES, [text('Hello')]),
    )
    add(
        'deflate-final-block-then-message',
        'engine contract, after a final block',
        z(TEXT, HELLO_FINAL) + z(BINARY, HELLO_DEFLATED),
        ok(MESSAGES, [text('Hello'), binary(b'Hello')]),
    )
    add(
        'deflate-final-block-starts-fresh-stream',
        'engine contract, after a final block',
        z(TEXT, HELLO_FINAL + b'\x00') + z(TEXT, HELLO_AGAIN),
        deferred(role, 1007, INVALID_DATA, [text('Hello')], flags=MESSAGES,
                 taken=True),
        after=pops([text('Hello')]),
    )  # fmt: skip
    add(
        'deflate-final-block-then-peer-tail',
        'engine contract, after a final block',
        z(TEXT, HELLO_FINAL + TAIL),
        ok(MESSAGES, [text('Hello')]),
    )
    # Discarded unread: bytes zlib would reject, invalid UTF-8, and bytes
    # past max_size are not looked at.
    add(
        'deflate-final-block-then-junk-in-continuation',
        'engine contract, after a final block',
        z(TEXT, HELLO_FINAL, fin=False)
        + z(CONT, b'\x06\xff', fin=False, rsv=0)
        + z(CONT, bytes(40), rsv=0),
        ok(MESSAGES, [text('Hello')]),
        options={'max_size': 5},
    )
    add(
        'deflate-final-block-then-empty-continuation',
        'engine contract, after a final block',
        z(TEXT, HELLO_FINAL, fin=False) + z(CONT, b'', rsv=0),
        ok(MESSAGES, [text('Hello')]),
    )
    add(
        'deflate-final-block-trailing-bytes-and-max-fragments',
        'engine contract, after a final block',
        z(TEXT, HELLO_FINAL, fin=False) + z(CONT, b'\x00', rsv=0),
        failed(1009, 'message exceeds 1 fragments'),
        options={'max_fragments': 1},
    )
    if role == 'server':
        first, second = nine_bit_messages()
        opened_with(role, 'permessage-deflate; client_max_window_bits=8')(
            'deflate-client-window-8-inflates-9-bit-stream',
            'RFC 7692 §7.1.2.2; engine contract, decompressor window',
            z(BINARY, first) + z(BINARY, second),
            ok(
                MESSAGES,
                [binary(NINE_BIT_FIRST), binary(NINE_BIT_SECOND)],
                deflate=params(server_bits=12, client_bits=8),
            ),
        )
    add(
        'deflate-final-empty-stored-block-completed-by-tail',
        'RFC 7692 §7.2.1, §7.2.2',
        z(TEXT, b'\x01') + z(TEXT, HELLO_DEFLATED),
        ok(MESSAGES, [text(''), text('Hello')]),
    )
    # A sender that keeps the tail breaks RFC 7692 §7.2.1; the added tail
    # then starts a stored block that only a fresh stream forgets.
    add(
        'deflate-tail-kept-by-sender',
        'RFC 7692 §7.2.2',
        z(TEXT, HELLO_DEFLATED + TAIL),
        ok(MESSAGES, [text('Hello')]),
    )
    fresh(
        'deflate-tail-kept-by-sender-no-context-takeover',
        'RFC 7692 §7.2.2',
        z(TEXT, HELLO_DEFLATED + TAIL) + z(TEXT, HELLO_DEFLATED + TAIL),
        ok(MESSAGES, [text('Hello'), text('Hello')]),
    )
    add(
        'deflate-empty-message',
        'RFC 7692 §7.2.2',
        z(TEXT, b'\x00') + z(BINARY, HELLO_DEFLATED),
        ok(MESSAGES, [text(''), binary(b'Hello')]),
    )
    add(
        'deflate-empty-frame-payload',
        'RFC 7692 §7.2.2',
        z(BINARY, b''),
        ok(MESSAGES, [binary(b'')]),
    )
    data = bytes(range(256)) * 2
    add(
        'deflate-binary',
        'RFC 7692 §7.2.2',
        z(BINARY, deflated(data)),
        ok(MESSAGES, [binary(data)]),
    )
    add(
        'deflate-uncompressed-message',
        'RFC 7692 §6',
        in_frame(role, TEXT, b'Hello') + z(TEXT, HELLO_DEFLATED),
        ok(MESSAGES, [text('Hello'), text('Hello')]),
    )
    stream = compressor()
    first = deflated(b'{"price": 101.25, "symbol": "GYR"}', stream)
    third = deflated(b'{"price": 101.5, "symbol": "GYR"}', stream)
    add(
        'deflate-context-across-uncompressed-message',
        'RFC 7692 §7.2.3.2',
        z(TEXT, first) + in_frame(role, TEXT, b'plain') + z(TEXT, third),
        ok(
            MESSAGES,
            [
                text('{"price": 101.25, "symbol": "GYR"}'),
                text('plain'),
                text('{"price": 101.5, "symbol": "GYR"}'),
            ],
        ),
    )
    stream = compressor(12)
    words = [f'update {i}: the quick brown fox jumps'.encode() for i in range(4)]
    add(
        'deflate-context-takeover-messages',
        'RFC 7692 §7.2.3.2',
        b''.join(z(TEXT, deflated(word, stream)) for word in words),
        ok(MESSAGES, [text(word.decode()) for word in words]),
    )
    add(
        'deflate-ping-between-fragments',
        'RFC 6455 §5.4, RFC 7692 §6.1',
        z(TEXT, HELLO_DEFLATED[:3], fin=False)
        + in_frame(role, PING, b'p')
        + z(CONT, HELLO_DEFLATED[3:], rsv=0),
        ok(MESSAGES | OUTPUT, [text('Hello')], out_frame(role, PONG_OP, b'p')),
    )
    add(
        'deflate-one-byte-fragments',
        'RFC 7692 §6.1',
        z(TEXT, HELLO_DEFLATED[:1], fin=False)
        + b''.join(
            z(CONT, HELLO_DEFLATED[i : i + 1], fin=i == 6, rsv=0) for i in range(1, 7)
        ),
        ok(MESSAGES, [text('Hello')]),
    )
    # max_size applies to the inflated size (RFC 7692 §8.1, CVE-2018-1000518).
    add(
        'deflate-max-size-exact',
        'engine contract, max_size',
        z(TEXT, HELLO_DEFLATED),
        ok(MESSAGES, [text('Hello')]),
        options={'max_size': 5},
    )
    add(
        'deflate-max-size-exceeded',
        'engine contract, max_size',
        z(TEXT, HELLO_DEFLATED),
        failed(1009, 'message exceeds 4 bytes'),
        options={'max_size': 4},
    )
    add(
        'deflate-max-size-wire-longer',
        'engine contract, max_size',
        z(TEXT, HELLO_STORED),
        ok(MESSAGES, [text('Hello')]),
        options={'max_size': 5},
    )
    stream = compressor()
    # A fragment boundary is anywhere in the compressed data; only the
    # message's end loses the tail (RFC 7692 §7.2.1).
    part1 = deflated(b'a' * 600, stream, strip=False)
    part2 = deflated(b'a' * 600, stream)
    two_parts = z(BINARY, part1, fin=False) + z(CONT, part2, rsv=0)
    add(
        'deflate-max-size-fragments-fit',
        'engine contract, max_size',
        two_parts,
        ok(MESSAGES, [binary(b'a' * 1200)]),
        options={'max_size': 1200},
    )
    add(
        'deflate-max-size-fragments-exceed',
        'engine contract, max_size',
        two_parts,
        failed(1009, 'message exceeds 1199 bytes'),
        options={'max_size': 1199},
    )
    add(
        'deflate-bomb',
        'RFC 7692 §8.1, CVE-2016-10544',
        z(BINARY, deflated(bytes(100000))),
        failed(1009, 'message exceeds 1000 bytes'),
        options={'max_size': 1000},
    )
    add(
        'deflate-max-size-utf8-valid-within-limit',
        'engine contract, max_size and UTF-8',
        z(TEXT, deflated(b'ab\xff')),
        failed(1009, 'message exceeds 2 bytes'),
        options={'max_size': 2},
    )
    add(
        'deflate-max-size-utf8-invalid-within-limit',
        'engine contract, max_size and UTF-8',
        z(TEXT, deflated(b'a\xffb')),
        failed(1007, 'invalid UTF-8 in text message'),
        options={'max_size': 2},
    )
    add(
        'deflate-max-frame-size-wire',
        'engine contract, max_frame_size',
        z(TEXT, HELLO_DEFLATED),
        failed(1009, 'frame exceeds 6 bytes'),
        options={'max_frame_size': 6},
    )
    add(
        'deflate-max-frame-size-fits',
        'engine contract, max_frame_size',
        z(TEXT, HELLO_DEFLATED),
        ok(MESSAGES, [text('Hello')]),
        options={'max_frame_size': 7},
    )
    add(
        'deflate-max-fragments',
        'engine contract, max_fragments',
        z(TEXT, HELLO_DEFLATED[:3], fin=False) + z(CONT, HELLO_DEFLATED[3:], rsv=0),
        failed(1009, 'message exceeds 1 fragments'),
        options={'max_fragments': 1},
    )
    # UTF-8 is checked on the inflated text (RFC 6455 §8.1).
    add(
        'deflate-invalid-utf8',
        'RFC 6455 §8.1',
        z(TEXT, deflated(b'ok \xff')),
        failed(1007, 'invalid UTF-8 in text message'),
    )
    add(
        'deflate-utf8-ends-inside-sequence',
        'RFC 6455 §8.1',
        z(TEXT, deflated(b'ok \xc3')),
        failed(1007, 'invalid UTF-8 in text message'),
    )
    stream = compressor()
    add(
        'deflate-utf8-sequence-across-fragments',
        'RFC 6455 §8.1',
        z(TEXT, deflated(b'\xc3', stream, strip=False), fin=False)
        + z(CONT, deflated(b'\xa9', stream), rsv=0),
        ok(MESSAGES, [text('é')]),
    )
    add(
        'deflate-utf8-fail-fast',
        'RFC 6455 §8.1, Autobahn 6.4',
        z(TEXT, deflated(b'\xc3\x28'), fin=False),
        failed(1007, 'invalid UTF-8 in text message'),
    )
    # RSV1 (RFC 7692 §6.1), and RSV2/RSV3 (RFC 6455 §5.2).
    add(
        'deflate-rsv1-on-continuation',
        'RFC 7692 §6.1',
        z(TEXT, HELLO_DEFLATED[:3], fin=False) + z(CONT, HELLO_DEFLATED[3:]),
        failed(1002, RESERVED),
    )
    add(
        'deflate-rsv1-on-uncompressed-continuation',
        'RFC 7692 §6.1',
        in_frame(role, TEXT, b'Hel', fin=False) + z(CONT, b'lo'),
        failed(1002, RESERVED),
    )
    for name, opcode, payload in [
        ('ping', PING, b'p'),
        ('pong', PONG_OP, b'p'),
        ('close', CLOSE, close_payload(1000)),
    ]:
        add(
            f'deflate-rsv1-on-{name}',
            'RFC 7692 §6.1',
            z(opcode, payload),
            failed(1002, RESERVED),
        )
    for rsv in (2, 1, 6, 7):
        add(
            f'deflate-rsv-bits-{rsv:03b}',
            'RFC 6455 §5.2',
            z(TEXT, HELLO_DEFLATED, rsv=rsv),
            failed(1002, RESERVED),
        )
    add(
        'deflate-rsv1-new-message-during-fragmented',
        'RFC 6455 §5.4',
        in_frame(role, TEXT, b'Hel', fin=False) + z(TEXT, HELLO_DEFLATED),
        failed(1002, 'received new data frame before the previous message finished'),
    )
    opened_with(role, None)(
        'deflate-rsv1-not-negotiated',
        'RFC 7692 §6; aiohttp CVE-2026-59881',
        z(TEXT, HELLO_DEFLATED),
        failed(1002, RESERVED),
    )
    if role == 'server':
        opened_with(role, 'permessage-deflate; x')(
            'deflate-rsv1-offer-declined',
            'RFC 7692 §6',
            z(TEXT, HELLO_DEFLATED),
            failed(1002, RESERVED),
        )
    # Data that zlib rejects (RFC 1951 §3.2.3, §3.2.4).
    add(
        'deflate-invalid-block-type',
        'RFC 1951 §3.2.3',
        z(TEXT, b'\x06'),
        failed(1007, INVALID_DATA),
    )
    add(
        'deflate-invalid-stored-length',
        'RFC 1951 §3.2.4',
        z(BINARY, bytes.fromhex('00 05 00 00 00 48 65 6c 6c 6f')),
        failed(1007, INVALID_DATA),
    )
    add(
        'deflate-invalid-after-valid-block',
        'RFC 1951 §3.2.3',
        z(BINARY, HELLO_DEFLATED + TAIL + b'\x06'),
        failed(1007, INVALID_DATA),
    )
    add(
        'deflate-invalid-in-continuation',
        'RFC 1951 §3.2.3',
        z(TEXT, HELLO_DEFLATED + TAIL, fin=False) + z(CONT, b'\x06', rsv=0),
        failed(1007, INVALID_DATA),
    )
    us = [{'call': 'send_close', 'args': [1000, 'bye']}]
    add(
        'deflate-closing-discards-compressed',
        'RFC 6455 §7.1.2',
        z(TEXT, b'\x06') + in_frame(role, CLOSE, close_payload(1000)),
        {
            'flags': CLOSE_RECEIVED | CLOSED,
            'messages': [],
            'output': '',
            'state': 'CLOSED',
            'error': None,
            'close_received': [1000, ''],
            'close_sent': [1000, 'bye'],
        },
        actions=us,
    )
    add(
        'deflate-closing-drops-message-in-progress',
        'RFC 6455 §7.1.2',
        z(CONT, b'\x06', rsv=0) + in_frame(role, CLOSE, close_payload(1000)),
        {
            'flags': CLOSE_RECEIVED | CLOSED,
            'messages': [],
            'state': 'CLOSED',
            'error': None,
        },
        actions=[
            {
                'call': 'receive_data',
                'args': [z(TEXT, HELLO_DEFLATED[:3], fin=False).hex()],
            },
            *us,
        ],
    )


def _element(value: str) -> list[Any]:
    """One extension element as ``response.extensions`` holds it."""
    name, *rest = [part.strip() for part in value.split(';')]
    found = []
    for param in rest:
        key, _, raw = param.partition('=')
        found.append([key, raw.strip('"') if raw else None])
    return [name, found]


def main() -> None:
    files = {
        'frames.json': frames() + deferred_faults(),
        'close.json': closing(),
        'utf8.json': utf8(),
        'limits.json': limits(),
        'lengths.json': lengths(),
        'handshake.json': handshake(),
        'client.json': client(),
        'deflate.json': deflate(),
    }
    seen: set[str] = set()
    for name, cases in files.items():
        for item in cases:
            if item['id'] in seen:
                raise SystemExit(f'duplicate vector id {item["id"]}')
            seen.add(item['id'])
        text_out = json.dumps(cases, indent=1, ensure_ascii=False) + '\n'
        (VECTORS / name).write_text(text_out, encoding='utf-8')
        print(f'{name}: {len(cases)} vectors')


if __name__ == '__main__':
    main()
