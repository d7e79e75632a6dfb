"""What the event endpoints emit: the output models the document declares and the functions that
build them. The default is the site's serializers; an app made with another set (a serializer
as someone edited it, in a test) documents and serves that one instead."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from examples.fastapi_site import serializers


@dataclass(frozen=True)
class EventOutput:
    event: type[BaseModel] = serializers.Event
    billig_event: type[BaseModel] = serializers.BilligEvent
    # (session, site events, now) → one Event each, their Billig data prefetched
    serialize_events: Callable[[Session, Sequence[Any], datetime], list[Any]] = (
        serializers.serialize_events
    )
    # (session, Billig events, now) → one BilligEvent each
    serialize_billig_events: Callable[[Session, Sequence[Any], datetime], list[Any]] = (
        serializers.serialize_billig_events
    )
    # (a fully loaded Billig event, now) → its BilligEvent
    serialize_billig_event: Callable[[Any, datetime], Any] = serializers.serialize_billig_event
