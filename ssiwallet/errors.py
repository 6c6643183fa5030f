"""The exception tree of the ``ssiwallet`` package.

Every error carries a stable, machine-readable ``code`` (``<area>.<reason>``) that services
map to JSON (``{"error": code, "detail": ...}``) and tests assert on::

    SsiError                        ssi.*
    └── CoreError                   core.*
        ├── InputError              json.* / b64.*     malformed bytes or JSON from outside
        ├── BadValueError           input.*            a value type refused its input (values.py):
        │                                              input.bad_url, input.bad_did_url,
        │                                              input.bad_vct, input.bad_status_list_id
        ├── JoseError               jose.*             JWS / JWK problems
        ├── DidError                did.*              did:key parsing
        ├── SdJwtError              sdjwt.*            RFC 9901 issuance, presentation, verification
        │   └── VcError             vc.*               SD-JWT VC profile rules
        ├── StatusListError         status.*           Token Status List
        ├── DcqlError               dcql.*             DCQL query validation and matching
        ├── Oid4vciError            oid4vci.*          OpenID4VCI offers, metadata, key proofs
        ├── Oid4vpError             oid4vp.*           OpenID4VP request objects, invocation URIs,
        │                                              direct_post responses, verifier receipts
        └── CredentialTypeError     credtype.*         credential types and their schemas
            └── InvalidClaimsError  credtype.invalid_claims  (credtypes.py; lists each problem)
    WalletError                     wallet.*           the holder's encrypted store and flows
    ├── UnlockError                 wallet.unlock_failed   wrong passphrase *or* damaged file:
    │   │                                                  one message, on purpose
    │   ├── KdfParamsError          wallet.kdf_out_of_bounds  refused before any derivation
    │   └── WalletFormatError       wallet.unsupported_version  a format this code does not know
    └── (codes on WalletError)      wallet.exists, wallet.not_found, wallet.unknown_credential,
                                    wallet.no_fresh_copy, wallet.busy, wallet.request_uri, ...

A subclass names its reason in ``code``; raising a base class with an explicit code
(``SdJwtError("...", code="sdjwt.x")``) is allowed where a reason has no behaviour of its own.
"""

from __future__ import annotations

from typing import ClassVar


class SsiError(Exception):
    """Root of every error raised by this package."""

    code: ClassVar[str] = "ssi.error"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code  # type: ignore[misc]  # instance override of the class default

    def to_json(self) -> dict[str, str]:
        """The error as the JSON body every service and CLI of the project uses."""
        return {"error": self.code, "detail": self.detail}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.detail!r})"


class CoreError(SsiError):
    code = "core.error"


class InputError(CoreError):
    """Bytes or JSON from outside that do not meet the strict input rules."""

    code = "json.invalid"


class BadValueError(CoreError):
    """A value type (:mod:`ssiwallet.core.values`) refused what it was given: a URL, DID URL,
    credential type or status list id that is not well formed. ``code`` names which."""

    code = "input.bad_value"


class JoseError(CoreError):
    code = "jose.invalid"


class DidError(CoreError):
    code = "did.invalid"


class SdJwtError(CoreError):
    code = "sdjwt.invalid"


class VcError(SdJwtError):
    code = "vc.invalid"


class StatusListError(CoreError):
    code = "status.invalid"


class DcqlError(CoreError):
    code = "dcql.invalid"


class Oid4vpError(CoreError):
    """An OpenID4VP message (or a Keten receipt) that breaks the profile Keten implements."""

    code = "oid4vp.invalid"


class CredentialTypeError(CoreError):
    code = "credtype.invalid"


class Oid4vciError(CoreError):
    """OpenID4VCI messages: offers, metadata, key proofs, credential responses."""

    code = "oid4vci.invalid"


class WalletError(SsiError):
    """The holder's wallet: its store, backups and the flows built on them."""

    code = "wallet.error"


class UnlockError(WalletError):
    """The wallet (or a backup) cannot be opened.

    A wrong passphrase and a damaged or tampered file give this same error, with the same
    message: telling them apart would tell an attacker which guess was close.
    """

    code = "wallet.unlock_failed"

    def __init__(self, detail: str = "", *, code: str | None = None) -> None:
        super().__init__(detail or "the wallet cannot be opened: wrong passphrase, "
                         "or the file is damaged", code=code)


class KdfParamsError(UnlockError):
    """Key-derivation parameters outside the floor and ceiling (checked before deriving)."""

    code = "wallet.kdf_out_of_bounds"


class WalletFormatError(UnlockError):
    """A file format version this code does not know."""

    code = "wallet.unsupported_version"
