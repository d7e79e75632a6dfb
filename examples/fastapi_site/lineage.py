"""Lineage: for each Billig column, which models, serializer fields and API endpoints read it.

Lineage is what turns "a column changed" into "this breaks ``GET /events``". Model attributes and
serializer fields come from the integration layer (``column_usage``, which
reads the mappers and each field's declared source); API endpoints are added here: an endpoint
that emits a serializer reads every column behind that serializer's fields, nested ones
included. A reader that declares the value non-null (``Mapped[str]``, a non-optional field)
makes the column ``requires_not_null``, which decides whether NOT NULL → NULL breaks us.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from mirror.catalog.model import ColumnRef, Usage

if TYPE_CHECKING:
    from examples.fastapi_site.serializers import PublicModel

# The optional module that knows the API's endpoints, and the function it may define there:
# ``endpoint_serializers() -> Mapping[str, Iterable[str]]`` (endpoint → serializer names).
API_MODULE = "examples.fastapi_site.api"
API_HOOK = "endpoint_serializers"


def with_endpoints(
    lineage: Mapping[ColumnRef, Usage], endpoints: Mapping[str, Iterable[str]]
) -> dict[ColumnRef, Usage]:
    """``lineage`` plus, per column, the endpoints emitting a serializer whose fields read it.

    Field paths start with their serializer's name (``BilligEvent.ticket_groups[].name``).
    """
    by_serializer: dict[str, set[str]] = {}
    for endpoint, serializers in endpoints.items():
        for name in serializers:
            by_serializer.setdefault(name, set()).add(endpoint)
    out: dict[ColumnRef, Usage] = {}
    for ref, usage in lineage.items():
        reached = set(usage.endpoints)
        for field in usage.fields:
            reached.update(by_serializer.get(field.split(".", 1)[0], ()))
        out[ref] = Usage(
            models=usage.models,
            fields=usage.fields,
            endpoints=tuple(sorted(reached)),
            requires_not_null=usage.requires_not_null,
        )
    return out


def endpoint_serializers() -> dict[str, tuple[str, ...]]:
    """Endpoint → serializers it emits, from the API module once it exists (else none)."""
    try:
        api = importlib.import_module(API_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != API_MODULE:
            raise
        return {}
    hook = getattr(api, API_HOOK, None)
    if not callable(hook):
        return {}
    return {str(endpoint): tuple(names) for endpoint, names in hook().items()}


def billig_lineage(endpoints: Mapping[str, Iterable[str]] | None = None) -> dict[ColumnRef, Usage]:
    """The lineage of the site's code over Billig: models, serializer fields and endpoints."""
    from examples.fastapi_site.serializers import column_usage

    found = endpoint_serializers() if endpoints is None else endpoints
    return with_schema_endpoints(with_endpoints(column_usage(), found), found)


def with_schema_endpoints(
    lineage: Mapping[ColumnRef, Usage], endpoints: Mapping[str, Iterable[str]]
) -> dict[ColumnRef, Usage]:
    """``lineage`` plus endpoints that emit output schemas other than the four serializers
    (the payment form, payment errors, tickets …): they read the columns behind their fields."""
    from examples.fastapi_site.serializers import SERIALIZER_SCHEMAS, lineage_of

    schemas = output_schemas()
    reached: dict[ColumnRef, set[str]] = {}
    for endpoint, names in endpoints.items():
        for name in names:
            if name in SERIALIZER_SCHEMAS or name not in schemas:
                continue  # serializers are reached through their fields (with_endpoints)
            for field in lineage_of({name: schemas[name]}).values():
                for ref in field.columns:
                    reached.setdefault(ref, set()).add(endpoint)
    out = dict(lineage)
    for ref, more in reached.items():
        usage = out.get(ref, Usage())
        out[ref] = Usage(
            models=usage.models,
            fields=usage.fields,
            endpoints=tuple(sorted(set(usage.endpoints) | more)),
            requires_not_null=usage.requires_not_null,
        )
    return out


def output_schemas() -> dict[str, type[PublicModel]]:
    """Every public output schema of the integration layer by name: the four serializers, the
    payment form and validation, payment-error outcomes and ticket descriptions."""
    from examples.fastapi_site.payment import PAYMENT_SCHEMAS
    from examples.fastapi_site.payment_errors import PAYMENT_ERROR_SCHEMAS
    from examples.fastapi_site.serializers import SERIALIZER_SCHEMAS
    from examples.fastapi_site.tickets import TICKET_SCHEMAS

    return {**SERIALIZER_SCHEMAS, **PAYMENT_SCHEMAS, **PAYMENT_ERROR_SCHEMAS, **TICKET_SCHEMAS}
