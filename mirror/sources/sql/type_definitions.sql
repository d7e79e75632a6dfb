-- The enums and domains of the asked schemas, in the order they were created (a domain over
-- an enum after it), for `billig init --schema-from`: an enum's labels in their order; a
-- domain's base type, NOT NULL, default and CHECK constraints as PostgreSQL prints them.
-- Run after session.sql, so that every type name comes schema-qualified.
SELECT n.nspname::text,
       t.typname::text,
       t.typtype::text,
       (SELECT coalesce(pg_catalog.array_agg(e.enumlabel::text ORDER BY e.enumsortorder), '{}')
          FROM pg_catalog.pg_enum AS e
         WHERE e.enumtypid = t.oid),
       CASE WHEN t.typtype = 'd' THEN pg_catalog.format_type(t.typbasetype, t.typtypmod) END,
       t.typnotnull,
       t.typdefault,
       (SELECT coalesce(pg_catalog.array_agg(
                   pg_catalog.format('CONSTRAINT %%I %%s', c.conname,
                                     pg_catalog.pg_get_constraintdef(c.oid))
                   ORDER BY c.conname), '{}')
          FROM pg_catalog.pg_constraint AS c
         WHERE c.contypid = t.oid AND c.contype = 'c')
  FROM pg_catalog.pg_type AS t
  JOIN pg_catalog.pg_namespace AS n ON n.oid = t.typnamespace
 WHERE t.typtype IN ('e', 'd')
   AND n.nspname = ANY(%(schemas)s::text[])
 ORDER BY t.oid
