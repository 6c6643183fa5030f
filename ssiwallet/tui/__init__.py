"""Keten's terminal interface (Textual): unlock, cards, receive, present, history, backup.

``ssiwallet`` without arguments runs :func:`create_app`; the tests drive the same app.
"""

from ssiwallet.tui.app import KetenApp, create_app

__all__ = ["KetenApp", "create_app"]
