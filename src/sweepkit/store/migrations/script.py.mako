"""${message} (${create_date.date() if create_date else ""})

Write migrations that keep every row: sweepkit opens stores made by older versions. Do not import
sweepkit's runtime schema here; spell the tables out as they are at this revision (``ops`` helps).
Remember to bump SCHEMA_REVISION in sweepkit/store/schema.py.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}

revision, down_revision = ${repr(up_revision)}, ${repr(down_revision)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
