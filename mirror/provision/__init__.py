"""Throwaway PostgreSQL servers, their watchdog, schema loading and the seed."""
