"""Observed output: each pinned serializer run by the site's own code on the seeded mirror.

The Billig alias points at the mirror (read-only) while the serializers run through the Django
ORM. A serializer of a Billig model serializes every row of its model, in key order. One of a
site model (``EventSerializer``) needs instances of that model: a serializer module offers them
as ``billig_samples(now) -> {SerializerClass: [instances]}``, called with the alias already on
the mirror (unsaved instances do: no other database is reachable meanwhile). A serializer that a
view of the URLconf serves gets that view's queryset (:func:`view_querysets`). ``now``, in the
site's notion of time (:func:`site_time`), is in each serializer's context with a ``GET /``
request (hyperlinked fields need one). Output is what the
API would send: rendered by DRF's JSON renderer. Site code that raises on seeded data is an
:class:`~mirror.errors.ObservationError` naming the serializer, the model and row whose code
raised, and the exception.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any

from mirror.adapters.django.lineage import serializer_model
from mirror.adapters.django.models import primary_key_fields
from mirror.adapters.django.project import alias_pointed_at
from mirror.catalog.model import RelationKey
from mirror.errors import ConfigError, DatabaseUnreachable, ObservationError, database_failure
from mirror.secrets import password_of, scrub

if TYPE_CHECKING:
    from django.db.models import Model

SAMPLES_HOOK = "billig_samples"
SAMPLES_CONTRACT = f"{SAMPLES_HOOK}(now) returning {{SerializerClass: [unsaved model instances]}}"


class _OtherDatabase(Exception):
    """Site code reached a database other than Billig's while observed."""


@contextlib.contextmanager
def _only_alias(alias: str) -> Iterator[None]:
    from django.db.backends.base.base import BaseDatabaseWrapper

    saved = BaseDatabaseWrapper.ensure_connection

    def guarded(self: Any) -> None:
        if self.alias != alias:
            raise _OtherDatabase(
                f"site code queried database {self.alias!r} while observed; only {alias!r} "
                f"points at the mirror (give {SAMPLES_HOOK}() unsaved instances)"
            )
        saved(self)

    BaseDatabaseWrapper.ensure_connection = guarded
    try:
        yield
    finally:
        BaseDatabaseWrapper.ensure_connection = saved


def observe_outputs(
    *,
    alias: str,
    database: str,
    now: datetime,
    serializers: Mapping[str, type[Any]],
    relations: Mapping[type[Model], RelationKey],
    modules: Sequence[ModuleType],
    querysets: Mapping[type[Any], Any] | None = None,
) -> dict[str, list[Any]]:
    """Real JSON output per serializer name on the mirror at ``database``; a serializer with a
    queryset in ``querysets`` (its view's) serializes that, as the API does."""
    secret = password_of(database)
    now = site_time(now)
    out: dict[str, list[Any]] = {}
    with alias_pointed_at(alias, database, read_only=True), _only_alias(alias):
        samples = _samples(modules, now, secret)
        for name, serializer in serializers.items():
            model = serializer_model(serializer)
            if serializer in samples:
                instances: Iterable[Any] = samples[serializer]
            elif querysets and serializer in querysets:
                query = querysets[serializer]
                instances = query.all() if query.ordered else query.order_by("pk")
            elif model in relations:
                instances = model._default_manager.order_by("pk")  # type: ignore[union-attr]
            else:
                continue  # nothing to serialize: the check reports "no output observed"
            out[name] = rendered_output(name, serializer, instances, now, relations, secret)
    return out


def site_time(moment: datetime) -> datetime:
    """``moment`` as the site's code sees time: naive local time without ``USE_TZ`` (Billig's
    timestamps are naive local time), aware with it."""
    from django.conf import settings
    from django.utils import timezone

    zone = timezone.get_default_timezone()
    if settings.USE_TZ:
        return timezone.make_aware(moment, zone) if timezone.is_naive(moment) else moment
    return timezone.make_naive(moment, zone) if timezone.is_aware(moment) else moment


