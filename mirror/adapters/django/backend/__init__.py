"""A Django database backend for the Billig mirror under test (``ENGINE`` of the Billig alias).

PostgreSQL in every respect but one: the test database is the mirror the harness made, so
Django's test set-up never creates, migrates, serializes or destroys it.
"""
