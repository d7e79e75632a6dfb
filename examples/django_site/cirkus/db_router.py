"""The database router: Billig's models read from the ``billig`` database, nothing else does.

Billig's database belongs to another team: Django never migrates it, and nothing of the site
is written there.
"""

from __future__ import annotations

from typing import Any

BILLIG_APP = "billig"
BILLIG_DATABASE = "billig"


class BilligRouter:
    def db_for_read(self, model: type[Any], **hints: Any) -> str | None:
        return BILLIG_DATABASE if model._meta.app_label == BILLIG_APP else None

    def db_for_write(self, model: type[Any], **hints: Any) -> str | None:
        return BILLIG_DATABASE if model._meta.app_label == BILLIG_APP else None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        if obj1._meta.app_label == BILLIG_APP and obj2._meta.app_label == BILLIG_APP:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        if db == BILLIG_DATABASE or app_label == BILLIG_APP:
            return False
        return None
