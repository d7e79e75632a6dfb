"""URLconf: the read-only event API under ``/api/``."""

from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from cirkus.events.views import EventViewSet

router = SimpleRouter()
router.register("events", EventViewSet)

urlpatterns = [path("api/", include(router.urls))]
