"""A centre manager of one centre cannot see or change another centre's data; denied requests change nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import make_staff
from onestop.accounts.models import Role
from onestop.accounts.scope import can_manage_centre, centres_for
from onestop.centres.models import Centre, Counter

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_managers(loaded_mini, settings):
    settings.ONESTOP_DEMO = True  # no second factor in these tests
    hq, north = Centre.objects.get(code="hq"), Centre.objects.get(code="north")
    from django.contrib.auth.models import Permission

    manager = make_staff("manager.hq", Role.CENTRE_MANAGER, centres=[hq])
    manager.user_permissions.set(Permission.objects.filter(
        content_type__app_label__in=["centres", "catalogue"]))
    return manager, hq, north


def test_scope_helper(two_managers):
    manager, hq, north = two_managers
    assert list(centres_for(manager)) == [hq]
    assert can_manage_centre(manager, hq) and not can_manage_centre(manager, north)


def test_admin_lists_only_own_centre(two_managers):
    manager, hq, north = two_managers
    client = Client()
    client.force_login(manager)
    html = client.get("/admin/centres/centre/").content.decode()
    assert f"/admin/centres/centre/{hq.pk}/change/" in html
    assert f"/admin/centres/centre/{north.pk}/change/" not in html


def test_admin_refuses_other_centre_and_changes_nothing(two_managers):
    manager, hq, north = two_managers
    client = Client()
    client.force_login(manager)
    url = f"/admin/centres/centre/{north.pk}/change/"
    assert client.get(url).status_code in (302, 403, 404)
    before = Centre.objects.values().get(pk=north.pk)
    response = client.post(url, {"code": "hacked", "kind": "fixed", "name": '{"en": "x"}', "address": "{}",
                                 "time_zone": "UTC", "hours": "{}", "position": 0})
    assert response.status_code in (302, 403, 404)
    assert Centre.objects.values().get(pk=north.pk) == before
    counter = Counter.objects.get(centre=north, number=1)
    response = client.post(f"/admin/centres/counter/{counter.pk}/change/", {"centre": north.pk, "number": 9})
    assert response.status_code in (302, 403, 404)
    assert Counter.objects.get(pk=counter.pk).number == 1


def test_admin_allows_own_centre_change(two_managers):
    manager, hq, north = two_managers
    client = Client()
    client.force_login(manager)
    assert client.get(f"/admin/centres/centre/{hq.pk}/change/").status_code == 200


def test_admin_requires_second_factor_for_administrators_outside_demo(loaded_mini, settings):
    settings.ONESTOP_DEMO = False
    admin = make_staff("nat", Role.NATIONAL_ADMIN)
    client = Client()
    client.force_login(admin)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/two-factor/")
    settings.ONESTOP_DEMO = True
    assert client.get("/admin/").status_code == 200


def test_totp_verification_unlocks_admin(loaded_mini, settings):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    settings.ONESTOP_DEMO = False
    admin = make_staff("nat2", Role.NATIONAL_ADMIN)
    client = Client()
    client.force_login(admin)
    assert client.get("/accounts/two-factor/").status_code == 200
    device = TOTPDevice.objects.get(user=admin)
    wrong = client.post("/accounts/two-factor/?next=/admin/", {"token": "000000" if totp(device.bin_key) else "1"})
    assert wrong.status_code == 200 and "not valid" in wrong.content.decode()
    # the failed attempt throttles the device; a user waits, the test resets the throttle
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    device.refresh_from_db()
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    ok = client.post("/accounts/two-factor/?next=/admin/", {"token": code})
    assert ok.status_code == 302 and ok["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
