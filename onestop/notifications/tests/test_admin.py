"""The outbox in the admin: visible to national staff, read-only, with "retry now"."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.db import transaction

from conftest import make_staff
from onestop.accounts.models import Role, User
from onestop.notifications.models import OutboxMessage, Status
from onestop.notifications.services import message_enqueue

from .conftest import read_lines

pytestmark = pytest.mark.django_db(transaction=True)
CHANGELIST = "/admin/notifications/outboxmessage/"


@pytest.fixture
def superuser(client, settings):
    settings.ONESTOP_DEMO = True  # no second factor in this test
    user = User.objects.create_superuser("root", "root@example.org", "pw-test-1")
    client.force_login(user)
    return user


def _failed_message() -> OutboxMessage:
    return OutboxMessage.objects.create(channel="sms", to="+994501234567", text="hello", status=Status.FAILED,
                                        attempts=6, last_error="gateway busy")


def test_changelist_lists_messages_and_filters(client, superuser):
    with transaction.atomic():
        message_enqueue(channel="sms", to="+994501234567", text="Your code is 987321", template="otp_code")
    _failed_message()
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    html = page.content.decode()
    assert "+994501234567" in html and "Retry now" in html
    assert client.get(CHANGELIST, {"status__exact": "failed"}).context["cl"].result_count == 1
    assert client.get(CHANGELIST, {"channel__exact": "sms"}).context["cl"].result_count == 2


def test_detail_is_read_only_and_hides_one_time_codes(client, superuser):
    with transaction.atomic():
        message = message_enqueue(channel="sms", to="+994501234567", text="Your code is 987321",
                                  template="otp_code")
    page = client.get(f"{CHANGELIST}{message.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "987321" not in html and 'name="_save"' not in html
    assert client.get(f"{CHANGELIST}add/").status_code == 403
    assert client.post(f"{CHANGELIST}{message.pk}/delete/", {"post": "yes"}).status_code == 403
    assert OutboxMessage.objects.filter(pk=message.pk).exists()


def test_retry_now_action_sends_a_failed_message(client, superuser, outbox):
    message = _failed_message()
    response = client.post(CHANGELIST, {"action": "retry_now", "_selected_action": [message.pk]})
    assert response.status_code == 302
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.SENT, 7)
    assert [line["text"] for line in read_lines(outbox / "sms.jsonl")] == ["hello"]


def test_centre_staff_do_not_see_the_outbox(client, settings):
    settings.ONESTOP_DEMO = True
    manager = make_staff("mgr", Role.CENTRE_MANAGER)
    manager.user_permissions.add(*Permission.objects.filter(content_type__app_label="notifications"))
    client.force_login(manager)
    _failed_message()
    assert client.get(CHANGELIST).status_code == 403
