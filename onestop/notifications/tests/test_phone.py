from __future__ import annotations

import pytest

from onestop.notifications.services import normalise_phone


@pytest.mark.parametrize("raw", ["050 123 45 67", "0501234567", "+994 50 123 45 67", "(050) 123-45-67",
                                 "00994501234567"])
def test_azerbaijani_mobile_numbers_become_e164(raw):
    assert normalise_phone(raw, "AZ") == "+994501234567"


def test_region_is_case_insensitive_and_international_numbers_keep_their_country():
    assert normalise_phone("050 123 45 67", "az") == "+994501234567"
    assert normalise_phone("+7 912 345-67-89", "AZ") == "+79123456789"


@pytest.mark.parametrize("raw", ["", "   ", "hello", "050 123", "+994 00 000 00 00", "12345678901234567890"])
def test_bad_numbers_raise_value_error(raw):
    with pytest.raises(ValueError):
        normalise_phone(raw, "AZ")


def test_error_message_is_clear():
    with pytest.raises(ValueError, match="is not a valid phone number"):
        normalise_phone("050 123", "AZ")
    with pytest.raises(ValueError, match="Unknown phone region"):
        normalise_phone("050 123 45 67", "XX")


def test_a_normalised_number_reads_back_as_itself_in_any_region():
    """The service reads the number the view normalised: it is remembered as valid, and only it."""
    from onestop.notifications import services

    e164 = services.normalise_phone("050 123 45 67", "AZ")
    assert e164 == "+994501234567"
    assert e164 in services._VALID_E164
    for region in ("AZ", "AF", ""):
        assert services.normalise_phone(e164, region) == e164
    with pytest.raises(ValueError):
        services.normalise_phone("+99450123456", "AZ")  # one digit short: never remembered
    assert "+99450123456" not in services._VALID_E164
