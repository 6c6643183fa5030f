"""issuer.offers: offers, PINs, pre-authorized codes and access tokens, on a real store but
without HTTP: the PIN's five tries, single use, expiry, and what a clerk sees."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from issuer.config import IssuerConfig, load_config, render_config
from issuer.errors import AccessError, CredentialRequestError, NotFoundError, TokenError
from issuer.offers import CreatedOffer, OfferDesk, issuance_claims, today
from issuer.store import IssuerStore, open_claims
from ssiwallet.core.credtype_schemas import VCT_DIPLOMA, VCT_IDENTITY
from ssiwallet.core.oid4vci import PRE_AUTH_GRANT
from ssiwallet.errors import CredentialTypeError
from tests.support.clock import FakeClock

NOW = 1_790_000_000  # 2026-09-21
IDENTITY = {"given_name": "Noor", "family_name": "Bakker", "birthdate": "2000-05-17",
            "address": {"street_address": "Korenmarkt 3", "postal_code": "9000",
                        "locality": "Gent", "country": "BE"}}
CONFIG_ID = "identity_dc_sd_jwt"


def config_for(tmp_path: Path, profile: str = "municipality") -> IssuerConfig:
    text, token = render_config(profile=profile, public_url="https://issuer.example",
                                port=8443, registry_url="https://registry.example",
                                genesis_hash=None)
    (tmp_path / "admin-token").write_text(token)
    (tmp_path / "issuer.toml").write_text(text)
    return load_config(tmp_path / "issuer.toml")


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[OfferDesk]:
    store = IssuerStore(tmp_path / "issuer.db")
    try:
        yield OfferDesk(config_for(tmp_path), store)
    finally:
        store.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


def code_of(offer: CreatedOffer) -> str:
    grant = offer.offer["grants"][PRE_AUTH_GRANT]
    return str(grant["pre-authorized_code"])


def token_form(offer: CreatedOffer, pin: str | None = None) -> dict[str, str]:
    form = {"grant_type": PRE_AUTH_GRANT, "pre-authorized_code": code_of(offer)}
    form["tx_code"] = offer.pin if pin is None else pin
    return form


def wrong(pin: str) -> str:
    return f"{(int(pin) + 1) % 10 ** 6:06d}"


def refused(call: object, code: str) -> TokenError:
    assert callable(call)
    with pytest.raises(TokenError) as err:
        call()
    assert err.value.code == code, err.value
    return err.value


# --- creating an offer -------------------------------------------------------------------


def test_an_offer_carries_a_six_digit_pin_and_a_code_once(desk: OfferDesk,
                                                           clock: FakeClock) -> None:
    offer = desk.create(CONFIG_ID, IDENTITY, now=clock())
    assert re.fullmatch(r"\d{6}", offer.pin)
    assert offer.expires == NOW + desk.config.offer_ttl
    assert offer.vct == VCT_IDENTITY and offer.config_id == CONFIG_ID
    assert offer.uri.startswith("openid-credential-offer://")
    assert parse_qs(urlsplit(offer.uri).query)["credential_offer"]
    grant = offer.offer["grants"][PRE_AUTH_GRANT]
    assert grant["tx_code"]["length"] == 6 and grant["tx_code"]["input_mode"] == "numeric"
    assert offer.offer["credential_configuration_ids"] == [CONFIG_ID]
    assert offer.to_json()["tx_code"] == offer.pin
    # neither the code nor the PIN is stored; the claims are sealed under the code
    record = desk.store.offer(offer.id)
    assert record is not None and record.state == "open" and record.attempts == 0
    dump = b"".join(bytes(str(v), "utf-8") for v in record.__dict__.values())
    assert code_of(offer).encode() not in dump and b"Korenmarkt" not in dump
    assert record.sealed is not None
    assert open_claims(record.sealed, code_of(offer)) == IDENTITY


def test_two_offers_have_different_codes_and_ids(desk: OfferDesk, clock: FakeClock) -> None:
    a, b = (desk.create(CONFIG_ID, IDENTITY, now=clock()) for _ in range(2))
    assert a.id != b.id and code_of(a) != code_of(b)


def test_an_unknown_configuration_or_bad_claims_make_no_offer(desk: OfferDesk,
                                                               clock: FakeClock) -> None:
    for config_id in ("diploma_dc_sd_jwt", None, 7):
        with pytest.raises(NotFoundError) as err:
            desk.create(config_id, IDENTITY, now=clock())
        assert err.value.code == "issuer.unknown_configuration"
    with pytest.raises(CredentialTypeError) as bad:
        desk.create(CONFIG_ID, ["not", "an", "object"], now=clock())
    assert bad.value.code == "credtype.invalid_claims"
    with pytest.raises(CredentialTypeError) as bad:
        desk.create(CONFIG_ID, {**IDENTITY, "birthdate": "yesterday"}, now=clock())
    assert bad.value.code == "credtype.invalid_claims"
    assert desk.store.offers() == []


# --- the token endpoint ------------------------------------------------------------------


def test_the_right_pin_gives_one_access_token(desk: OfferDesk, clock: FakeClock) -> None:
    offer = desk.create(CONFIG_ID, IDENTITY, now=clock())
    answer = desk.token(token_form(offer), now=clock.advance(30))
    assert answer["token_type"] == "Bearer"
    assert answer["expires_in"] == desk.config.token_ttl
    record, token = desk.redeem(f"Bearer {answer['access_token']}", now=clock())
    assert record.id == offer.id and record.state == "redeemed" and record.pin_hash is None
    assert token == answer["access_token"]
    # the claims are now sealed under the access token, not the code
    assert record.sealed is not None and open_claims(record.sealed, token) == IDENTITY
    # the code is single use, whatever the PIN
    refused(lambda: desk.token(token_form(offer), now=clock()), "issuer.code_used")
    refused(lambda: desk.token(token_form(offer, wrong(offer.pin)), now=clock()),
            "issuer.code_used")


def test_a_token_never_outlives_its_offer(desk: OfferDesk, clock: FakeClock) -> None:
    offer = desk.create(CONFIG_ID, IDENTITY, now=clock())
    late = offer.expires - 100  # less than token_ttl before the offer expires
    answer = desk.token(token_form(offer), now=late)
    assert answer["expires_in"] == 100


def test_five_wrong_pins_lock_the_offer_and_forget_its_claims(desk: OfferDesk,
                                                               clock: FakeClock) -> None:
    offer = desk.create(CONFIG_ID, IDENTITY, now=clock())
    bad = wrong(offer.pin)
    tries = desk.config.max_pin_attempts
    for n in range(1, tries):
        error = refused(lambda: desk.token(token_form(offer, bad), now=clock()),
                        "issuer.wrong_tx_code")
        assert f"{tries - n} attempts left" in error.detail
        assert desk.offer_status(offer.id)["pin_attempts"] == n
    refused(lambda: desk.token(token_form(offer, bad), now=clock()), "issuer.tx_code_locked")
    record = desk.store.offer(offer.id)
    assert record is not None
    assert (record.state, record.sealed, record.pin_hash) == ("locked", None, None)
    # now even the right PIN is refused
    refused(lambda: desk.token(token_form(offer), now=clock()), "issuer.tx_code_locked")


def test_a_wrong_pin_then_the_right_one_still_works(desk: OfferDesk, clock: FakeClock) -> None:
    offer = desk.create(CONFIG_ID, IDENTITY, now=clock())
    refused(lambda: desk.token(token_form(offer, wrong(offer.pin)), now=clock()),
            "issuer.wrong_tx_code")
    assert desk.token(token_form(offer), now=clock())["token_type"] == "Bearer"


def test_an_expired_offer_is_refused(desk: OfferDesk, clock: FakeClock) -> None:
    offer = desk.create(CONFIG_ID, IDENTITY, now=clock())
    refused(lambda: desk.token(token_form(offer), now=offer.expires), "issuer.code_expired")
    # the sweep forgets the claims of expired offers
    assert desk.store.expire_offers(offer.expires) == 1
    record = desk.store.offer(offer.id)
    assert record is not None and (record.state, record.sealed) == ("expired", None)
    refused(lambda: desk.token(token_form(offer), now=clock()), "issuer.code_expired")


def test_malformed_token_requests(desk: OfferDesk, clock: FakeClock) -> None:
    offer = desk.create(CONFIG_ID, IDENTITY, now=clock())
    form = token_form(offer)
    error = refused(lambda: desk.token({**form, "grant_type": "authorization_code"},
                                       now=clock()), "issuer.unsupported_grant_type")
    assert error.oauth == "unsupported_grant_type"
    error = refused(lambda: desk.token({"grant_type": PRE_AUTH_GRANT}, now=clock()),
                    "issuer.missing_code")
    assert error.oauth == "invalid_request"
    refused(lambda: desk.token({**form, "pre-authorized_code": "nope"}, now=clock()),
            "issuer.unknown_code")
    no_pin = {k: v for k, v in form.items() if k != "tx_code"}
    refused(lambda: desk.token(no_pin, now=clock()), "issuer.missing_tx_code")
    # none of these counted as a PIN attempt
    assert desk.offer_status(offer.id)["pin_attempts"] == 0


# --- access tokens and the credential request --------------------------------------------


def test_redeem_needs_a_live_bearer_token(desk: OfferDesk, clock: FakeClock) -> None:
    offer = desk.create(CONFIG_ID, IDENTITY, now=clock())
    token = desk.token(token_form(offer), now=clock())["access_token"]
    for header in (None, "", "Bearer", "Bearer   ", f"Basic {token}", f"Bearer {token}x"):
        with pytest.raises(AccessError):
            desk.redeem(header, now=clock())
    assert desk.redeem(f"bearer {token}", now=clock())[1] == token  # the scheme is any case
    with pytest.raises(AccessError):
        desk.redeem(f"Bearer {token}", now=clock() + desk.config.token_ttl)


def test_the_request_must_ask_for_the_offered_configuration(tmp_path: Path,
                                                             clock: FakeClock) -> None:
    store = IssuerStore(tmp_path / "issuer.db")
    try:
        desk = OfferDesk(config_for(tmp_path), store)
        offer = desk.create(CONFIG_ID, IDENTITY, now=clock())
        record = store.offer(offer.id)
        assert record is not None
        desk.check_config(record, {"credential_configuration_id": CONFIG_ID})
        for body, code in (({"credential_identifier": "x"},
                            "issuer.unknown_credential_identifier"),
                           ({}, "issuer.missing_configuration"),
                           ({"credential_configuration_id": 3}, "issuer.missing_configuration"),
                           ({"credential_configuration_id": "diploma_dc_sd_jwt"},
                            "issuer.unknown_configuration")):
            with pytest.raises(CredentialRequestError) as err:
                desk.check_config(record, body)
            assert err.value.code == code
    finally:
        store.close()


def test_offer_status_and_an_unknown_offer(desk: OfferDesk, clock: FakeClock) -> None:
    offer = desk.create(CONFIG_ID, IDENTITY, now=clock())
    status = desk.offer_status(offer.id)
    assert status == {"id": offer.id, "credential_configuration_id": CONFIG_ID,
                      "vct": VCT_IDENTITY, "state": "open", "created": NOW,
                      "expires": offer.expires, "pin_attempts": 0}
    with pytest.raises(NotFoundError):
        desk.offer_status("no-such-offer")


# --- claims on the day of issuance ---------------------------------------------------------


def test_ages_are_derived_on_the_day_of_issuance() -> None:
    on_birthday = issuance_claims(VCT_IDENTITY, {"birthdate": "2008-03-01"}, date(2026, 3, 1))
    assert on_birthday["age_over_18"] is True and on_birthday["age_over_21"] is False
    day_before = issuance_claims(VCT_IDENTITY, {"birthdate": "2008-03-01"}, date(2026, 2, 28))
    assert day_before["age_over_18"] is False and day_before["age_over_16"] is True
    # a leap-day birthday is reached on 1 March in other years
    leap = issuance_claims(VCT_IDENTITY, {"birthdate": "2008-02-29"}, date(2026, 2, 28))
    assert leap["age_over_18"] is False
    assert issuance_claims(VCT_IDENTITY, {"birthdate": "2008-02-29"},
                           date(2026, 3, 1))["age_over_18"] is True


def test_claims_left_for_the_schema_to_judge() -> None:
    # a malformed or future birthdate, or another type: nothing is derived
    for vct, claims in ((VCT_IDENTITY, {"birthdate": "17/05/2000"}),
                        (VCT_IDENTITY, {"birthdate": "2030-01-01"}),
                        (VCT_IDENTITY, {"birthdate": 20000517}),
                        (VCT_DIPLOMA, {"birthdate": "2000-05-17"})):
        assert issuance_claims(vct, claims, date(2026, 9, 1)) == claims


def test_today_is_the_utc_date() -> None:
    assert today(NOW) == date(2026, 9, 21)
    assert today(1_790_035_199) == date(2026, 9, 21)  # 23:59:59 UTC
    assert today(1_790_035_200) == date(2026, 9, 22)
