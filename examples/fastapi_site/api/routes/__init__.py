"""One router per resource of the API; :func:`examples.fastapi_site.api.create_app` includes
each of them."""
