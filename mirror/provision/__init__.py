"""Throwaway PostgreSQL servers, their watchdog, schema loading and the seed."""

PROVIDERS = ("docker", "local", "embedded", "dsn")  # the names of the providers, for options
