"""Testing helpers for Gyrfalcon apps and for the WebSocket engine."""
