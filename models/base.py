"""Column types and helpers every table shares: UTC timestamps, portable JSON, string enums, naming."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import overload

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import SQLModel

# Named constraints let Alembic's SQLite batch mode (and later migrations) find them again by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

# Python None is stored as SQL NULL (not the JSON text "null"), so `IS NULL` filters work.
JSONType = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")

# SQLite keeps no offset: it stores the wall clock it is given, so write UTC only (`utcnow()`).
UTCDateTime = sa.DateTime(timezone=True)

MAX_ERROR_LENGTH = 1000


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC: the one clock of every process (`pipeline/` reads
    none; use cases take `now` or `deps.now()`, which defaults to this; a test replaces the clock
    it gives `Deps`, or passes `now`)."""
    return datetime.now(UTC)


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: datetime | None) -> datetime | None:
    """`value` as an aware UTC datetime: naive values (SQLite returns those) are taken to be UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def str_enum(enum_class: type[StrEnum], length: int = 32) -> sa.Enum:
    """A VARCHAR column type holding `enum_class`'s values, read back as members.

    Not a native database enum and no CHECK constraint, so adding a value needs no migration;
    writing a string that is not a value raises `LookupError` at flush.
    """
    return sa.Enum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=length,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


def table_of(model: type[SQLModel]) -> sa.Table:
    """The Core `Table` of a `table=True` model: its `__table__`, which SQLModel sets but does not type.

    Raises `sqlalchemy.exc.NoInspectionAvailable` for a model that is not mapped, `TypeError` for
    one mapped to something other than a table.
    """
    table = sa.inspect(model).local_table
    if not isinstance(table, sa.Table):
        raise TypeError(f"{model.__name__} is mapped to {table!r}, not to a table")
    return table
