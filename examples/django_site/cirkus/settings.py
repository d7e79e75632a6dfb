"""Settings of the example site.

The site's own models live in ``default`` (an SQLite file); Billig's unmanaged models are routed
to ``billig`` by :class:`cirkus.db_router.BilligRouter`. In production ``billig`` is a read-only
login on Billig's PostgreSQL; the ``BILLIG_DB_*`` variables name it. Under pytest the harness
points ``billig`` at a throwaway, seeded mirror instead.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-a-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "") == "1"
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
    "drf_spectacular",
    "cirkus.billig",
    "cirkus.events",
]

MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "cirkus.urls"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("SITE_DB_PATH", str(BASE_DIR / "site.sqlite3")),
    },
    "billig": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("BILLIG_DB_NAME", "billig"),
        "USER": os.environ.get("BILLIG_DB_USER", "billig_readonly"),
        "PASSWORD": os.environ.get("BILLIG_DB_PASSWORD", ""),
        "HOST": os.environ.get("BILLIG_DB_HOST", "localhost"),
        "PORT": os.environ.get("BILLIG_DB_PORT", "5432"),
    },
}
DATABASE_ROUTERS = ["cirkus.db_router.BilligRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Billig writes naive timestamps in the site's local time; so does the site.
USE_TZ = False
TIME_ZONE = "Europe/Oslo"
LANGUAGE_CODE = "nb"

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {"TITLE": "Cirkus API", "VERSION": "1.0.0"}
