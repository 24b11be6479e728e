"""A trigger moves a stream head's hash to each event inserted into the stream.

Writers advance the head's sequence number (locking the row) and insert the event; the
head's ``last_hash`` then follows in the same statement, whatever statement inserted the
event: ``audit_record``'s insert, or a hot path that writes its change and its event in
one statement (the kiosk's ticket issue on PostgreSQL).
"""

from django.db import migrations

POSTGRESQL = """
CREATE FUNCTION audit_head_follows_event() RETURNS trigger AS $$
BEGIN
    UPDATE audit_auditstream SET last_hash = NEW.hash WHERE name = NEW.stream;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_head_follows_event AFTER INSERT ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_head_follows_event();
"""
POSTGRESQL_BACKWARD = """
DROP TRIGGER IF EXISTS audit_head_follows_event ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_head_follows_event();
"""
SQLITE = """
CREATE TRIGGER audit_head_follows_event AFTER INSERT ON audit_auditevent
BEGIN
    UPDATE audit_auditstream SET last_hash = NEW.hash WHERE name = NEW.stream;
END
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS audit_head_follows_event"


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"audit head trigger for {vendor}")
    schema_editor.execute(POSTGRESQL if vendor == "postgresql" else SQLITE, params=None)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    schema_editor.execute(POSTGRESQL_BACKWARD if vendor == "postgresql" else SQLITE_BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_trigger")]
    operations = [migrations.RunPython(forward, backward, elidable=False)]
