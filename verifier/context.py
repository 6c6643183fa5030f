"""The application key under which a served verifier keeps its :class:`VerifierContext`."""

from __future__ import annotations

from aiohttp import web

from verifier.service import VerifierContext

__all__ = ["VERIFIER"]

VERIFIER = web.AppKey("verifier", VerifierContext)
