"""Fixtures shared by the engine tests: both engines, Hypothesis profiles.

Every engine test takes the ``engine`` fixture, so it runs once on the Rust
engine (``[native]``) and once on the pure-Python twin (``[python]``). When
the extension is not built, the native runs are skipped, unless
``GYRFALCON_REQUIRE_NATIVE=1`` (CI) turns the missing extension into a
failure. Framework tests keep their own fixtures in ``tests/framework/``.

Hypothesis runs the deterministic ``ci`` profile (derandomized, 150 examples
per test) unless ``HYPOTHESIS_PROFILE=dev`` asks for 1000 random examples.
"""

from __future__ import annotations

import os
import warnings
from types import ModuleType

import pytest
from hypothesis import HealthCheck, settings

with warnings.catch_warnings():
    # NOTE(gyrfalcon): without the extension, importing gyrfalcon.protocol
    #   falls back to the twin with a RuntimeWarning; the fixture below
    #   reports the missing extension per test instead.
    warnings.simplefilter('ignore', RuntimeWarning)
    from gyrfalcon.protocol import load_engine

ENGINES = ('native', 'python')

# The engine fixtures return modules, which hold no state between examples.
SUPPRESSED = [
    HealthCheck.function_scoped_fixture,
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
]

settings.register_profile(
    'ci',
    derandomize=True,
    max_examples=150,
    deadline=None,
    print_blob=True,
    suppress_health_check=SUPPRESSED,
)
settings.register_profile(
    'dev',
    max_examples=1000,
    deadline=None,
    print_blob=True,
    suppress_health_check=SUPPRESSED,
)
settings.load_profile(os.environ.get('HYPOTHESIS_PROFILE', 'ci'))


def pytest_configure(config: pytest.Config) -> None:
    # NOTE(gyrfalcon): on a failure Hypothesis imports libcst to print a
    #   patch, and libcst touches mypy_extensions.TypedDict, whose
    #   DeprecationWarning would turn the report into an INTERNALERROR.
    config.addinivalue_line(
        'filterwarnings',
        'ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning',
    )


def native_required() -> bool:
    """Tell whether ``GYRFALCON_REQUIRE_NATIVE`` asks for the Rust engine."""
    value = os.environ.get('GYRFALCON_REQUIRE_NATIVE', '').strip().lower()
    return value not in ('', '0', 'false', 'no')


def get_engine(name: str) -> ModuleType:
    """Load an engine module for a test, or skip or fail the test.

    Args:
        name: ``'native'`` or ``'python'``.

    Returns:
        The engine module.
    """
    try:
        return load_engine(name)  # type: ignore[arg-type]
    except ImportError as ex:
        if name != 'native':
            raise
        reason = f'the Rust extension gyrfalcon._native is not built ({ex})'
        if native_required():
            pytest.fail(f'GYRFALCON_REQUIRE_NATIVE is set but {reason}')
        pytest.skip(reason)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> ModuleType:
    """The engine module under test: ``gyrfalcon._native`` or the twin."""
    return get_engine(request.param)


@pytest.fixture(params=['native-vs-python'])
def engines(request: pytest.FixtureRequest) -> tuple[ModuleType, ModuleType]:
    """Both engine modules, ``(native, python)``, for differential tests."""
    return get_engine('native'), get_engine('python')
