"""The witness client the registry node uses: submit a checkpoint, get cosignature lines.

The C2SP ``tlog-witness`` ``add-checkpoint`` call, sent through :mod:`ssiwallet.infra.http`
(bounded, no redirects). The server side is :mod:`registry.witness.http`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from registry.tlog.checkpoint import Checkpoint, CosignatureVerifier
from registry.tlog.note import parse_note
from registry.witness.decide import WitnessConflict, WitnessUnavailable, format_add_checkpoint
from ssiwallet.errors import SsiError
from ssiwallet.infra.http import Client, HttpError, TooLargeError, as_http

__all__ = ["MAX_RESPONSE", "TLOG_SIZE_TYPE", "submit_checkpoint"]

TLOG_SIZE_TYPE = "text/x.tlog.size"
MAX_RESPONSE = 64 * 1024
"""Largest witness answer the client reads: a few signature lines, never more."""

_SIZE_BODY = re.compile(rb"(0|[1-9][0-9]{0,19})\n")


async def submit_checkpoint(
    http: Client,
    witness_url: str,
    old_size: int,
    proof: Sequence[bytes],
    checkpoint_note: str,
    *,
    verifier: CosignatureVerifier | None = None,
    timeout: float = 10.0,
) -> str:
    """Ask a witness to cosign ``checkpoint_note``; return its cosignature line(s).

    Args:
        http: the caller's client, or an aiohttp session to send through (keep-alive across
            blocks, as the spec recommends).
        witness_url: the witness's submission prefix (``/add-checkpoint`` is appended).
        old_size: the size the caller believes the witness holds (0 the first time).
        proof: consistency proof from ``old_size`` to the checkpoint's size.
        checkpoint_note: the log-signed checkpoint note.
        verifier: the witness's key; when given, only its lines are returned and each must
            verify (a client must ignore unknown cosigners, and refuse a bad known one).
        timeout: seconds for the whole exchange.

    Raises:
        WitnessConflict: the witness holds another size (``.size``): fetch a proof from it
            and retry.
        WitnessUnavailable: timeout, connection failure, another error status (in
            ``.http_status``), an oversized or malformed answer, or a bad cosignature.
    """
    client = as_http(http)
    body = format_add_checkpoint(old_size, proof, checkpoint_note)
    url = witness_url.rstrip("/") + "/add-checkpoint"
    try:
        resp = await client.post(url, body, content_type="text/plain; charset=utf-8",
                                 max_bytes=MAX_RESPONSE, timeout=timeout)
    except TooLargeError:
        raise WitnessUnavailable(f"witness {url}: answer too large (over {MAX_RESPONSE} bytes)"
                                 ) from None
    except HttpError as exc:
        raise WitnessUnavailable(f"witness {exc.detail}") from None
    answer = resp.body
    if resp.status == 409:
        match = _SIZE_BODY.fullmatch(answer)
        if resp.content_type != TLOG_SIZE_TYPE or match is None:
            raise WitnessUnavailable(f"witness {url}: 409 without a tree size", http_status=409)
        raise WitnessConflict(int(match.group(1)))
    if resp.status != 200:
        reason = answer[:200].decode("utf-8", "replace")
        raise WitnessUnavailable(f"witness {url}: HTTP {resp.status}: {reason}",
                                 http_status=resp.status)
    return _cosignature_lines(url, answer, checkpoint_note, verifier)


def _cosignature_lines(
    url: str, answer: bytes, checkpoint_note: str, verifier: CosignatureVerifier | None
) -> str:
    """Check a 200 answer is signature lines (and, given the key, a valid cosignature)."""
    try:
        text = answer.decode("utf-8")
        body, _ = parse_note(checkpoint_note)
        _, signatures = parse_note(body + "\n" + text)
        checkpoint = Checkpoint.parse(body)
        if verifier is None:
            return text
        lines = [s.line() for s in signatures if (s.name, s.key_id) == (
            verifier.name, verifier.key_id)]
        for line in lines:
            verifier.verify_line(checkpoint, line)
    except (UnicodeDecodeError, SsiError) as exc:
        raise WitnessUnavailable(f"witness {url}: unusable cosignature: {exc}") from None
    if not lines:
        raise WitnessUnavailable(f"witness {url}: no cosignature by {verifier.name!r}")
    return "".join(lines)
