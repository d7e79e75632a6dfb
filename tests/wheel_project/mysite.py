"""A user's site for the wheel test: one model of one Billig relation, and its site source.

It is copied into a project folder outside this repository and named there by
``[tool.billig] site = "mysite:SOURCE"``. It declares no serializers, API or observations: the
columns contract then pins the schema, the lineage of the model and the model's columns.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mirror.sources.sqlalchemy_models import SQLAlchemySite


class Base(DeclarativeBase):
    metadata = MetaData(schema="billig")


class WebEvent(Base):
    """An event as the web sees it: the view ``billig.event_lim_web``."""

    __tablename__ = "event_lim_web"

    id: Mapped[int] = mapped_column("event", Integer, primary_key=True)
    name: Mapped[str] = mapped_column("event_name", String(140), nullable=False)
    sale_to: Mapped[datetime] = mapped_column("sale_to", DateTime, nullable=False)


SOURCE = SQLAlchemySite(Base, name="my site", models_file="mysite.py")
