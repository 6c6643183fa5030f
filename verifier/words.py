"""Check codes in plain words for the clerk at the desk (Dutch and English).

A code without its own sentence falls back to the sentence of its family (``status.*``,
``sdjwt.kb_*`` …) and finally to a general one, so a new code never shows up blank.
"""

from __future__ import annotations

__all__ = ["explain"]

_WORDS: dict[str, tuple[str, str]] = {
    "status.revoked": ("Dit bewijs is ingetrokken door wie het uitgaf.",
                       "This credential was revoked by its issuer."),
    "status.suspended": ("Dit bewijs is tijdelijk geschorst door wie het uitgaf.",
                         "This credential is suspended by its issuer."),
    "status.unavailable": ("De intrekkingslijst is nu niet bereikbaar; probeer later opnieuw.",
                           "The revocation list cannot be reached now; try again later."),
    "vc.expired": ("Dit bewijs is verlopen.", "This credential has expired."),
    "vc.not_yet_valid": ("Dit bewijs is nog niet geldig.", "This credential is not valid yet."),
    "issuer.not_accredited": (
        "Wie dit bewijs uitgaf, is daarvoor niet erkend in het register.",
        "Whoever issued this credential is not accredited for it in the registry."),
    "registry.key_not_valid": (
        "De sleutel van de uitgever was op de uitgiftedag niet geldig (of is gecompromitteerd).",
        "The issuer's key was not valid on the day of issue (or is compromised)."),
    "sdjwt.kb_nonce_mismatch": ("Het antwoord hoort bij een andere vraag (verkeerde nonce).",
                                "The answer belongs to another request (wrong nonce)."),
    "sdjwt.kb_aud_mismatch": ("Het antwoord was voor een andere verifier bedoeld.",
                              "The answer was made for another verifier."),
    "kb.nonce_reused": ("Dit antwoord werd al eens gebruikt (herhaling).",
                        "This answer was used before (a replay)."),
    "dcql.unsatisfied": ("Er werd niet getoond wat gevraagd werd.",
                         "What was asked for was not shown."),
    "dcql.value_mismatch": ("De getoonde gegevens voldoen niet aan de vraag.",
                            "The data shown does not meet the requirement."),
    "claims.schema": ("De getoonde gegevens passen niet bij het soort bewijs.",
                      "The data shown does not fit the credential type."),
    "vp.malformed": ("Het antwoord van de wallet is onleesbaar.",
                     "The wallet's answer cannot be read."),
    "wallet.declined": ("De burger weigerde de gegevens te delen.",
                        "The citizen declined to share the data."),
}

_FAMILIES: dict[str, tuple[str, str]] = {
    "status.": ("De status van dit bewijs kon niet bevestigd worden.",
                "The status of this credential could not be confirmed."),
    "sdjwt.kb_": ("Het bewijs is niet gebonden aan deze wallet of deze vraag.",
                  "The credential is not bound to this wallet or this request."),
    "registry.": ("Het register gaf geen betrouwbaar antwoord.",
                  "The registry gave no trustworthy answer."),
    "jose.": ("De handtekening klopt niet.", "The signature does not verify."),
    "sdjwt.": ("Het bewijs is beschadigd of vervalst.",
               "The credential is damaged or forged."),
    "vc.": ("Het bewijs voldoet niet aan de regels.", "The credential breaks the rules."),
}


def explain(code: str, lang: str = "nl") -> str:
    """The sentence for ``code`` in ``lang`` (``nl`` or ``en``)."""
    index = 1 if lang == "en" else 0
    if code in _WORDS:
        return _WORDS[code][index]
    for prefix, words in _FAMILIES.items():
        if code.startswith(prefix):
            return words[index]
    return ("Het bewijs werd niet aanvaard.", "The credential was not accepted.")[index]
