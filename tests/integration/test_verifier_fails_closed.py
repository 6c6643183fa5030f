"""A verifier whose registry's checkpoint stops verifying fails closed (SECURITY-TESTS /
issue 16): no new session and no verdict until the checkpoint verifies again."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from registry.client import RegistryUnavailableError
from verifier.errors import VerifierError

pytestmark = pytest.mark.asyncio


async def test_a_broken_checkpoint_stops_the_desk_and_an_outage_does_not(
        registry_node: Any, verifier_service: Any) -> None:
    reg = await registry_node()
    desk = await verifier_service(reg, presets=["age18"])
    async with aiohttp.ClientSession() as http:
        async def start() -> tuple[int, dict[str, Any]]:
            async with http.post(f"{desk.url}/sessions", json={"preset": "age18"}) as resp:
                return resp.status, await resp.json()

        assert (await start())[0] == 201
        started = (await start())[1]

        # what follow_checkpoint records when the registry forks or rolls back
        desk.ctx.checkpoint_error = "registry.fork_detected: two checkpoints of size 7"
        desk.ctx.registry_untrusted = True
        status, body = await start()
        assert (status, body["error"]) == (503, "verifier.registry_untrusted")
        assert "does not verify" in body["detail"]
        session = desk.ctx.session(started["id"])
        form = {"vp_token": '{"x": ["eyJhbGciOiJFZERTQSJ9.e30.c2ln~"]}', "state": session.state}
        async with http.post(f"{desk.url}/response", data=form) as resp:
            answer = await resp.json()
        assert resp.status == 503 and answer["code"] == "verifier.registry_untrusted"

        # the checkpoint verifies again (the follow loop clears the mark)
        await desk.ctx.follow_checkpoint()
        assert desk.ctx.registry_untrusted is False
        assert (await start())[0] == 201


async def test_an_unreachable_registry_is_reported_but_not_marked_untrusted(
        registry_node: Any, verifier_service: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    reg = await registry_node()
    desk = await verifier_service(reg, presets=["age18"])

    async def down() -> None:
        raise RegistryUnavailableError("GET /checkpoint: cannot connect")

    monkeypatch.setattr(desk.ctx.client, "checkpoint", down)
    with pytest.raises(VerifierError):
        await desk.ctx.follow_checkpoint()
    assert desk.ctx.checkpoint_error is not None
    assert desk.ctx.checkpoint_error.startswith("registry.unavailable")
    assert desk.ctx.registry_untrusted is False  # presentations then fail on their own checks
