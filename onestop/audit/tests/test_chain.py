"""Tampering with the audit trail by UPDATE, DELETE or insertion is detected; PostgreSQL refuses it."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.db import DatabaseError, connection, transaction

from onestop.audit.models import AuditEvent
from onestop.audit.services import audit_record, event_digest
from onestop.audit.verify import verify_all

pytestmark = pytest.mark.django_db(transaction=True)


def _record(n: int, stream: str = "centre:zz:hq") -> None:
    for i in range(n):
        with transaction.atomic():
            audit_record(stream=stream, action="ticket.issued", object_type="queueing.ticket", object_id=str(i),
                         after={"number": f"A{i + 1:03d}"})


def _raw(sql: str, params=()) -> None:
    """Write behind the application's back, as an intruder with database access would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")  # bypass the trigger (superuser)
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")


def test_intact_chains_verify():
    _record(5)
    _record(3, "centre:zz:north")
    streams, events, breaks = verify_all()
    assert (streams, events, breaks) == (2, 8, [])


def test_each_stream_is_its_own_chain():
    _record(2)
    _record(2, "agency:zz:mia")
    rows = list(AuditEvent.objects.order_by("stream", "seq").values_list("stream", "seq"))
    assert rows == [("agency:zz:mia", 1), ("agency:zz:mia", 2), ("centre:zz:hq", 1), ("centre:zz:hq", 2)]


def test_update_is_detected():
    _record(5)
    target = AuditEvent.objects.get(stream="centre:zz:hq", seq=3)
    _raw("UPDATE audit_auditevent SET after = %s WHERE id = %s", ['{"number": "A999"}', target.id])
    _, _, breaks = verify_all()
    assert len(breaks) == 1
    assert (breaks[0].seq, breaks[0].event_id) == (3, target.id)
    assert "row altered" in breaks[0].reason


def test_delete_in_the_middle_is_detected():
    _record(5)
    target = AuditEvent.objects.get(stream="centre:zz:hq", seq=2)
    _raw("DELETE FROM audit_auditevent WHERE id = %s", [target.id])
    _, _, breaks = verify_all()
    assert len(breaks) == 1 and breaks[0].seq == 3
    assert "rows missing" in breaks[0].reason


def test_delete_at_the_end_is_detected():
    _record(4)
    target = AuditEvent.objects.get(stream="centre:zz:hq", seq=4)
    _raw("DELETE FROM audit_auditevent WHERE id = %s", [target.id])
    _, _, breaks = verify_all()
    assert len(breaks) == 1 and "rows deleted at the end" in breaks[0].reason


def test_insertion_in_the_middle_is_detected():
    _record(4)
    # An intruder renumbers rows 3..4 to 4..5 and inserts a forged row 3 with a well-formed hash.
    _raw("UPDATE audit_auditevent SET seq = seq + 10 WHERE stream = %s AND seq >= 3", ["centre:zz:hq"])
    _raw("UPDATE audit_auditevent SET seq = seq - 9 WHERE stream = %s AND seq >= 13", ["centre:zz:hq"])
    second = AuditEvent.objects.get(stream="centre:zz:hq", seq=2)
    forged_after = {"number": "A777"}
    digest = event_digest(stream=second.stream, seq=3, created_at=second.created_at, actor_name="system",
                          action="ticket.issued", object_type="queueing.ticket", object_id="99",
                          before=None, after=forged_after, prev_hash=second.hash)
    _raw("INSERT INTO audit_auditevent (stream, seq, created_at, actor_name, action, object_type, object_id, "
         "before, after, prev_hash, hash) VALUES (%s, 3, %s, 'system', 'ticket.issued', 'queueing.ticket', '99', "
         "NULL, %s, %s, %s)", [second.stream, second.created_at, '{"number": "A777"}', second.hash, digest])
    _, _, breaks = verify_all()
    assert len(breaks) == 1
    assert breaks[0].seq == 4  # the row after the forgery no longer links to its predecessor
    assert "previous-hash link" in breaks[0].reason or "altered" in breaks[0].reason


def test_audit_verify_command_exits_1_naming_the_row(tmp_path):
    _record(3)
    target = AuditEvent.objects.get(stream="centre:zz:hq", seq=2)
    _raw("UPDATE audit_auditevent SET actor_name = 'mallory' WHERE id = %s", [target.id])
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as excinfo:
        call_command("audit", "verify")
    assert excinfo.value.returncode == 1


def test_audit_record_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        audit_record(stream="x", action="y", object_type="t", object_id="1")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only")
def test_postgresql_trigger_refuses_update_and_delete():
    _record(2)
    target = AuditEvent.objects.get(stream="centre:zz:hq", seq=1)
    for sql in ["UPDATE audit_auditevent SET action = 'x' WHERE id = %s", "DELETE FROM audit_auditevent WHERE id = %s"]:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [target.id])
    assert AuditEvent.objects.get(pk=target.pk).action == "ticket.issued"
    assert verify_all()[2] == []


def test_verify_cli_on_a_tampered_copy_of_a_database(tmp_path):
    """`onestop audit verify` passes on a database and fails on a tampered copy (SQLite files)."""
    if connection.vendor != "sqlite":
        pytest.skip("copies a SQLite file")
    import sqlite3

    from django.conf import settings

    _record(3)
    source = settings.DATABASES["default"]["NAME"]
    copy = tmp_path / "copy.sqlite3"
    # SQLite's backup API copies a consistent snapshot, WAL included, without disturbing
    # the live test database.
    with sqlite3.connect(source) as live, sqlite3.connect(copy) as target:
        live.backup(target)
    env_ok = {"DATABASE_URL": f"sqlite:///{copy}", "PATH": "/usr/bin:/bin"}
    ok = subprocess.run([sys.executable, "manage.py", "audit", "verify"], env=env_ok, capture_output=True,
                        text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    raw = sqlite3.connect(copy)
    raw.execute("UPDATE audit_auditevent SET action = 'forged' WHERE seq = 2")
    raw.commit()
    raw.close()
    bad = subprocess.run([sys.executable, "manage.py", "audit", "verify"], env=env_ok, capture_output=True,
                         text=True, check=False)
    assert bad.returncode == 1
    assert "stream centre:zz:hq: seq 2" in bad.stderr
