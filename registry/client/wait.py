"""Waiting, bounded, for the registry's witnesses to cosign its newest checkpoint.

After every block the sequencer serves a new checkpoint that only it has signed; the
witnesses' cosignatures follow a moment later (``registry.node.sync.cosign_loop``: one
round trip to each witness). A client that asks in between is told
``registry.witness_quorum``, correctly: a checkpoint without the quorum proves nothing.
Whoever has just written (a steward, an issuer, the demo) or starts a flow right after
someone else wrote (the wallet) should therefore wait a little rather than fail, and say
so. :func:`cosigned_checkpoint` is that wait, in one place: it retries only the quorum
error, for at most ``timeout`` seconds, then raises that error unchanged. A bad signature,
a fork, a rollback or an unreachable node is never waited out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from registry.client.trust import TrustedTransport
from registry.client.types import UntrustedResponseError
from registry.tlog.checkpoint import Checkpoint, WitnessQuorumError

__all__ = ["COSIGN_WAIT", "Notice", "cosigned_checkpoint", "waiting_words"]

COSIGN_WAIT = 20.0
"""Seconds a client waits for the witness quorum before it gives up (the default)."""
POLL = 0.2
"""Seconds between two looks at the node's checkpoint while waiting."""
REMIND = 5.0
"""Seconds between two "still waiting" notices."""

Notice = Callable[[str], None]
"""Where a waiting client says, in words, what it is waiting for."""


def waiting_words(need: int, named: int, waited: float = 0.0) -> str:
    """The sentence a client shows while it waits for ``need`` of ``named`` witnesses."""
    still = f"still waiting ({waited:.0f} s)" if waited >= 1 else "waiting"
    return (f"{still} for the registry's witnesses to cosign its newest checkpoint "
            f"({need} of {named} needed)…")


async def cosigned_checkpoint(client: TrustedTransport, *, timeout: float = COSIGN_WAIT,
                              notice: Notice | None = None, poll: float = POLL
                              ) -> Checkpoint:
    """The node's checkpoint, verified like :meth:`TrustedTransport.checkpoint`, waiting up to
    ``timeout`` seconds while it does not yet carry the witness quorum.

    ``notice`` is told once when the wait begins and every few seconds after (see
    :func:`waiting_words`); a checkpoint that is already cosigned costs one request and no
    notice.

    Raises:
        UntrustedResponseError: ``registry.witness_quorum`` when the quorum did not come in
            time; any other refusal (bad signature, fork, rollback, stale) at once.
        RegistryUnavailableError: the node did not answer.
    """
    deadline = time.monotonic() + timeout
    started, told = time.monotonic(), -REMIND
    while True:
        try:
            return await client.checkpoint()
        except UntrustedResponseError as exc:
            now = time.monotonic()
            if exc.code != WitnessQuorumError.code or now >= deadline:
                raise
            if notice is not None and now - told >= REMIND:
                g = await client.genesis()
                named = len({w.name for w in g.witnesses})
                notice(waiting_words(g.quorum, named, now - started))
                told = now
            await asyncio.sleep(min(poll, max(0.0, deadline - now)))
