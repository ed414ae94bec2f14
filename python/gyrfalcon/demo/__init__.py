"""A live demo of Gyrfalcon: a chat room and an event feed in the browser.

Run it with ``gyrfalcon demo`` (or any ASGI server:
``uvicorn gyrfalcon.demo:app --ws gyrfalcon.server.uvicorn:WebSocketProtocol``)
and open http://127.0.0.1:8000/ in two browser windows.

The code is meant to be read; each module shows one part of the public API:

* ``app``: routes, middleware and error handling (``create_app()``), and the
  page itself, served by an ``on_get`` responder.
* ``handshake``: who may connect. Signed tokens from ``GET /token``, a
  middleware that checks them in ``process_request_ws()``, the subprotocol
  check, and ``ws.deny()`` answering refused handshakes with 401 or 400.
* ``chat``: a room where every message goes to everyone;
  ``receive_media()``, ``send_media()`` and a clean close.
* ``feed``: events pushed at a steady rate to every listener.

Both deliver through the app's hub (``app.hub``, ``docs/guide/hub.md``).

``docs/demo.md`` walks through it.
"""

from __future__ import annotations

from gyrfalcon.demo.app import create_app

__all__ = ['app', 'create_app']

app = create_app()
"""The demo app with its defaults, as ``gyrfalcon demo`` serves it."""
