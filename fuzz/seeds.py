"""Write the seed corpus ``fuzz/corpus/<target>/``: real, valid inputs of every parser made
with the project's own builders (``python -m fuzz.seeds``). The corpus is committed; run this
again only when a format changes. Registry seeds come from the test suite's small chain."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fuzz.fixtures import (
    AUD,
    CLIENT_ID,
    HOLDER_KEY,
    ISSUER_DID,
    ISSUER_KEY,
    ISSUER_KID,
    ISSUER_URL,
    NONCE,
    NOW,
    STATE,
    STATUS_URI,
    VCT,
    VERIFIER_DID,
    VERIFIER_KEY,
    VERIFIER_KID,
)

if TYPE_CHECKING:
    from tests.unit.registry.state_world import World

CORPUS = Path(__file__).resolve().parent / "corpus"
KB_BASE = Path(__file__).resolve().parent / "kb_presentation.txt"


def _seeds() -> dict[str, list[bytes]]:
    from issuer.config import render_config as issuer_config
    from ssiwallet.core import receipt as rc
    from ssiwallet.core.b64 import b64u_encode
    from ssiwallet.core.claimpath import ClaimPath
    from ssiwallet.core.jws import sign_compact
    from ssiwallet.core.oid4vci import CredentialOffer, TxCode, make_proof
    from ssiwallet.core.oid4vp import build_request_object, build_request_uri
    from ssiwallet.core.sdjwt.holder import make_kb_jwt, present
    from ssiwallet.core.statuslist import StatusList, StatusRef, create_status_list_token
    from ssiwallet.core.vc import issue_vc
    from verifier.config import render_config as verifier_config

    s: dict[str, list[bytes]] = {}

    def add(name: str, *items: str | bytes) -> None:
        s.setdefault(name, []).extend(i.encode() if isinstance(i, str) else i for i in items)

    claims = {"given_name": "Ann", "family_name": "Peeters", "age_over_18": True,
              "address": {"street": "Veldstraat 1", "city": "Gent"},
              "nationalities": ["BE", "NL"], "birthdate": "2000-01-31"}
    issued = issue_vc(issuer=ISSUER_DID, kid=ISSUER_KID, key=ISSUER_KEY, vct=VCT,
                      claims=claims, holder_jwk=HOLDER_KEY.public_key.to_jwk(), now=NOW,
                      status=StatusRef(3, STATUS_URI), decoys=2)
    compact = issued.compact()
    add("sdjwt_issued", compact, json.dumps(issued.sd_jwt.to_json()),
        json.dumps(issued.sd_jwt.to_json(general=True)))
    kb = present(issued.sd_jwt, [["age_over_18"], ["address", "city"]], holder_key=HOLDER_KEY,
                 nonce=NONCE, aud=AUD, iat=NOW)
    bare = present(issued.sd_jwt, [["given_name"]], holder_key=None)
    add("sdjwt_presented", kb.compact(), bare.compact(), json.dumps(kb.to_json()))
    # the KB-JWT target appends its input to this presentation (its sd_hash matches)
    KB_BASE.write_text(kb.without_kb().compact())
    other = make_kb_jwt(kb.without_kb(), HOLDER_KEY, nonce=NONCE, aud=AUD, iat=NOW - 30,
                        extra={"x": [1]})
    add("kb_jwt", kb.kb_jwt or "", other)
    add("jws", compact.split("~")[0], kb.kb_jwt or "",
        sign_compact({"typ": "JWT"}, {"a": [1, {"b": None}]}, ISSUER_KEY))
    add("b64url", b64u_encode(b"\x00\x01binary\xff"), "", "AA", "eyJhIjoxfQ")
    add("strictjson", json.dumps(claims), "[1, -0, 1e300, \"\\u00e9\\ud83d\\ude00\"]", "null",
        '{"a": {"b": [[], {}, true, false]}}')

    dcql: dict[str, Any] = {"credentials": [
        {"id": "id", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]},
         "claims": [{"id": "a", "path": ["age_over_18"], "values": [True]},
                    {"id": "c", "path": ["address", "city"]},
                    {"id": "n", "path": ["nationalities", None]}],
         "claim_sets": [["a", "c"], ["a"]]},
        {"id": "d", "format": "dc+sd-jwt", "meta": {"vct_values": ["https://vct.example/d"]},
         "multiple": True, "trusted_authorities": [{"type": "aki", "values": ["s9tIpP"]}]}],
        "credential_sets": [{"options": [["id"], ["d"]], "required": True}]}
    add("dcql", json.dumps(dcql), json.dumps({"credentials": dcql["credentials"][:1]}))
    add("claimpath", '["address", "city"]', '["nationalities", null]', '["a", 0, "b"]')

    offer = CredentialOffer(ISSUER_URL, ("identity",), "c0de-" + "x" * 30,
                            TxCode(length=6, input_mode="numeric", description="PIN"))
    plain = CredentialOffer(ISSUER_URL + ":8443", ("identity", "diploma"), "c" * 40, None)
    add("oid4vci_offer", json.dumps(offer.to_json()), json.dumps(plain.to_json()))
    add("oid4vci_offer_uri", offer.to_uri(), plain.to_uri(),
        "openid-credential-offer://?" + urlencode(
            {"credential_offer_uri": ISSUER_URL + "/offers/abc"}))
    meta = {"credential_issuer": ISSUER_URL,
            "credential_endpoint": ISSUER_URL + "/credential",
            "nonce_endpoint": ISSUER_URL + "/nonce",
            "authorization_servers": [ISSUER_URL],
            "batch_credential_issuance": {"batch_size": 10},
            "credential_configurations_supported": {"identity": {
                "format": "dc+sd-jwt", "vct": VCT, "scope": "identity",
                "cryptographic_binding_methods_supported": ["jwk"],
                "credential_signing_alg_values_supported": ["EdDSA"],
                "proof_types_supported": {"jwt": {
                    "proof_signing_alg_values_supported": ["EdDSA", "ES256"]}},
                "display": [{"name": "Identiteit", "locale": "nl"}]}}}
    add("oid4vci_metadata", json.dumps(meta))
    proofs = [make_proof(k, aud=ISSUER_URL, nonce=NONCE, iat=NOW)
              for k in (HOLDER_KEY, VERIFIER_KEY)]
    add("oid4vci_credential_request",
        json.dumps({"credential_configuration_id": "identity", "proofs": {"jwt": proofs}}))
    add("oid4vci_token_request", urlencode({
        "grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
        "pre-authorized_code": "c0de-" + "x" * 30, "tx_code": "123456"}))
    add("oid4vci_receive", json.dumps({
        "metadata": meta,
        "as_metadata": {"issuer": ISSUER_URL, "token_endpoint": ISSUER_URL + "/token"},
        "token": {"access_token": "t" * 43, "token_type": "Bearer", "expires_in": 300},
        "nonce": {"c_nonce": NONCE},
        "credential": {"credentials": [{"credential": compact}]}}))

    request = build_request_object(client_id=CLIENT_ID, nonce=NONCE, state=STATE,
                                   dcql_query=dcql, response_uri="https://verifier.example/post",
                                   now=NOW, lifetime=300, key=VERIFIER_KEY, kid=VERIFIER_KID)
    add("oid4vp_request_object", request)
    add("oid4vp_request_uri",
        build_request_uri(client_id=CLIENT_ID,
                          request_uri="https://verifier.example/request/abc"),
        build_request_uri(client_id=CLIENT_ID, request_uri="http://127.0.0.1:8080/r/x"))
    response = rc.build_response({"id": [kb.compact()]}, STATE)
    add("oid4vp_response", urlencode(response),
        urlencode(rc.build_error_response(error="access_denied", state=STATE,
                                          description="the citizen declined")))
    receipt = rc.build_receipt(
        verifier=VERIFIER_DID, kid=VERIFIER_KID, key=VERIFIER_KEY, nonce=NONCE, state=STATE,
        vp_token=response["vp_token"],
        received=[rc.ReceivedCredential(vct=VCT, issuer=ISSUER_DID,
                                        claims=(ClaimPath(("age_over_18",)),
                                                ClaimPath(("address", "city"))))],
        purpose={"nl": "Leeftijd controleren", "en": "Age check"}, retention=0,
        result="accepted", now=NOW, jti="jti-0123456789abcdefghijk")
    add("receipt", receipt)
    add("oid4vp_post_answer", json.dumps(rc.build_post_answer(
        receipt=receipt, redirect_uri="https://verifier.example/done#x")), "{}")

    lst = StatusList.new(64, 2)
    lst.set(3, 1)
    lst.set(60, 2)
    token = create_status_list_token(lst, sub=STATUS_URI, iat=NOW - 10, exp=NOW + 3600,
                                     ttl=300, key=ISSUER_KEY, kid=ISSUER_KID)
    add("status_list_token", token)
    add("status_reference", json.dumps(StatusRef(3, STATUS_URI).to_claim()),
        json.dumps({"status_list": {"idx": 0, "uri": "http://127.0.0.1:1/s"}, "other": 1}))

    add("form_body", urlencode(response), "a=1&b=&c=%C3%A9", "")
    add("values", "https://registry.example", "HTTP://[::1]:8080/", ISSUER_KID, VCT,
        "https://vct.example/diploma", "gent.revocation", "localhost:9000")

    text, _token = issuer_config(profile="municipality", public_url=ISSUER_URL, port=8443,
                                 registry_url="https://registry.example",
                                 genesis_hash="ab" * 32)
    add("issuer_config", text)
    add("verifier_config", verifier_config(public_url="https://verifier.example", port=8444,
                                           registry_url="https://registry.example",
                                           genesis_hash=None, presets=["age18"]))

    # the registry: the test suite's chain, a published block and its bundles
    from tests.unit.registry.test_bundle import KEYS, PUBLISHED, WORLD

    add("tx", *_txs_of(WORLD))
    add("note", PUBLISHED.note)
    add("checkpoint", PUBLISHED.note.split("\n\n")[0] + "\n")
    for name in sorted(KEYS)[:6]:
        bundle = PUBLISHED.bundle(KEYS[name])
        add("bundle", bundle.dumps())
        add("state_proof", json.dumps(bundle.to_json()["state_proof"]))
    return s


def _txs_of(world: World) -> list[bytes]:
    from registry.author.controller import Controller
    from registry.ledger.tx import parse_tx
    from tests.unit.registry.state_world import SCHEMA, C

    out = [Controller.new(name).create_tx(C, world.now, world.steward)
           for name in ("Gemeente Aalst", "Bibliotheek Brugge")]
    out.append(world.sign(world.gent, "status.update",
                          {"list": world.revocation, "indices": [1, 2], "value": 1}))
    out.append(world.sign(world.steward, "schema.publish", {
        "vct": VCT, "schema": SCHEMA, "display": {"nl": "Identiteit", "en": "Identity"}}))
    out.append(world.sign(world.steward, "accreditation.grant", {
        "issuer": world.gent.did, "vcts": [VCT], "valid_from": NOW, "valid_until": None}))
    out.append(world.gent.rotate_tx(C, world.now, compromised_since=None))
    for data in out:
        parse_tx(data)
    return out


def main() -> None:
    seeds = _seeds()
    for name, items in sorted(seeds.items()):
        folder = CORPUS / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for item in items:
            (folder / hashlib.sha1(item).hexdigest()).write_bytes(item)
        print(f"{name}: {len(items)} seeds")


if __name__ == "__main__":
    main()
