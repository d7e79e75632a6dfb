"""Benchmarks of the performance targets: the drift check against SQLAlchemy reflection and
schemainspect, prefetch + serialize scaling, mirror start-up per provider, and per-test isolation.

Run ``python -m benchmarks`` (or ``tox -e bench``); ``--smoke`` runs the smallest sizes only.
Every run provisions its own PostgreSQL, builds its own data, prints a table and writes JSON in
which each alternative is a ratio against ours measured in the same run.
"""
