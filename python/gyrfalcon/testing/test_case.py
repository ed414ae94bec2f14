"""``TestCase``: ``unittest`` test cases that simulate requests to an app."""

from __future__ import annotations

import unittest
from typing import Any

from .client import Result, TestClient

__all__ = ['Result', 'TestCase']


class TestCase(unittest.TestCase, TestClient):
    """A ``unittest.TestCase`` with the ``simulate_*()`` methods of ``TestClient``.

    ``setUp()`` sets ``self.app`` to a new ``gyrfalcon.App()``; replace it
    with the app under test::

        class TestMyApp(testing.TestCase):
            def setUp(self):
                super().setUp()
                self.app = myapp.create()

            def test_get_message(self):
                result = self.simulate_get('/messages/42')
                self.assertEqual(result.json, {'message': 'Hello world!'})
    """

    # NOTE(gyrfalcon): TestClient opts out of test collection; opt back in.
    __test__ = True

    app: Any

    def setUp(self) -> None:
        """Create a new app for the test."""
        super().setUp()
        from gyrfalcon.asgi import App

        # NOTE(gyrfalcon): TestClient.__init__ directly, so that
        #   unittest.TestCase.__init__ does not run again.
        TestClient.__init__(self, App())
