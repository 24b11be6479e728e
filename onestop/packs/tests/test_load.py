from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest

from onestop.audit.models import AuditEvent
from onestop.catalogue.models import Service, Tier
from onestop.centres.models import Centre, Counter
from onestop.packs.export import pack_export
from onestop.packs.schema import validate_pack
from onestop.packs.services import pack_load

from .test_validation import edit

pytestmark = pytest.mark.django_db


def test_first_load_creates_then_second_load_reports_zero_changes(mini_pack):
    first = pack_load(mini_pack)
    assert first.count > 0
    assert "created service id-card" in first.changes
    assert Service.objects.filter(country__code="zz").count() == 2
    assert Tier.objects.get(service__code="id-card", code="urgent").fee == Decimal("50.00")
    second = pack_load(mini_pack)
    assert second.changes == []


def test_edited_pack_updates_in_place_and_reports_changes(mini_pack):
    pack_load(mini_pack)
    service_id = Service.objects.get(code="id-card").pk
    edit(mini_pack, "services.yaml", "handling_minutes: 8", "handling_minutes: 9.5")
    edit(mini_pack, "services.yaml", 'fee: "50.00"', 'fee: "55.00"')
    result = pack_load(mini_pack)
    assert "updated service id-card: handling_minutes 8.00 -> 9.5" in result.changes
    assert "updated tier id-card/urgent: fee 50.00 -> 55.00" in result.changes
    assert len(result.changes) == 2
    assert Service.objects.get(code="id-card").pk == service_id


def test_fee_and_term_changes_are_audit_events(mini_pack):
    pack_load(mini_pack)
    edit(mini_pack, "services.yaml", 'fee: "50.00"', 'fee: "55.00"')
    edit(mini_pack, "services.yaml", "term_days: 10", "term_days: 8")
    pack_load(mini_pack)
    events = AuditEvent.objects.filter(action="tier.terms_changed").order_by("seq")
    assert [(e.stream, e.before, e.after) for e in events] == [
        ("agency:zz:mia", {"fee": "5.00", "term_days": 10, "same_day": False},
         {"fee": "5.00", "term_days": 8, "same_day": False}),
        ("agency:zz:mia", {"fee": "50.00", "term_days": 3, "same_day": False},
         {"fee": "55.00", "term_days": 3, "same_day": False}),
    ]


def test_removed_service_and_centre_are_archived_not_deleted(mini_pack):
    pack_load(mini_pack)
    text = (mini_pack / "services.yaml").read_text(encoding="utf-8")
    start = text.index("  - code: birth")
    (mini_pack / "services.yaml").write_text(text[:start], encoding="utf-8")
    text = (mini_pack / "centres.yaml").read_text(encoding="utf-8")
    start, end = text.index("  - code: north"), text.index("  - code: bus")
    (mini_pack / "centres.yaml").write_text(text[:start] + text[end:], encoding="utf-8")
    result = pack_load(mini_pack)
    assert "archived service birth" in result.changes
    assert "archived centre north" in result.changes
    birth = Service.objects.get(code="birth")
    assert birth.archived_at is not None
    assert Centre.objects.get(code="north").archived_at is not None
    assert Counter.objects.filter(centre__code="north").count() == 1  # history keeps its references
    assert pack_load(mini_pack).changes == []


def test_round_trip_export_validate_load_changes_nothing(mini_pack, tmp_path):
    pack_load(mini_pack)
    out = pack_export("zz", tmp_path / "exported")
    assert validate_pack(out).errors == []
    assert pack_load(out).changes == []


@pytest.mark.parametrize("code", ["az", "af"])
def test_real_packs_validate_load_and_round_trip(code, tmp_path, settings):
    from conftest import PACKS

    report = validate_pack(PACKS / code)
    assert [str(e) for e in report.errors] == []
    first = pack_load(PACKS / code)
    assert first.count > 0
    assert pack_load(PACKS / code).changes == []
    out = pack_export(code, tmp_path / code)
    assert [str(e) for e in validate_pack(out).errors] == []
    assert pack_load(out).changes == []


def test_cli_validate_prints_file_line_path_message(mini_pack):
    edit(mini_pack, "centres.yaml", "- {group: civil, priority: 2}", "- {group: passprt, priority: 2}")
    proc = subprocess.run([sys.executable, "manage.py", "pack", "validate", str(mini_pack)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        "centres.yaml:19: centres[0].counters[0].groups[1]: unknown service group 'passprt'"]


def test_cli_validate_accepts_a_valid_pack(mini_pack):
    proc = subprocess.run([sys.executable, "manage.py", "pack", "validate", str(mini_pack)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("code", ["az", "af"])
def test_sample_ids_are_valid_and_distinct(code):
    from conftest import PACKS
    from onestop.packs.national_id import NationalIdFormat

    proc = subprocess.run([sys.executable, "manage.py", "pack", "sample-ids", str(PACKS / code), "50"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    ids = proc.stdout.split()
    assert len(ids) == 50 and len(set(ids)) == 50
    fmt = NationalIdFormat.from_pack(validate_pack(PACKS / code).data["country"]["national_id"])
    assert all(fmt.is_valid(value) for value in ids)
