"""Holder side (RFC 9901 §7.2): choose disclosures by claim path, add key binding.

Paths are tuples of object names and array indices into the *fully disclosed* payload;
``None`` stands for every element of an array (as in DCQL claims path pointers).
Disclosing a path releases the disclosures of every enclosing selectively disclosable
container (without them the digest could not be placed) and everything inside the value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from ssiwallet.core.claimpath import ROOT, ClaimPath, Element
from ssiwallet.core.jws import sign_compact
from ssiwallet.core.keys import PrivateKey
from ssiwallet.core.sdjwt.disclosure import DEFAULT_SD_ALG, digest, parse_disclosure
from ssiwallet.core.sdjwt.process import Processed, process
from ssiwallet.core.sdjwt.serialize import SdJwt
from ssiwallet.core.sdjwt.verify import decode_unverified_payload
from ssiwallet.errors import SdJwtError


def holder_view(sd_jwt: SdJwt) -> Processed:
    """Process the SD-JWT with all its disclosures (the holder's complete view)."""
    payload = decode_unverified_payload(sd_jwt)
    sd_alg = payload.get("_sd_alg", DEFAULT_SD_ALG)
    return process(payload, [parse_disclosure(d) for d in sd_jwt.disclosures], sd_alg)


def _concrete(claims: Any, pattern: Sequence[Element]) -> list[ClaimPath]:
    """Every concrete path in ``claims`` that ``pattern`` selects (``None``: all elements)."""
    level: list[tuple[ClaimPath, Any]] = [(ROOT, claims)]
    for step in pattern:
        nxt: list[tuple[ClaimPath, Any]] = []
        for path, node in level:
            if step is None and isinstance(node, list):
                nxt.extend((path.child(i), v) for i, v in enumerate(node))
            elif isinstance(step, str) and isinstance(node, dict) and step in node:
                nxt.append((path.child(step), node[step]))
            elif (isinstance(step, int) and not isinstance(step, bool)
                  and isinstance(node, list) and 0 <= step < len(node)):
                nxt.append((path.child(step), node[step]))
        level = nxt
    return [path for path, _ in level]


def select_disclosures(view: Processed, paths: Iterable[Sequence[Element]], *,
                       strict: bool = True) -> list[str]:
    """The encoded disclosures needed to reveal ``paths``, in issuance order.

    For each claim a pattern selects, that means the disclosures of its enclosing
    containers, its own, and those of everything below it, and nothing else: an array
    element that a wildcard passes over without a match stays hidden.

    Raises:
        SdJwtError: ``sdjwt.unknown_path`` when ``strict`` and a path names no claim.
    """
    wanted: set[str] = set()
    for pattern in paths:
        targets = _concrete(view.claims, tuple(pattern))
        if strict and not targets:
            raise SdJwtError(f"no claim at path {list(pattern)}", code="sdjwt.unknown_path")
        for target in targets:
            for path, disclosure in view.provenance.items():
                if path[: len(target)] == target or target[: len(path)] == path:
                    wanted.add(disclosure.encoded)
    return [d.encoded for d in view.provenance.values() if d.encoded in wanted]


def present(sd_jwt: SdJwt, paths: Iterable[Sequence[Element]], *, holder_key: PrivateKey | None,
            nonce: str | None = None, aud: str | None = None, iat: int | None = None,
            strict: bool = True) -> SdJwt:
    """Build an SD-JWT (+KB when ``holder_key`` is given) disclosing only ``paths``."""
    view = holder_view(sd_jwt)
    order = {d: i for i, d in enumerate(sd_jwt.disclosures)}
    chosen = sorted(select_disclosures(view, paths, strict=strict), key=order.__getitem__)
    presentation = replace(sd_jwt, disclosures=tuple(chosen), kb_jwt=None)
    if holder_key is None:
        return presentation
    if nonce is None or aud is None or iat is None:
        raise SdJwtError("key binding needs nonce, aud and iat", code="sdjwt.kb_invalid")
    return replace(presentation, kb_jwt=make_kb_jwt(presentation, holder_key,
                                                    nonce=nonce, aud=aud, iat=iat))


def make_kb_jwt(presentation: SdJwt, holder_key: PrivateKey, *, nonce: str, aud: str,
                iat: int, extra: Mapping[str, Any] | None = None) -> str:
    """Sign a KB-JWT over ``presentation`` (§4.3)."""
    sd_alg = decode_unverified_payload(presentation).get("_sd_alg", DEFAULT_SD_ALG)
    payload = {"nonce": nonce, "aud": aud, "iat": iat,
               "sd_hash": digest(presentation.sd_part(), sd_alg), **(extra or {})}
    return sign_compact({"typ": "kb+jwt"}, payload, holder_key)


def paths_from_selection(selection: Any, prefix: ClaimPath = ROOT) -> list[ClaimPath]:
    """Turn a nested selection (``{"address": {"street": True}}``, ``[False, True]``) into
    paths: ``True`` selects, ``False``/``None`` skip, containers recurse."""
    out: list[ClaimPath] = []
    if selection is True:
        return [prefix]
    if isinstance(selection, Mapping):
        for name, sub in selection.items():
            out.extend(paths_from_selection(sub, prefix.child(str(name))))
    elif isinstance(selection, list):
        for index, sub in enumerate(selection):
            out.extend(paths_from_selection(sub, prefix.child(index)))
    return out


__all__ = ["holder_view", "select_disclosures", "present", "make_kb_jwt",
           "paths_from_selection"]
