"""RFC 9901 §7.1 steps 3–5: replace embedded digests by the disclosed values.

Pure over (payload, disclosures). Besides the processed payload it returns, for each
place a disclosure filled, the *path* (in the fully processed document) it filled, so the
holder can later choose disclosures by claim path and the SD-JWT VC profile can tell a
plaintext claim from a disclosed one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ssiwallet.core.b64 import b64u_encode
from ssiwallet.core.claimpath import ROOT, ClaimPath
from ssiwallet.core.sdjwt.disclosure import FORBIDDEN_NAMES, Disclosure, hasher
from ssiwallet.errors import SdJwtError

MAX_DEPTH = 100


@dataclass(frozen=True)
class Processed:
    """The processed payload and which disclosure produced which path."""

    claims: dict[str, Any]
    provenance: dict[ClaimPath, Disclosure]


class _Processor:
    def __init__(self, disclosures: Iterable[Disclosure], sd_alg: str) -> None:
        self.by_digest: dict[str, Disclosure] = {}
        hash_fn = hasher(sd_alg)
        for disclosure in disclosures:
            key = b64u_encode(hash_fn(disclosure.encoded.encode("ascii")).digest())
            if key in self.by_digest:
                raise SdJwtError("the same disclosure is presented twice",
                                 code="sdjwt.duplicate_disclosure")
            self.by_digest[key] = disclosure
        self.seen: set[str] = set()
        self.used: set[str] = set()
        self.provenance: dict[ClaimPath, Disclosure] = {}

    def _claim_digest(self, value: object) -> str:
        if type(value) is not str:
            raise SdJwtError("embedded digest must be a string", code="sdjwt.malformed_sd")
        if value in self.seen:
            raise SdJwtError(f"digest {value} appears more than once",
                             code="sdjwt.duplicate_digest")
        self.seen.add(value)
        return value

    def walk(self, value: Any, path: ClaimPath, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise SdJwtError("SD-JWT nesting too deep", code="sdjwt.too_deep")
        kind = type(value)
        if kind is dict:
            return self._object(value, path, depth)
        if kind is list:
            return self._array(value, path, depth)
        return value  # parsed JSON: scalars are str, int, float, bool or None

    def _object(self, obj: dict[str, Any], path: ClaimPath, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, member in obj.items():
            if name == "_sd":
                continue
            out[name] = (self.walk(member, path.child(name), depth + 1)
                         if type(member) in _CONTAINERS else member)
        if "_sd" not in obj:
            return out
        digests = obj["_sd"]
        if type(digests) is not list:
            raise SdJwtError("_sd must be an array of digests", code="sdjwt.malformed_sd")
        by_digest = self.by_digest
        for item in digests:
            found = by_digest.get(self._claim_digest(item))
            if found is None:
                continue  # a decoy, or a claim the holder did not disclose
            claim = found.name
            if claim is None:
                raise SdJwtError("array-element disclosure referenced from an object _sd",
                                 code="sdjwt.disclosure_wrong_shape")
            if claim in FORBIDDEN_NAMES:
                raise SdJwtError(f"disclosure claims the reserved name {claim!r}",
                                 code="sdjwt.forbidden_claim_name")
            if claim in out:
                raise SdJwtError(f"disclosed claim {claim!r} already exists",
                                 code="sdjwt.claim_exists")
            self.used.add(item)
            claim_path = path.child(claim)
            self.provenance[claim_path] = found
            out[claim] = self.walk(found.value, claim_path, depth + 1)
        return out

    def _array(self, arr: list[Any], path: ClaimPath, depth: int) -> list[Any]:
        out: list[Any] = []
        for element in arr:
            if type(element) is dict and len(element) == 1 and "..." in element:
                digest = self._claim_digest(element["..."])
                found = self.by_digest.get(digest)
                if found is None:
                    continue  # undisclosed or decoy element: removed (§7.1 step 3.4)
                if found.name is not None:
                    raise SdJwtError("object-property disclosure referenced from an array",
                                     code="sdjwt.disclosure_wrong_shape")
                self.used.add(digest)
                element_path = path.child(len(out))
                self.provenance[element_path] = found
                out.append(self.walk(found.value, element_path, depth + 1))
            elif type(element) in _CONTAINERS:
                out.append(self.walk(element, path.child(len(out)), depth + 1))
            else:
                out.append(element)
        return out


_CONTAINERS = (dict, list)


def process(payload: dict[str, Any], disclosures: Iterable[Disclosure],
            sd_alg: str) -> Processed:
    """Apply §7.1 steps 3–5 and remove ``_sd_alg``.

    Raises:
        SdJwtError: ``sdjwt.duplicate_digest``, ``sdjwt.duplicate_disclosure``,
            ``sdjwt.unreferenced_disclosure``, ``sdjwt.forbidden_claim_name``,
            ``sdjwt.claim_exists``, ``sdjwt.disclosure_wrong_shape``, ``sdjwt.malformed_sd``.
    """
    processor = _Processor(disclosures, sd_alg)
    top = {k: v for k, v in payload.items() if k != "_sd_alg"}
    claims = processor.walk(top, ROOT, 0)
    unused = set(processor.by_digest) - processor.used
    if unused:
        names = sorted(repr(processor.by_digest[d].name) for d in unused)
        raise SdJwtError(f"{len(unused)} disclosure(s) not referenced by any digest "
                         f"({', '.join(names)})", code="sdjwt.unreferenced_disclosure")
    return Processed(claims, processor.provenance)
