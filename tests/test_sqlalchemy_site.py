"""A user's SQLAlchemy site: ``SQLAlchemySite(Base, …)`` is a whole site source.

Models over any columns of Billig's tables give the catalog, the models and the lineage of
exactly what they map; a fresh project configured with one pins and checks its contracts.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Boolean, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, mapped_column

from mirror.catalog.model import ColumnRef, RelationKey
from mirror.sources.site import SiteSource
from mirror.sources.sqlalchemy_models import SQLAlchemySite

ROOT = Path(__file__).resolve().parent.parent
# Columns of billig.price_group as schema/billig.sql has them, with a SQLAlchemy type each.
PRICE_GROUP = {
    "price_group": (Integer, "integer"),
    "ticket_group": (Integer, "integer"),
    "price_group_name": (String(140), "character varying(140)"),
    "price": (Integer, "integer"),
    "netsale": (Boolean, "boolean"),
}
CONFIG_VARIABLES = ("BILLIG_SCHEMA", "BILLIG_CONTRACTS", "BILLIG_SITE", "BILLIG_POLICY")


def _site(columns: dict[str, bool], attribute_prefix: str) -> SQLAlchemySite:
    class Base(DeclarativeBase):
        metadata = MetaData(schema="billig")

    attributes: dict[str, object] = {"__tablename__": "price_group"}
    for column, nullable in columns.items():
        sa_type = PRICE_GROUP[column][0]
        attributes[attribute_prefix + column] = mapped_column(
            column, sa_type, primary_key=column == "price_group", nullable=nullable
        )
    type("PriceGroup", (Base,), attributes)
    return SQLAlchemySite(Base, name="generated", models_file="models.py")


@settings(max_examples=40, deadline=None)
@given(
    columns=st.dictionaries(
        st.sampled_from(sorted(set(PRICE_GROUP) - {"price_group"})), st.booleans()
    ),
    prefix=st.sampled_from(["", "x_", "the_"]),
)
def test_the_site_source_is_what_the_models_map(columns: dict[str, bool], prefix: str) -> None:
    mapped = {"price_group": False, **columns}
    site = _site(mapped, prefix)
    assert isinstance(site, SiteSource)
    key = RelationKey("billig", "price_group")
    (relation,) = site.catalog().relations.values()
    assert relation.key == key
    assert {c.name: (c.type, c.nullable) for c in relation.columns} == {
        name: (PRICE_GROUP[name][1], nullable) for name, nullable in mapped.items()
    }
    (model,) = site.models()
    assert model.name == "PriceGroup" and model.relation == key
    lineage = site.lineage()
    assert set(lineage) == {ColumnRef("billig", "price_group", name) for name in mapped}
    for name, nullable in mapped.items():
        usage = lineage[ColumnRef("billig", "price_group", name)]
        assert usage.models == (f"PriceGroup.{prefix}{name}",)
        assert usage.requires_not_null is not nullable
    assert site.shapes() == {}
    assert site.openapi() is None


MODELS = """
from datetime import datetime

from sqlalchemy import DateTime, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mirror.sources.sqlalchemy_models import SQLAlchemySite


class Base(DeclarativeBase):
    metadata = MetaData(schema="billig")


class Show(Base):
    __tablename__ = "event_lim_web"
    id: Mapped[int] = mapped_column("event", Integer, primary_key=True)
    title: Mapped[str] = mapped_column("event_name", String(140))
    ends: Mapped[datetime] = mapped_column("sale_to", DateTime)


class Price(Base):
    __tablename__ = "price_group"
    id: Mapped[int] = mapped_column("price_group", Integer, primary_key=True)
    amount: Mapped[int | None] = mapped_column("price", Integer, nullable=True)


SITE = SQLAlchemySite(Base, name="shows", models_file="shows.py")
"""


def _billig(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    return subprocess.run(
        [sys.executable, "-m", "mirror.cli", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_fresh_project_pins_and_checks_its_models(tmp_path: Path) -> None:
    project = tmp_path / "shows"
    (project / "db").mkdir(parents=True)
    schema = (ROOT / "schema" / "billig.sql").read_text(encoding="utf-8")
    (project / "db" / "billig.sql").write_text(schema, encoding="utf-8")
    (project / "shows.py").write_text(MODELS, encoding="utf-8")
    (project / "pyproject.toml").write_text(
        '[tool.billig]\nschema = "db/billig.sql"\ncontracts = "pinned"\nsite = "shows:SITE"\n'
        "events = 5\n",
        encoding="utf-8",
    )
    updated = _billig(project, "contracts", "update")
    assert updated.returncode == 0, updated.stderr
    checked = _billig(project, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "(5 model columns)" in checked.stdout
    # The model reads price_group.price; production-to-be drops it.
    (project / "db" / "billig.sql").write_text(
        schema.replace("    price integer NOT NULL,\n", "", 1), encoding="utf-8"
    )
    broken = _billig(project, "check")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "billig.price_group.price" in broken.stdout
