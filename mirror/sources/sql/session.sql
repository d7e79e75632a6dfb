-- Opens the introspection transaction: read-only, one snapshot for every statement, bounded
-- waits, and a fixed search_path so that type names and defaults are spelled the same way
-- whatever the login's own settings are (non-catalog types always come schema-qualified).
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY;
SET LOCAL statement_timeout = %(statement_timeout_ms)s;
SET LOCAL lock_timeout = %(lock_timeout_ms)s;
SET LOCAL idle_in_transaction_session_timeout = %(idle_timeout_ms)s;
SET LOCAL search_path = pg_catalog;
-- Catalog statements are cheap but estimated dear (a subplan per column): JIT compiling them
-- would take seconds, running them takes milliseconds.
SET LOCAL jit = off;
