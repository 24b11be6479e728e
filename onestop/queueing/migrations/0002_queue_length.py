"""Waiting counts per centre and service group, kept by triggers on the ticket table.

Every insert, update or delete that moves a ticket into or out of ``waiting`` (or moves a
waiting ticket to another centre, group or priority state) adds to or subtracts from the
group's row, in the same statement as the change. Existing waiting tickets are counted
once when the migration runs. The triggers exist on PostgreSQL and SQLite; the statements
are written out here rather than generated, because they are part of the schema.
"""

import django.db.models.deletion
from django.db import migrations, models

_CHANGED = ("(OLD.status = 'waiting' OR NEW.status = 'waiting') AND (OLD.status <> NEW.status "
            "OR OLD.centre_id <> NEW.centre_id OR OLD.group_id <> NEW.group_id "
            "OR (OLD.priority_group_id IS NULL) <> (NEW.priority_group_id IS NULL))")

POSTGRESQL = f"""
CREATE FUNCTION queueing_queue_length() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status = 'waiting' AND NEW.status = 'waiting' THEN
        -- both rows change: lock them in one order, so two such moves cannot deadlock
        PERFORM 1 FROM queueing_queuelength
          WHERE (centre_id = OLD.centre_id AND group_id = OLD.group_id)
             OR (centre_id = NEW.centre_id AND group_id = NEW.group_id)
          ORDER BY centre_id, group_id FOR UPDATE;
    END IF;
    IF TG_OP <> 'INSERT' AND OLD.status = 'waiting' THEN
        UPDATE queueing_queuelength
           SET waiting = waiting - 1,
               waiting_priority = waiting_priority - CASE WHEN OLD.priority_group_id IS NULL THEN 0 ELSE 1 END
         WHERE centre_id = OLD.centre_id AND group_id = OLD.group_id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.status = 'waiting' THEN
        INSERT INTO queueing_queuelength (centre_id, group_id, waiting, waiting_priority)
        VALUES (NEW.centre_id, NEW.group_id, 1, CASE WHEN NEW.priority_group_id IS NULL THEN 0 ELSE 1 END)
        ON CONFLICT (centre_id, group_id) DO UPDATE
           SET waiting = queueing_queuelength.waiting + 1,
               waiting_priority = queueing_queuelength.waiting_priority + EXCLUDED.waiting_priority;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER queueing_queue_length_insert AFTER INSERT ON queueing_ticket
    FOR EACH ROW WHEN (NEW.status = 'waiting') EXECUTE FUNCTION queueing_queue_length();
CREATE TRIGGER queueing_queue_length_update AFTER UPDATE ON queueing_ticket
    FOR EACH ROW WHEN ({_CHANGED}) EXECUTE FUNCTION queueing_queue_length();
CREATE TRIGGER queueing_queue_length_delete AFTER DELETE ON queueing_ticket
    FOR EACH ROW WHEN (OLD.status = 'waiting') EXECUTE FUNCTION queueing_queue_length();
"""  # noqa: S608 -- constant text

POSTGRESQL_BACKWARD = """
DROP TRIGGER IF EXISTS queueing_queue_length_insert ON queueing_ticket;
DROP TRIGGER IF EXISTS queueing_queue_length_update ON queueing_ticket;
DROP TRIGGER IF EXISTS queueing_queue_length_delete ON queueing_ticket;
DROP FUNCTION IF EXISTS queueing_queue_length();
"""

_SQLITE_ADD = """
    INSERT OR IGNORE INTO queueing_queuelength (centre_id, group_id, waiting, waiting_priority)
        VALUES (NEW.centre_id, NEW.group_id, 0, 0);
    UPDATE queueing_queuelength
       SET waiting = waiting + 1, waiting_priority = waiting_priority + (NEW.priority_group_id IS NOT NULL)
     WHERE centre_id = NEW.centre_id AND group_id = NEW.group_id;
"""
_SQLITE_SUBTRACT = """
    UPDATE queueing_queuelength
       SET waiting = waiting - 1, waiting_priority = waiting_priority - (OLD.priority_group_id IS NOT NULL)
     WHERE centre_id = OLD.centre_id AND group_id = OLD.group_id;
"""
# SQLite runs a trigger's statements in order and its writers one at a time: no lock order.
SQLITE = [
    f"CREATE TRIGGER queueing_queue_length_insert AFTER INSERT ON queueing_ticket "
    f"WHEN NEW.status = 'waiting' BEGIN {_SQLITE_ADD} END",
    f"CREATE TRIGGER queueing_queue_length_update_old AFTER UPDATE ON queueing_ticket "
    f"WHEN {_CHANGED} AND OLD.status = 'waiting' BEGIN {_SQLITE_SUBTRACT} END",
    f"CREATE TRIGGER queueing_queue_length_update_new AFTER UPDATE ON queueing_ticket "
    f"WHEN {_CHANGED} AND NEW.status = 'waiting' BEGIN {_SQLITE_ADD} END",
    f"CREATE TRIGGER queueing_queue_length_delete AFTER DELETE ON queueing_ticket "
    f"WHEN OLD.status = 'waiting' BEGIN {_SQLITE_SUBTRACT} END",
]
SQLITE_BACKWARD = [f"DROP TRIGGER IF EXISTS queueing_queue_length_{name}"
                   for name in ("insert", "update_old", "update_new", "delete")]

COUNT_EXISTING = """
INSERT INTO queueing_queuelength (centre_id, group_id, waiting, waiting_priority)
SELECT centre_id, group_id, COUNT(*), COUNT(priority_group_id) FROM queueing_ticket
 WHERE status = 'waiting' GROUP BY centre_id, group_id
"""


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute(statement, params=None)
    else:
        raise NotImplementedError(f"queue length triggers for {vendor}")
    schema_editor.execute(COUNT_EXISTING, params=None)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in [POSTGRESQL_BACKWARD] if vendor == "postgresql" else SQLITE_BACKWARD:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('catalogue', '0001_initial'),
        ('centres', '0001_initial'),
        ('queueing', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='QueueLength',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('waiting', models.IntegerField(default=0)),
                ('waiting_priority', models.IntegerField(default=0)),
                ('centre', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='centres.centre')),
                ('group', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='catalogue.servicegroup')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('centre', 'group'), name='queue_length_unique')],
            },
        ),
        migrations.RunPython(forward, backward, elidable=False),
    ]
