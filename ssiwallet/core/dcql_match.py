"""Applying DCQL queries to credentials: claims path pointers (OpenID4VP §7) and matching (§6.4).

Both ends of a presentation use this module. The wallet runs :func:`evaluate` over the
(fully disclosed) claims of the credentials it holds to learn which credentials qualify and
exactly which claims it may disclose: OpenID4VP forbids sending any selectively disclosable
claim the query did not select. The verifier runs :func:`check_presented` over the payloads
it received, keyed by credential query id as in the ``vp_token``, to decide whether the
wallet answered the question it asked.

Only ``dc+sd-jwt`` credentials are matched; a query of another format (``mso_mdoc``) parses
but matches nothing.

The human-readable reasons may quote claim values. They are for the person in front of the
screen (citizen or clerk); a wallet must not send them to a verifier, since whether a value
matched leaks the value (OpenID4VP privacy considerations, "DCQL Value Matching").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ssiwallet.core.claimpath import ROOT, ClaimPath, Element
from ssiwallet.core.dcql import (
    FORMAT_SD_JWT_VC,
    ClaimsQuery,
    CredentialQuery,
    DcqlQuery,
)
from ssiwallet.errors import DcqlError


def _is_array(value: object) -> bool:
    return isinstance(value, list | tuple)


def select(
    claims: Mapping[str, Any], path: Sequence[Element]
) -> list[tuple[ClaimPath, Any]]:
    """Process a claims path pointer over a JSON-based credential (§7.1.1).

    Each selected element comes with its concrete path (nulls replaced by the index), which
    is what the holder has to disclose. A step that meets the wrong type is the spec's
    "abort with an error" and, like an empty result, yields ``[]``: the claim is not there.

    Args:
        claims: the credential's claims as a JSON object.
        path: a claims path pointer (strings, non-negative integers, nulls).

    Raises:
        DcqlError: ``dcql.invalid_path`` if ``path`` itself is not a valid pointer.
    """
    if isinstance(path, str | bytes):
        raise DcqlError("path must be an array, not a string", code="dcql.invalid_path")
    path = ClaimPath.parse(list(path))
    if not isinstance(claims, Mapping):
        return []
    selection: list[tuple[ClaimPath, Any]] = [(ROOT, claims)]
    for element in path:
        chosen: list[tuple[ClaimPath, Any]] = []
        for where, value in selection:
            if isinstance(element, str):
                if not isinstance(value, Mapping):
                    return []
                if element in value:
                    chosen.append((where.child(element), value[element]))
            elif not _is_array(value):
                return []
            elif element is None:
                chosen.extend((where.child(i), item) for i, item in enumerate(value))
            elif element < len(value):
                chosen.append((where.child(element), value[element]))
        selection = chosen
    return selection


@dataclass(frozen=True)
class Candidate:
    """A credential as seen by the matcher.

    ``claims`` is the complete claim set the holder can disclose (wallet side) or the
    processed, disclosed payload (verifier side).
    """

    id: str
    format: str
    vct: str
    claims: Mapping[str, Any] = field(hash=False)


@dataclass(frozen=True)
class CredentialMatch:
    """One credential that satisfies one credential query, with what it must disclose.

    ``paths`` are the concrete claims to disclose, in query order, without duplicates;
    ``claim_set`` is the option of ``claim_sets`` that was met, if the query had any.
    """

    query_id: str
    candidate_id: str
    paths: tuple[ClaimPath, ...]
    claim_set: tuple[str, ...] | None = None


def _same(a: object, b: object) -> bool:
    # "type and value both match exactly": True must not match 1, nor 1.0 match 1.
    return type(a) is type(b) and a == b


def _claim_paths(cq: ClaimsQuery, claims: Mapping[str, Any]) -> tuple[ClaimPath, ...] | str:
    """The concrete paths one claims query selects, or why it selects nothing."""
    shown = list(cq.path)
    selected = select(claims, cq.path)
    if not selected:
        return f"claim {shown} is missing"
    if cq.values is None:
        return tuple(where for where, _ in selected)
    wanted = cq.values
    hits = tuple(where for where, v in selected if any(_same(v, w) for w in wanted))
    if hits:
        return hits
    if len(selected) == 1:
        return f"claim {shown} has value {selected[0][1]!r}, not in {list(wanted)}"
    return f"claim {shown} has values {[v for _, v in selected]!r}, none in {list(wanted)}"


def _type_problem(q: CredentialQuery, c: Candidate) -> str | None:
    """Why ``c`` is not even the right kind of credential for ``q``, if it is not."""
    if c.format != q.format:
        return f"format {c.format!r} is not {q.format!r}"
    if q.format != FORMAT_SD_JWT_VC:
        return f"matching format {q.format!r} is not supported"
    vcts = q.vct_values
    if vcts is not None and c.vct not in vcts:
        return f"vct {c.vct!r} is not in {list(vcts)}"
    return None


def _join(parts: Iterable[tuple[ClaimPath, ...]]) -> tuple[ClaimPath, ...]:
    return tuple(dict.fromkeys(p for part in parts for p in part))


def _claims_match(q: CredentialQuery, c: Candidate) -> CredentialMatch | list[str]:
    """Apply §6.4.1 to a credential of the right type: a match, or the reasons there is none."""
    if q.claims is None:
        return CredentialMatch(q.id, c.id, ())
    if q.claim_sets is None:
        outcomes = [_claim_paths(cq, c.claims) for cq in q.claims]
        failures = [o for o in outcomes if isinstance(o, str)]
        if failures:
            return failures
        return CredentialMatch(q.id, c.id, _join(o for o in outcomes if not isinstance(o, str)))
    by_id = {cq.id: cq for cq in q.claims}
    cache: dict[str, tuple[ClaimPath, ...] | str] = {}
    reasons = []
    for option in q.claim_sets:  # in the verifier's order of preference
        for ident in option:
            if ident not in cache:
                cache[ident] = _claim_paths(by_id[ident], c.claims)
        outcomes = [cache[ident] for ident in option]
        failures = [o for o in outcomes if isinstance(o, str)]
        if not failures:
            paths = _join(o for o in outcomes if not isinstance(o, str))
            return CredentialMatch(q.id, c.id, paths, claim_set=option)
        reasons.append(f"claim set {list(option)}: " + "; ".join(failures))
    return reasons


def match_credential(q: CredentialQuery, c: Candidate) -> CredentialMatch | None:
    """Whether credential ``c`` satisfies credential query ``q``, and what to disclose.

    With ``claim_sets`` the first option (the verifier's preference) that ``c`` can meet is
    chosen; a ``values`` constraint that is not met counts as a missing claim.
    """
    if _type_problem(q, c) is not None:
        return None
    result = _claims_match(q, c)
    return result if isinstance(result, CredentialMatch) else None


def _set_failures(query: DcqlQuery, have: set[str]) -> list[str]:
    """Required credential sets that no option of which is fully in ``have``."""
    failures = []
    for n, cs in enumerate(query.credential_sets or ()):
        if cs.required and not any(all(i in have for i in opt) for opt in cs.options):
            shown = [list(opt) for opt in cs.options]
            failures.append(f"credential set {n}: none of the options {shown} can be met")
    return failures


@dataclass(frozen=True)
class QueryResult:
    """The outcome of :func:`evaluate`.

    Attributes:
        query: the evaluated query.
        satisfied: whether the holder can answer it at all (if not, OpenID4VP says to
            return no credential).
        matches: for every credential query id, the matching credentials in candidate
            order (with ``multiple`` false the holder picks one of them).
        reasons: why credential queries or required credential sets could not be met.
    """

    query: DcqlQuery
    satisfied: bool
    matches: dict[str, list[CredentialMatch]] = field(hash=False)
    reasons: list[str] = field(hash=False)

    def selection(self) -> dict[str, CredentialMatch]:
        """One consistent answer: the first satisfiable option of every credential set
        (optional ones included when they can be met) and the first match of each query.

        Raises:
            DcqlError: ``dcql.unsatisfied`` when the query cannot be answered.
        """
        if not self.satisfied:
            raise DcqlError(
                "the query cannot be satisfied: " + "; ".join(self.reasons),
                code="dcql.unsatisfied",
            )
        if self.query.credential_sets is None:
            ids = [cq.id for cq in self.query.credentials]
        else:
            ids = []
            for cs in self.query.credential_sets:
                for option in cs.options:
                    if all(self.matches[i] for i in option):
                        ids.extend(option)
                        break
        return {i: self.matches[i][0] for i in dict.fromkeys(ids)}


def evaluate(query: DcqlQuery, candidates: Sequence[Candidate]) -> QueryResult:
    """Match every credential query against the holder's credentials (wallet side).

    Implements §6.4.2: without ``credential_sets`` every credential query needs a match;
    otherwise every required credential set needs one option whose queries all match.
    """
    matches: dict[str, list[CredentialMatch]] = {}
    reasons: list[str] = []
    for q in query.credentials:
        found: list[CredentialMatch] = []
        failures: list[str] = []
        typed = 0
        for c in candidates:
            if _type_problem(q, c) is not None:
                continue
            typed += 1
            result = _claims_match(q, c)
            if isinstance(result, CredentialMatch):
                found.append(result)
            else:
                failures.extend(f"credential {c.id!r}: {why}" for why in result)
        matches[q.id] = found
        if found:
            continue
        if q.format != FORMAT_SD_JWT_VC:
            reasons.append(f"credential query {q.id!r}: matching {q.format!r} is not supported")
        elif typed == 0:
            vcts = list(q.vct_values or ())
            reasons.append(f"credential query {q.id!r}: no credential with vct in {vcts}")
        reasons.extend(f"credential query {q.id!r}: {why}" for why in failures)
    have = {qid for qid, found in matches.items() if found}
    if query.credential_sets is None:
        satisfied = len(have) == len(query.credentials)
    else:
        set_failures = _set_failures(query, have)
        reasons.extend(set_failures)
        satisfied = not set_failures
    return QueryResult(query=query, satisfied=satisfied, matches=matches, reasons=reasons)


def check_presented(query: DcqlQuery, presented: Mapping[str, Sequence[Candidate]]) -> list[str]:
    """Check what a wallet presented against the query it answered (verifier side).

    Args:
        query: the query sent in the authorization request.
        presented: the verified, disclosed credentials per credential query id, as keyed
            in the ``vp_token``.

    Returns:
        The problems found, for a clerk to read; empty when the presentation satisfies the
        query.
    """
    known = {cq.id: cq for cq in query.credentials}
    problems: list[str] = []
    have: set[str] = set()
    for qid, creds in presented.items():
        q = known.get(qid)
        if q is None:
            problems.append(f"credential {qid!r} was not asked for")
            continue
        if not creds:
            problems.append(f"credential query {qid!r}: empty list of presentations")
            continue
        if not q.multiple and len(creds) > 1:
            problems.append(
                f"credential query {qid!r}: {len(creds)} credentials presented, only one allowed"
            )
        ok = True
        for c in creds:
            problem = _type_problem(q, c)
            result = [problem] if problem is not None else _claims_match(q, c)
            if isinstance(result, list):
                ok = False
                problems.extend(f"credential query {qid!r}: {why}" for why in result)
        if ok:
            have.add(qid)
    if query.credential_sets is None:
        problems.extend(
            f"credential query {q.id!r}: no credential presented"
            for q in query.credentials
            if q.id not in presented
        )
    else:
        problems.extend(_set_failures(query, have))
    return problems