def _samples(
    modules: Sequence[ModuleType], now: datetime, secret: str | None
) -> dict[type[Any], list[Any]]:
    found: dict[type[Any], list[Any]] = {}
    for module in modules:
        if not hasattr(module, SAMPLES_HOOK):
            continue
        hook = getattr(module, SAMPLES_HOOK)
        where = f"{module.__name__}.{SAMPLES_HOOK}"
        if not callable(hook):
            raise ConfigError(f"{where} is {type(hook).__name__}: expected {SAMPLES_CONTRACT}")
        try:
            given = hook(now)
        except Exception as exc:
            raise observation_failure(f"{where}()", exc, exc.__traceback__, {}, secret) from None
        for serializer, instances in checked_samples(given, f"{where}()"):
            found.setdefault(serializer, []).extend(instances)
    return found


def checked_samples(given: Any, where: str) -> list[tuple[type[Any], list[Any]]]:
    """The hook's answer as (serializer class, instances) pairs; anything else is a usage error
    naming the hook (the harness cannot serialize it, the site's code is not at fault)."""
    from rest_framework.serializers import BaseSerializer

    def wrong(value: Any, what: str) -> ConfigError:
        shown = repr(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        return ConfigError(
            f"{where} returned {what} {type(value).__name__} {shown}: expected {SAMPLES_CONTRACT}"
        )

    if not isinstance(given, Mapping):
        raise wrong(given, "a")
    pairs = []
    for serializer, instances in given.items():
        if not (isinstance(serializer, type) and issubclass(serializer, BaseSerializer)):
            raise wrong(serializer, "a key")
        if isinstance(instances, (str, bytes, Mapping)) or not isinstance(instances, Iterable):
            raise wrong(instances, f"for {serializer.__name__}")
        pairs.append((serializer, list(instances)))
    return pairs


def rendered_output(
    name: str,
    serializer: type[Any],
    instances: Iterable[Any],
    now: datetime,
    relations: Mapping[type[Model], RelationKey],
    secret: str | None,
) -> list[Any]:
    """``instances`` through ``serializer`` (``now`` in its context), as the API would send them:
    rendered by DRF's JSON renderer; what the site's code raises is an
    :func:`observation_failure` naming ``name``."""
    from rest_framework.renderers import JSONRenderer

    try:
        context = {"now": now, "request": api_request()}
        data = serializer(instances, many=True, context=context).data
        rendered: list[Any] = json.loads(JSONRenderer().render(data))
    except Exception as exc:
        raise observation_failure(name, exc, exc.__traceback__, relations, secret) from None
    return rendered


def view_querysets(urlconf: str, serializers: Iterable[type[Any]]) -> dict[type[Any], Any]:
    """Per serializer, the queryset of the first ``GET`` view of ``urlconf`` that serializes
    with it (a viewset's ``list`` first): its annotations (``annotate(n=Count(...))``), filters
    and prefetches are what the serializer meets in the API. A view whose ``get_queryset()``
    fails on a bare ``GET /`` request is left out (its model's rows are serialized instead)."""
    from django.db.models.query import QuerySet
    from rest_framework.schemas.generators import EndpointEnumerator

    wanted = set(serializers)
    found: dict[type[Any], Any] = {}
    for _path, method, callback in EndpointEnumerator(urlconf=urlconf).get_api_endpoints():
        view_class = getattr(callback, "cls", None)
        serializer = getattr(view_class, "serializer_class", None)
        if method != "GET" or serializer not in wanted or serializer in found:
            continue
        try:
            view = view_class(**getattr(callback, "initkwargs", {}))  # type: ignore[misc]
            view.action = (getattr(callback, "actions", None) or {}).get("get")
            view.request, view.args, view.kwargs, view.format_kwarg = api_request(), (), {}, None
            query = view.get_queryset()
        except Exception:  # site code that needs a real request: not a failure of the data
            continue
        if isinstance(query, QuerySet):
            found[serializer] = query
    return found


def api_request() -> Any:
    """A DRF ``GET /`` request for the serializer context, as a view passes it: hyperlinked
    fields (``HyperlinkedModelSerializer``'s ``url``) build absolute URLs from it."""
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    request = APIRequestFactory().get("/")
    # Its host is the test client's, whatever ALLOWED_HOSTS says: the harness checks shapes,
    # not the project's host validation.
    request.get_host = lambda: "testserver"
    return Request(request)


def observation_failure(
    who: str,
    exc: BaseException,
    tb: TracebackType | None,
    relations: Mapping[type[Model], RelationKey],
    secret: str | None,
) -> Exception:
    """The harness error for ``exc``, raised by site code ``who`` on the mirror (traceback
    ``tb``): a query of something the mirror lacks names the model reading it, a failed
    connection is :class:`~mirror.errors.DatabaseUnreachable`, any other names the row whose
    code raised; ``secret`` is scrubbed from the message."""
    from django.db import OperationalError, ProgrammingError

    detail = scrub(" ".join(str(exc).split()) or type(exc).__name__, secret)
    if isinstance(exc, _OtherDatabase):
        return ObservationError(f"{who}: {detail}")
    if isinstance(exc, ProgrammingError):  # e.g. a column or relation the mirror lacks
        model = _queried_model(tb)
        reader = f" ({_missing_reader(model, exc)} reads what the mirror lacks)" if model else ""
        return ObservationError(f"{who} on the seeded mirror{reader}: {detail}")
    if isinstance(exc, OperationalError) and _connecting(tb):
        return DatabaseUnreachable(f"{who}: cannot reach the mirror: {detail}")
    if database_failure(exc) is not None:  # lost, shut down or timed out under the site's code
        return DatabaseUnreachable(f"{who}: the mirror failed: {detail}")
    culprit = _raising_row(tb, relations)
    where = f" on {culprit}" if culprit else ""
    return ObservationError(
        f"{who}: site code raised on seeded data{where}: {type(exc).__name__}: {detail}"
    )


def _missing_reader(model: type[Any], exc: BaseException) -> str:
    """``BilligTicketGroup.num_sold`` when the server names a missing column of the model's
    relation, else the model's name."""
    cause = exc.__cause__
    diag = getattr(cause, "diag", None)
    primary = getattr(diag, "message_primary", None) or str(cause or exc)
    match = re.search(r'column "?(?:[^ ]+\.)?"?([^". ]+)"? does not exist', primary)
    if match:
        for field in model._meta.concrete_fields:
            if field.column == match.group(1):
                return f"{model.__name__}.{field.name}"
    return str(model.__name__)


def _frames(tb: TracebackType | None) -> list[Any]:
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    return frames


def _raising_row(tb: TracebackType | None, relations: Mapping[type[Model], RelationKey]) -> str:
    """``BilligTicketGroup row ticket_group=2004 (in is_almost_sold_out)``: the innermost
    model instance whose code was running, preferring Billig models."""
    from django.db.models import Model

    found: list[tuple[Any, str]] = []
    for frame in reversed(_frames(tb)):
        values = frame.f_locals
        # A property's instance is ``self``; a serializer method's is an argument.
        first = [values["self"]] if "self" in values else []
        for value in [*first, *values.values()]:
            if isinstance(value, Model):
                found.append((value, frame.f_code.co_name))
                break
    if not found:
        return ""
    billig = [item for item in found if type(item[0]) in relations]
    instance, code = (billig or found)[0]
    return f"{_row(instance)} (in {code})"


def _row(instance: Any) -> str:
    cols = ", ".join(
        f"{f.column}={getattr(instance, f.attname)!r}" for f in primary_key_fields(type(instance))
    )
    return f"{type(instance).__name__} row {cols}"


def _queried_model(tb: TracebackType | None) -> type[Any] | None:
    from django.db.models.query import QuerySet

    for frame in reversed(_frames(tb)):
        for name in ("self", "queryset"):  # never truth-tested: that would run the query
            value = frame.f_locals.get(name)
            if isinstance(value, QuerySet):
                return value.model
    return None


def _connecting(tb: TracebackType | None) -> bool:
    return any(frame.f_code.co_name in ("connect", "get_new_connection") for frame in _frames(tb))
