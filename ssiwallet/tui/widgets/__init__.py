"""Widgets of the wallet's TUI that more than one screen uses."""
