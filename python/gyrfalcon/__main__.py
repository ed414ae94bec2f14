"""``python -m gyrfalcon`` and the ``gyrfalcon`` console script."""

from __future__ import annotations

import sys

__all__ = ['main']


def main() -> None:
    """Run the ``gyrfalcon`` command line and exit with its status."""
    from .cli import main as run

    sys.exit(run())


if __name__ == '__main__':
    main()
