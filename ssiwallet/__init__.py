"""Keten ssiwallet: the core credential library, the holder wallet, its TUI and CLI."""
