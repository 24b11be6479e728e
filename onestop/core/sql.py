"""Small SQL helpers for the few hot statements written by hand.

Django's ORM compiles every insert again on every call; the busiest writes (audit events,
outbox messages) use one statement built once per process from the model's metadata
instead, with values prepared by the fields themselves (so JSON, dates and foreign keys
are stored exactly as the ORM would store them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from django.db import connection as default_connection
from django.db.models import DateField, Field, Model

_STATEMENTS: dict[tuple[str, str], tuple[str, list[Field]]] = {}

#: The longest statement (characters) and the most parameters psycopg keeps its parsing of.
LONG_STATEMENT_LENGTH = 16384
LONG_STATEMENT_PARAMS = 256


def cache_long_statements() -> None:
    """Let psycopg keep the parsing of the hot one-statement writes too.

    With server-side binding psycopg splits a statement at its placeholders on every
    execution unless the statement is at most 4,096 bytes with at most 50 parameters, when
    it keeps the result in a small LRU cache. A booking's or a kiosk issue's single
    statement is longer, and parsing it again cost about half a millisecond a request. The
    limits are module constants of ``psycopg._queries`` read on every call; if a psycopg
    release drops them, nothing changes (``test_sql.py`` says so).
    """
    try:
        from psycopg import _queries
    except ImportError:  # SQLite-only installs
        return
    if hasattr(_queries, "MAX_CACHED_STATEMENT_LENGTH"):
        _queries.MAX_CACHED_STATEMENT_LENGTH = max(_queries.MAX_CACHED_STATEMENT_LENGTH, LONG_STATEMENT_LENGTH)
    if hasattr(_queries, "MAX_CACHED_STATEMENT_PARAMS"):
        _queries.MAX_CACHED_STATEMENT_PARAMS = max(_queries.MAX_CACHED_STATEMENT_PARAMS, LONG_STATEMENT_PARAMS)


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


# Field types whose database value is the attribute itself (or, for integers on
# PostgreSQL, the attribute wrapped in psycopg's sized integer) when it is exactly of the
# Python type named: Django's preparation (about 10 µs a field) does no more than that.
_TEXT = ("CharField", "TextField", "SlugField", "EmailField")
_INTEGER = ("IntegerField", "BigIntegerField", "SmallIntegerField", "PositiveIntegerField", "PositiveBigIntegerField",
            "PositiveSmallIntegerField", "AutoField", "BigAutoField", "SmallAutoField")


def _identity(value):
    return value


def _fast_path(field: Field, connection) -> tuple[tuple[type, ...], Any]:
    """``(types, convert)``: a value of one of ``types`` is sent as ``convert(value)``.

    ``datetime`` (on PostgreSQL, for date-time fields) is passed only when aware: Django
    warns about a naive one and makes it aware.
    """
    target = getattr(field, "target_field", None) if field.is_relation else field
    if target is None or getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return (), None
    if type(field).pre_save not in (Field.pre_save, DateField.pre_save):  # DateField's: auto_now only
        return (), None
    if type(target).get_db_prep_save is not Field.get_db_prep_save:
        return (), None
    internal = target.get_internal_type()
    if internal in _TEXT:
        return (str,), _identity
    if internal in _INTEGER:
        sized = getattr(connection.ops, "integerfield_type_map", {}).get(internal)
        return (int,), sized or _identity
    if internal == "DateTimeField" and connection.vendor == "postgresql":
        return (datetime,), _identity
    return (), None


_FAST: dict[tuple[str, str, str], tuple[tuple[type, ...], Any]] = {}


def insert_values(instance: Model, fields: Sequence[Field], connection=default_connection) -> list:
    """The database values of ``instance`` for ``fields``, as an insert would write them.

    ``None``, strings of text fields, integers of integer fields (keys too) and, on
    PostgreSQL, aware date-times take the short way of :func:`_fast_path`; every other
    value is prepared by its field (``pre_save`` then ``get_db_prep_save``).
    ``test_sql.py`` checks both give the same values of the same types.
    """
    values = []
    label = instance._meta.label
    alias = connection.alias
    for f in fields:
        key = (alias, label, f.attname)
        fast = _FAST.get(key)
        if fast is None:
            fast = _FAST[key] = _fast_path(f, connection)
        types, convert = fast
        value = getattr(instance, f.attname)
        kind = type(value)
        if convert is not None and (value is None or (kind in types and (
                kind is not datetime or value.utcoffset() is not None))):
            values.append(None if value is None else convert(value))
        else:
            values.append(f.get_db_prep_save(f.pre_save(instance, True), connection))
    return values


def mark_saved(instance: Model, pk, connection=default_connection) -> None:
    """Record that ``instance`` now exists in the database with primary key ``pk``."""
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = connection.alias


def _concrete_field(model: type[Model], name: str) -> Field:
    """``model._meta.get_field(name)``: the helpers here name concrete fields, never a reverse relation."""
    return cast(Field, model._meta.get_field(name))


def select_statement(model: type[Model], names: tuple[str, ...], where: tuple[str, ...],
                     connection=default_connection) -> str:
    """``SELECT <names> FROM <table> WHERE <a> = %s AND …`` for fields of ``model``.

    Each ``where`` item is a field name with an optional operator after a space
    (``"start >="``); the parameters follow in the same order.
    """
    qn = connection.ops.quote_name
    opts = model._meta
    table = qn(opts.db_table)
    columns = ", ".join(f"{table}.{qn(_concrete_field(model, name).column)}" for name in names)
    conditions = []
    for item in where:
        name, _, operator = item.partition(" ")
        conditions.append(f"{table}.{qn(_concrete_field(model, name).column)} {operator or '='} %s")
    return f"SELECT {columns} FROM {table} WHERE {' AND '.join(conditions)}"  # noqa: S608 -- names from model metadata


def _converters(model: type[Model], name: str, connection) -> tuple[list, Any]:
    field = _concrete_field(model, name)
    col = field.get_col(model._meta.db_table)
    return connection.ops.get_db_converters(col) + field.get_db_converters(connection), col


def from_db(model: type[Model], name: str, value, connection=default_connection):
    """A value read by a hand-written statement from the field ``name`` of ``model``,
    converted as the ORM converts it (time zones, SQLite's text dates)."""
    functions, col = _converters(model, name, connection)
    for function in functions:
        value = function(value, col, connection)
    return value


def fetch_rows(model: type[Model], names: tuple[str, ...], sql: str, params: list,
               connection=default_connection) -> list[tuple]:
    """Run ``sql`` (selecting the fields ``names`` of ``model``) and convert each value as
    the ORM's ``values_list`` would (:func:`from_db`)."""
    converters = [_converters(model, name, connection) for name in names]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        raw = cursor.fetchall()
    if not any(functions for functions, _ in converters):
        return raw
    rows = []
    for row in raw:
        values = []
        for value, (functions, col) in zip(row, converters, strict=True):
            for function in functions:
                value = function(value, col, connection)
            values.append(value)
        rows.append(tuple(values))
    return rows


def prep(model: type[Model], name: str, value, connection=default_connection):
    """``value`` as the field ``name`` of ``model`` sends it in a query (SQLite: dates as text)."""
    return _concrete_field(model, name).get_db_prep_value(value, connection, prepared=False)
