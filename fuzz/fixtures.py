"""The fixed keys, names and times the seed corpus was made with, so that targets can verify
signatures on mutated seeds and reach the checks that come after them."""

from __future__ import annotations

import base58

from ssiwallet.core.keys import Ed25519PrivateKey

NOW = 1_750_000_000
ISSUER_DID = "did:keten:" + base58.b58encode(bytes(range(16))).decode()
ISSUER_KID = ISSUER_DID + "#key-1"
ISSUER_KEY = Ed25519PrivateKey(bytes(range(32)))
HOLDER_KEY = Ed25519PrivateKey(bytes(range(1, 33)))
VERIFIER_DID = "did:keten:" + base58.b58encode(bytes(range(1, 17))).decode()
VERIFIER_KID = VERIFIER_DID + "#key-1"
VERIFIER_KEY = Ed25519PrivateKey(bytes(range(2, 34)))
CLIENT_ID = "decentralized_identifier:" + VERIFIER_DID
NONCE = "n0nce-0123456789abcdefgh"
STATE = "st4te-0123456789abcdefgh"
AUD = CLIENT_ID
ISSUER_URL = "https://issuer.example"
STATUS_URI = "https://registry.example/status/gent.revocation"
VCT = "urn:keten:vct:identity:1"
