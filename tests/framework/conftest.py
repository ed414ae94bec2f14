"""Shared configuration of the framework test suites.

Each suite keeps its own fixtures in its subdirectory's ``conftest.py``:
``http/`` (requests, responses, media), ``app/`` (the App, routing,
middleware), ``testing/`` (the testing package), ``ws/`` (the WebSocket
facade, driven through the testing package) and ``parity/`` (the same
scenarios on Falcon and on Gyrfalcon).
"""
