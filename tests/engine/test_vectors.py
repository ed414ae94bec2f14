"""The conformance vectors, on both engines, fed in every way.

Each vector of ``tests/vectors/*.json`` is fed whole, one byte at a time and
(for inputs under 64 bytes) split in two at every point, as ``bytes``,
``bytearray``, a ``memoryview`` and a non-contiguous ``memoryview``. Every
way must give the vector's expected flags (their union), messages, output,
state and results.
"""

from __future__ import annotations

from types import ModuleType

import pytest

from ._vectors import feeding_modes, load_vectors, normalise, observe, run_vector

VECTORS = load_vectors()
BUFFER_KINDS = ('bytes', 'bytearray', 'memoryview', 'strided')


def test_vector_ids_are_unique() -> None:
    ids = [vector['id'] for vector in VECTORS]
    assert len(ids) == len(set(ids))
    assert len(ids) > 400


@pytest.mark.parametrize('kind', BUFFER_KINDS)
@pytest.mark.parametrize('vector', VECTORS, ids=[v['id'] for v in VECTORS])
def test_vector(engine: ModuleType, vector: dict, kind: str) -> None:
    data = bytes.fromhex(vector['input'])
    expected = normalise(vector['expect'])
    for mode, pieces in feeding_modes(data, kind):
        seen = observe(run_vector(engine, vector, pieces), expected)
        assert seen == expected, f'{vector["id"]} fed {mode} as {kind}'
