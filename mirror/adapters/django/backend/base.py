"""The mirror backend: Django's PostgreSQL backend whose test-database creation is a no-op."""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql import base
from django.db.backends.postgresql.creation import DatabaseCreation as PostgreSQLCreation


class DatabaseCreation(PostgreSQLCreation):
    """The mirror exists, with schema and seed: use it as it is, leave it as it was."""

    def create_test_db(
        self,
        verbosity: int = 1,
        autoclobber: bool = False,
        serialize: bool = True,
        keepdb: bool = False,
    ) -> str:
        name: str = self.connection.settings_dict["NAME"]
        return name

    def destroy_test_db(self, *args: Any, **kwargs: Any) -> None:
        self.connection.close()

    def serialize_db_to_string(self) -> str:
        return "[]"


class DatabaseWrapper(base.DatabaseWrapper):
    creation_class = DatabaseCreation
