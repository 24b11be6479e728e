"""Malformed packs: each mistake gets its own precise `file:line: path: message`, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from onestop.catalogue.models import Agency, Service
from onestop.packs.models import Country
from onestop.packs.schema import validate_pack
from onestop.packs.services import PackInvalid, pack_load


def edit(pack: Path, file: str, old: str, new: str, count: int = 1) -> None:
    path = pack / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text {old!r} not found in {file}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def line_of(pack: Path, file: str, needle: str, occurrence: int = 1) -> int:
    seen = 0
    for number, line in enumerate((pack / file).read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in {file}")


def errors(pack: Path) -> list[str]:
    return [str(e) for e in validate_pack(pack).errors]


def test_fixture_pack_is_valid(mini_pack):
    assert errors(mini_pack) == []


CASES = [
    # (id, file, old, new, expected-lines builder)
    ("unknown-group-on-counter", "centres.yaml", "- {group: civil, priority: 2}", "- {group: passprt, priority: 2}",
     lambda p: [f"centres.yaml:{line_of(p, 'centres.yaml', 'passprt')}: centres[0].counters[0].groups[1]: "
                "unknown service group 'passprt'"]),
    ("duplicate-agency-code", "agencies.yaml", "code: justice", "code: mia",
     lambda p: [f"agencies.yaml:{line_of(p, 'agencies.yaml', 'code: mia', 2)}: agencies[1].code: "
                f"duplicate agency code 'mia' (first at line {line_of(p, 'agencies.yaml', 'code: mia')})",
                # the service that named the renamed agency now points at nothing
                f"services.yaml:{line_of(p, 'services.yaml', 'agency: justice')}: services[1].agency: "
                "unknown agency 'justice'"]),
    ("duplicate-service-code", "services.yaml", "code: birth", "code: id-card",
     lambda p: [f"services.yaml:{line_of(p, 'services.yaml', 'code: id-card', 2)}: services[1].code: "
                f"duplicate service code 'id-card' (first at line {line_of(p, 'services.yaml', 'code: id-card')})"]),
    ("unknown-agency", "services.yaml", "agency: justice", "agency: justise",
     lambda p: [f"services.yaml:{line_of(p, 'services.yaml', 'justise')}: services[1].agency: unknown agency 'justise'"]),
    ("negative-fee", "services.yaml", 'fee: "50.00"', 'fee: "-50.00"',
     lambda p: [f"services.yaml:{line_of(p, 'services.yaml', '-50.00')}: services[0].tiers[1].fee: "
                "fee must not be negative, got -50.00"]),
    ("fee-in-other-currency", "services.yaml", 'fee: "5.00"', 'fee: "5.00 USD"',
     lambda p: [f"services.yaml:{line_of(p, 'services.yaml', 'USD')}: services[0].tiers[0].fee: "
                "fee is in USD, but the pack currency is AZN"]),
    ("fee-not-a-number", "services.yaml", 'fee: "70.00"', 'fee: "seventy"',
     lambda p: [f"services.yaml:{line_of(p, 'services.yaml', 'seventy')}: services[0].tiers[2].fee: "
                "fee must be an amount in AZN, got 'seventy'"]),
    ("fee-too-many-decimals", "services.yaml", 'fee: "5.00"', 'fee: "5.005"',
     lambda p: [f"services.yaml:{line_of(p, 'services.yaml', '5.005')}: services[0].tiers[0].fee: "
                "fee has more than 2 decimals for AZN: 5.005"]),
    ("overlapping-hours", "centres.yaml", 'mon: ["09:00-13:00", "14:00-18:00"]', 'mon: ["09:00-13:00", "12:00-18:00"]',
     lambda p: [f"centres.yaml:{line_of(p, 'centres.yaml', '12:00-18:00')}: centres[1].hours.mon[1]: "
                "opening hours 12:00-18:00 overlap 09:00-13:00 on mon"]),
    ("missing-translation", "agencies.yaml", "name: {en: Ministry of Justice, fa: وزارت عدلیه}",
     "name: {en: Ministry of Justice}",
     lambda p: [f"agencies.yaml:{line_of(p, 'agencies.yaml', 'Ministry of Justice')}: agencies[1].name: "
                "missing 'fa' translation"]),
    ("unknown-holidays-country", "pack.yaml", "country: AZ", "country: XQ",
     lambda p: [f"pack.yaml:{line_of(p, 'pack.yaml', 'XQ')}: holidays.country: unknown holidays country 'XQ'"]),
    ("tier-without-term", "services.yaml", "        term_days: 3\n", "",
     lambda p: [f"services.yaml:{line_of(p, 'services.yaml', 'code: urgent')}: services[0].tiers[1]: "
                "tier has no term: give term_days (working days) or same_day: true"]),
    ("counter-without-groups", "centres.yaml", "        groups: [{group: civil, priority: 1}]", "        groups: []",
     lambda p: [f"centres.yaml:{line_of(p, 'centres.yaml', 'groups: []')}: centres[2].counters[0].groups: "
                "counter has no service groups"]),
    ("duplicate-prefix", "services.yaml", "prefix: D", "prefix: A",
     lambda p: [f"services.yaml:{line_of(p, 'services.yaml', 'prefix: A', 2)}: service_groups[1].prefix: "
                "prefix 'A' is already used by service group 'idcard'"]),
    ("unknown-time-zone", "pack.yaml", "time_zone: Asia/Baku", "time_zone: Asia/Bakuu",
     lambda p: [f"pack.yaml:{line_of(p, 'pack.yaml', 'Bakuu')}: time_zone: unknown time zone 'Asia/Bakuu'"]),
    ("unknown-weekday", "pack.yaml", "weekend: [sat, sun]", "weekend: [sat, sunday]",
     lambda p: [f"pack.yaml:{line_of(p, 'pack.yaml', 'sunday')}: weekend[1]: "
                "unknown weekday 'sunday' (use mon tue wed thu fri sat sun)"]),
    ("duplicate-counter-number", "centres.yaml", "      - number: 2", "      - number: 1",
     lambda p: [f"centres.yaml:{line_of(p, 'centres.yaml', '- number: 1', 2)}: centres[0].counters[1].number: "
                "counter number 1 is already used in this centre"]),
    ("mobile-without-route", "centres.yaml",
     "    route:\n      - date: 2026-12-01\n        place: {en: Village square, fa: میدان قریه}\n        hours: \"10:00-16:00\"\n",
     "",
     lambda p: [f"centres.yaml:{line_of(p, 'centres.yaml', 'code: bus')}: centres[2].route: "
                "a mobile unit needs a route of dated stops"]),
    ("bad-prefix", "services.yaml", "prefix: D", "prefix: dd",
     lambda p: [f"services.yaml:{line_of(p, 'services.yaml', 'prefix: dd')}: service_groups[1].prefix: "
                "prefix must be one capital letter A-Z, got 'dd'"]),
    ("unknown-channel", "services.yaml", "channels: [hall, mobile]", "channels: [hall, post]",
     lambda p: [f"services.yaml:{line_of(p, 'services.yaml', 'post]')}: services[1].channels[1]: "
                "unknown channel 'post' (use hall, online, mobile)"]),
    ("extra-language-key", "agencies.yaml", "name: {en: Ministry of Internal Affairs, fa: وزارت امور داخله}",
     "name: {en: Ministry of Internal Affairs, fa: وزارت امور داخله, de: Innenministerium}",
     lambda p: [f"agencies.yaml:{line_of(p, 'agencies.yaml', 'Innenministerium')}: agencies[0].name.de: "
                "'de' is not a language of this pack"]),
    ("bad-id-example", "pack.yaml", "example: '60487647590'", "example: '60487647591'",
     lambda p: [f"pack.yaml:{line_of(p, 'pack.yaml', '60487647591')}: national_id.example: "
                "example '60487647591' is not valid in this format"]),
    ("invalid-yaml", "rules.yaml", "  slot_minutes: 15", "  slot_minutes: [15",
     lambda p: None),
    ("rule-out-of-range", "rules.yaml", "share_for_bookings: 0.5", "share_for_bookings: 1.5",
     lambda p: [f"rules.yaml:{line_of(p, 'rules.yaml', '1.5')}: booking.share_for_bookings: "
                "must be between 0 and 1, got 1.5"]),
    ("handling-too-long", "services.yaml", "handling_minutes: 12", "handling_minutes: 500",
     lambda p: [f"services.yaml:{line_of(p, 'services.yaml', 'handling_minutes: 500')}: services[1].handling_minutes: "
                "must be at most 480, got 500"]),
    ("unknown-closure-centre", "pack.yaml", "      name: {en: Maintenance day, fa: روز ترمیم}",
     "      name: {en: Maintenance day, fa: روز ترمیم}\n      centres: [hq, nowhere]",
     lambda p: [f"pack.yaml:{line_of(p, 'pack.yaml', 'nowhere')}: holidays.closures[0].centres[1]: "
                "unknown centre 'nowhere'"]),
]


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_malformed_pack_reports_exact_error_and_writes_nothing(mini_pack, case):
    _, file, old, new, expected = case
    edit(mini_pack, file, old, new)
    found = errors(mini_pack)
    wanted = expected(mini_pack)
    if wanted is None:  # syntax error: one message naming the file and the line
        assert len(found) == 1
        assert found[0].startswith(f"rules.yaml:{line_of(mini_pack, 'rules.yaml', 'slot_minutes')}: ") or \
            found[0].startswith("rules.yaml:"), found
        assert "invalid YAML" in found[0]
    else:
        assert found == wanted
    with pytest.raises(PackInvalid):
        pack_load(mini_pack)
    assert Country.objects.count() == 0
    assert Agency.objects.count() == 0
    assert Service.objects.count() == 0


@pytest.mark.django_db
def test_invalid_edit_of_a_loaded_pack_changes_nothing(mini_pack):
    pack_load(mini_pack)
    before = list(Service.objects.values_list("code", "name", "handling_minutes").order_by("code"))
    edit(mini_pack, "services.yaml", "handling_minutes: 8", "handling_minutes: 9")
    edit(mini_pack, "services.yaml", "agency: justice", "agency: nobody")
    with pytest.raises(PackInvalid):
        pack_load(mini_pack)
    assert list(Service.objects.values_list("code", "name", "handling_minutes").order_by("code")) == before


def test_several_errors_are_all_listed(mini_pack):
    edit(mini_pack, "services.yaml", "agency: justice", "agency: nobody")
    edit(mini_pack, "centres.yaml", "- {group: civil, priority: 2}", "- {group: passprt, priority: 2}")
    found = errors(mini_pack)
    assert len(found) == 2
    assert any("unknown agency 'nobody'" in e for e in found)
    assert any("unknown service group 'passprt'" in e for e in found)


def test_missing_file_is_reported(mini_pack):
    (mini_pack / "rules.yaml").unlink()
    assert errors(mini_pack) == ["rules.yaml:1: (top): file is missing from the pack"]
