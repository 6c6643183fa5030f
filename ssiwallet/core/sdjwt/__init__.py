"""SD-JWT (RFC 9901): issuance, holder presentation and verification."""

from ssiwallet.core.sdjwt.disclosure import Disclosure, digest, make_disclosure, parse_disclosure
from ssiwallet.core.sdjwt.holder import (
    holder_view,
    make_kb_jwt,
    paths_from_selection,
    present,
    select_disclosures,
)
from ssiwallet.core.sdjwt.issuer import SD, IssuedSdJwt, issue, random_salt
from ssiwallet.core.sdjwt.process import Processed, process
from ssiwallet.core.sdjwt.serialize import JwsSignature, SdJwt, parse, parse_compact, parse_json
from ssiwallet.core.sdjwt.verify import (
    KeyBindingPolicy,
    KeyLookup,
    Verified,
    check_validity,
    holder_key,
    verify_sd_jwt,
)

__all__ = [
    "SD", "Disclosure", "IssuedSdJwt", "JwsSignature", "KeyBindingPolicy", "KeyLookup",
    "Processed", "SdJwt", "Verified", "check_validity", "digest", "holder_key", "holder_view",
    "issue", "make_disclosure", "make_kb_jwt", "parse", "parse_compact", "parse_disclosure",
    "parse_json", "paths_from_selection", "present", "process", "random_salt",
    "select_disclosures", "verify_sd_jwt",
]
