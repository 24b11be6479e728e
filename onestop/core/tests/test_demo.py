import pytest
from django.core.management import call_command

from conftest import MINI_PACK
from onestop.accounts.models import Role, User

pytestmark = pytest.mark.django_db


def test_demo_command_creates_scoped_accounts_and_is_repeatable(settings):
    settings.ONESTOP_PACK = "zz"
    call_command("demo", "--pack", str(MINI_PACK))
    op = User.objects.get(username="op.hq.2")
    assert op.role == Role.OPERATOR and op.counter.number == 2 and op.counter.centre.code == "hq"
    assert list(User.objects.get(username="manager.north").centres.values_list("code", flat=True)) == ["north"]
    assert User.objects.get(username="officer.mia").agencies.get().code == "mia"
    assert User.objects.get(username="admin").check_password("demo")
    count = User.objects.count()
    call_command("demo", "--pack", str(MINI_PACK))  # re-running keeps the data
    assert User.objects.count() == count
