"""The site's Billig API: a FastAPI app over the integration layer.

:func:`create_app` serves site events with their nested Billig data, the relevant Billig events,
the payment form and the validation of a buyer's selection, payment-error lookups, purchased
tickets with their PDF link, and a health probe, one router per resource (``routes/``). Every
response, errors included, has a declared model, so the OpenAPI document pins each shape
precisely enough that a changed one is detectable (``contracts/openapi.json``, checked by the
OpenAPI kind). Inputs are bounded and typed in the document and enforced by the same
declarations: malformed input is a 4xx JSON error, a well-formed request the data cannot satisfy
is a 404 or 409, and nothing a client sends is a 500. List endpoints serialize through
:func:`prefetch.prefetch_billig` (one query per level). Billig is read through a read-only
engine; responses never carry owner data or card numbers.
"""

from __future__ import annotations

from examples.fastapi_site.api.app import create_app
from examples.fastapi_site.api.document import (
    API_TITLE,
    API_VERSION,
    ENDPOINT_SERIALIZERS,
    Page,
    endpoint_serializers,
)
from examples.fastapi_site.api.errors import ApiError, ApiProblem
from examples.fastapi_site.api.limits import (
    BILLIG_GRACE_S,
    BILLIG_TIMEOUT_S,
    INT4_MAX,
    MAX_BODY_BYTES,
    MAX_COUNT,
    MAX_OFFSET,
    MAX_PAGE,
)
from examples.fastapi_site.api.output import EventOutput
from examples.fastapi_site.api.routes.health import Health
from examples.fastapi_site.api.routes.payment import (
    CardPayment,
    PaperPayment,
    PayRequest,
    TicketChoice,
)
from examples.fastapi_site.api.routes.payment_errors import payment_error_lookup
from examples.fastapi_site.api.state import ApiState

__all__ = [
    "API_TITLE",
    "API_VERSION",
    "BILLIG_GRACE_S",
    "BILLIG_TIMEOUT_S",
    "ENDPOINT_SERIALIZERS",
    "INT4_MAX",
    "MAX_BODY_BYTES",
    "MAX_COUNT",
    "MAX_OFFSET",
    "MAX_PAGE",
    "ApiError",
    "ApiProblem",
    "ApiState",
    "CardPayment",
    "EventOutput",
    "Health",
    "Page",
    "PaperPayment",
    "PayRequest",
    "TicketChoice",
    "create_app",
    "endpoint_serializers",
    "payment_error_lookup",
]
