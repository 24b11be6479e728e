"""Small SQL helpers for the few hot statements written by hand.

Django's ORM compiles every insert again on every call; the busiest writes (audit events,
outbox messages) use one statement built once per process from the model's metadata
instead, with values prepared by the fields themselves (so JSON, dates and foreign keys
are stored exactly as the ORM would store them).
"""

from __future__ import annotations

from django.db import connection as default_connection
from django.db.models import Field, Model

_STATEMENTS: dict[tuple[str, str], tuple[str, list[Field]]] = {}


def insert_statement(model: type[Model], connection=default_connection) -> tuple[str, list[Field]]:
    """``INSERT INTO <table> (<columns>) VALUES (%s, …)`` for every concrete field but the key."""
    key = (connection.vendor, model._meta.label)
    if key not in _STATEMENTS:
        qn = connection.ops.quote_name
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        columns = ", ".join(qn(f.column) for f in fields)
        placeholders = ", ".join(["%s"] * len(fields))
        _STATEMENTS[key] = (f"INSERT INTO {qn(model._meta.db_table)} ({columns}) VALUES ({placeholders})",  # noqa: S608 -- names from model metadata
                            fields)
    return _STATEMENTS[key]


def insert_values(instance: Model, fields: list[Field], connection=default_connection) -> list:
    """The database values of ``instance`` for ``fields``, as an insert would write them."""
    return [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]


def mark_saved(instance: Model, pk, connection=default_connection) -> None:
    """Record that ``instance`` now exists in the database with primary key ``pk``."""
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = connection.alias
