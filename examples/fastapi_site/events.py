"""The site's own models: its events, each optionally sold through a Billig event.

The site database is the site's (SQLite by default, any SQLAlchemy URL). ``Event.billig_id`` is a
*logical* reference into Billig (another database, another team): no foreign key, and it may
point at nothing. ``event.billig`` loads the Billig event lazily for one event; for many events use
:func:`prefetch.prefetch_billig`, which fills the same cache with one query per level.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, Integer, MetaData, String
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, object_session
from sqlalchemy.orm.exc import DetachedInstanceError

if TYPE_CHECKING:
    from examples.fastapi_site.billig_models import BilligEvent

TICKET_TYPE_BILLIG = "billig"
TICKET_TYPE_FREE = "free"
TICKET_TYPE_CUSTOM = "custom"
TICKET_TYPES = (TICKET_TYPE_BILLIG, TICKET_TYPE_FREE, TICKET_TYPE_CUSTOM)

# Instance attribute holding the loaded Billig event; absent until loaded or prefetched.
_BILLIG_CACHE = "_billig_event"


class SiteBase(DeclarativeBase):
    """Declarative base of the site's own tables (never the Billig ones)."""

    metadata = MetaData()


class Event(SiteBase):
    """A site event. Only ``ticket_type == "billig"`` events are sold through Billig."""

    __tablename__ = "event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    start_dt: Mapped[datetime] = mapped_column(DateTime)  # naive, site-local like Billig
    ticket_type: Mapped[str] = mapped_column(String(20), default=TICKET_TYPE_FREE)
    billig_id: Mapped[int | None] = mapped_column(Integer, default=None)

    @property
    def sold_through_billig(self) -> bool:
        return self.ticket_type == TICKET_TYPE_BILLIG and self.billig_id is not None

    @property
    def billig_loaded(self) -> bool:
        """Whether ``billig`` is known without a query (prefetched, loaded, or not Billig)."""
        return not self.sold_through_billig or _BILLIG_CACHE in self.__dict__

    @property
    def billig(self) -> BilligEvent | None:
        """The Billig event this event sells through, or None.

        None without a query when the event is not sold through Billig; otherwise one query
        (through the event's session, routed to the Billig engine) the first time, cached after.
        None also when ``billig_id`` points at no event in Billig, or at a hidden one (the site
        never shows a hidden event).
        """
        if not self.sold_through_billig:
            return None
        if _BILLIG_CACHE in self.__dict__:
            cached: BilligEvent | None = self.__dict__[_BILLIG_CACHE]
            return cached
        session = object_session(self)
        if session is None:
            raise DetachedInstanceError(
                f"site event {self.id} is not in a session; cannot load its Billig event"
            )
        from examples.fastapi_site.billig_models import BilligEvent

        found = session.get(BilligEvent, self.billig_id)
        if found is not None and found.hidden:
            found = None
        self.attach_billig(found)
        return found

    def attach_billig(self, billig: BilligEvent | None) -> None:
        """Set what ``billig`` returns (used by prefetching)."""
        self.__dict__[_BILLIG_CACHE] = billig

    def forget_billig(self) -> None:
        self.__dict__.pop(_BILLIG_CACHE, None)

    def __repr__(self) -> str:
        return f"Event(id={self.id!r}, ticket_type={self.ticket_type!r})"


def create_site_schema(bind: Engine | Connection) -> None:
    """Create the site tables that do not exist yet (the site's own database only)."""
    SiteBase.metadata.create_all(bind)
