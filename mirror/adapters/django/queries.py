"""Statements per serializer: what each pinned serializer sends to Billig as it serializes.

For each size, a serializer is given that many samples, made anew for every size so that
nothing a first run cached on an instance hides a statement of the next: the site's
``billig_samples`` hook (called with ``count=`` when it takes that argument, otherwise cut to
the size), or the first rows of the serializer's Billig model in key order. The samples are
made before counting starts; then the serializer's output is produced and rendered as the API
would, and every statement is recorded where it leaves the client, by an execute wrapper on each
connection: the Billig alias's SQL is kept (with placeholders, never values), other databases'
statements are counted apart.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any

from mirror.adapters.django.lineage import serializer_model
from mirror.adapters.django.observe import (
    SAMPLES_HOOK,
    checked_samples,
    observation_failure,
    rendered_output,
    site_time,
)
from mirror.adapters.django.project import alias_pointed_at
from mirror.catalog.model import RelationKey
from mirror.secrets import password_of
from mirror.sources.site import QueryRun

if TYPE_CHECKING:
    from django.db.models import Model


def measure_queries(
    *,
    alias: str,
    database: str,
    now: datetime,
    serializers: Mapping[str, type[Any]],
    relations: Mapping[type[Model], RelationKey],
    modules: Sequence[ModuleType],
    sizes: Sequence[int],
    querysets: Mapping[type[Any], Any] | None = None,
) -> dict[str, list[QueryRun]]:
    """Per serializer name, one run per size of the serializer on the mirror at ``database``;
    a serializer with a queryset in ``querysets`` (its view's) gets its samples from it, so
    that the view's ``prefetch_related`` counts as the API has it."""
    secret = password_of(database)
    now = site_time(now)
    out: dict[str, list[QueryRun]] = {}
    with alias_pointed_at(alias, database, read_only=True):
        hooked = [_hook_samples(modules, now, size, secret) for size in sizes]
        for name, serializer in serializers.items():
            model = serializer_model(serializer)
            query: Any = (querysets or {}).get(serializer)
            if query is None and model in relations:
                query = model._default_manager.all()  # type: ignore[union-attr]
            if serializer not in hooked[0] and query is None:
                continue  # no samples: the observed-output check says so
            runs = []
            for size, samples in zip(sizes, hooked, strict=True):
                if serializer in samples:
                    instances = samples[serializer][:size]
                else:
                    try:
                        ordered = query.all() if query.ordered else query.order_by("pk")
                        instances = list(ordered[:size])
                    except Exception as exc:  # e.g. a column the mirror lacks
                        raise observation_failure(
                            name, exc, exc.__traceback__, relations, secret
                        ) from None
                with _recording(alias) as (billig, other):
                    rendered_output(name, serializer, instances, now, relations, secret)
                runs.append(QueryRun(len(instances), tuple(billig), other[0]))
            out[name] = runs
    return out


def _hook_samples(
    modules: Sequence[ModuleType], now: datetime, size: int, secret: str | None
) -> dict[type[Any], list[Any]]:
    found: dict[type[Any], list[Any]] = {}
    for module in modules:
        hook = getattr(module, SAMPLES_HOOK, None)
        if not callable(hook):
            continue
        where = f"{module.__name__}.{SAMPLES_HOOK}()"
        try:
            given = hook(now, count=size) if _takes_count(hook) else hook(now)
        except Exception as exc:
            raise observation_failure(where, exc, exc.__traceback__, {}, secret) from None
        for serializer, instances in checked_samples(given, where):
            found[serializer] = instances
    return found


def _takes_count(hook: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(hook).parameters
    except (TypeError, ValueError):
        return False
    return "count" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


@contextlib.contextmanager
def _recording(alias: str) -> Iterator[tuple[list[str], list[int]]]:
    from django.db import connections

    billig: list[str] = []
    other = [0]

    def to_billig(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        billig.append(sql)
        return execute(sql, params, many, context)

    def elsewhere(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        other[0] += 1
        return execute(sql, params, many, context)

    with contextlib.ExitStack() as stack:
        for connection in connections.all():
            wrapper = to_billig if connection.alias == alias else elsewhere
            stack.enter_context(connection.execute_wrapper(wrapper))
        yield billig, other
