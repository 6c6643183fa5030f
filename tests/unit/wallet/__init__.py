"""Unit tests of the holder wallet's sealed store (ssiwallet/wallet)."""
