"""What the revisions in ``versions/`` share, so that each says only what it changes.

A revision relies on what these do at that revision: once a revision uses one, what it does never
changes (write a new one instead). Like the revisions, this imports nothing of sweepkit's runtime
(its schema can change later; what a revision did cannot).
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

#: A revision's ``upgrade`` or ``downgrade``.
Step = Callable[[], None]
#: The length of sweepkit's ids (sweeps, runs, agents, tokens) in every revision so far.
ID = 16


def timestamp() -> sa.types.TypeEngine:
    """A moment: timestamptz on PostgreSQL; sortable "YYYY-MM-DD HH:MM:SS.fff" UTC text on SQLite."""
    return sa.DateTime(timezone=True).with_variant(sa.String(32), "sqlite")


def ids(*names: str, nullable: bool = False) -> list[sa.Column]:
    """A column of an id for each name."""
    return [sa.Column(name, sa.String(ID), nullable=nullable) for name in names]


def belongs_to(
    table: str, column: str, parent: str, *, on_delete: str = "CASCADE"
) -> sa.ForeignKeyConstraint:
    """``table.column`` names a row of ``parent`` (by its ``id``), named as sweepkit names foreign keys."""
    return sa.ForeignKeyConstraint(
        [column], [f"{parent}.id"], name=f"fk_{table}_{column}_{parent}", ondelete=on_delete
    )


def new_table(
    name: str, *columns: sa.Column, key: tuple[str, ...] = ("id",), extra: tuple = ()
) -> tuple[Step, Step]:
    """``upgrade`` and ``downgrade`` of a revision that adds one table with this primary ``key``."""

    def upgrade() -> None:
        op.create_table(name, *columns, sa.PrimaryKeyConstraint(*key, name=f"pk_{name}"), *extra)

    def downgrade() -> None:
        op.drop_table(name)

    return upgrade, downgrade


def new_columns(
    *added: tuple[str, sa.Column], index: tuple[str, str, list[str]] | None = None
) -> tuple[Step, Step]:
    """``upgrade`` and ``downgrade`` of a revision that adds these ``(table, column)``s (and an
    ``(name, table, columns)`` index); the downgrade drops them in reverse order with
    ``ALTER TABLE ... DROP COLUMN``, which SQLite has as PostgreSQL does."""

    def upgrade() -> None:
        for table, column in added:
            op.add_column(table, column)
        if index is not None:
            op.create_index(*index)

    def downgrade() -> None:
        if index is not None:
            op.drop_index(index[0], table_name=index[1])
        for table, column in reversed(added):
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column.name}")

    return upgrade, downgrade
