-- The scope of an introspection, as one row of arrays: the asked schemas that exist, and the
-- relations in scope (oid, schema, name, kind, whether the login may use the schema).
-- The scope is the asked (schema, name) pairs, every relation of the asked schemas, or every
-- non-system schema. With namesakes on, each asked pair also brings relations of the same name
-- in other schemas and relations whose single identifier is "schema.name", which let a
-- comparison tell "moved" and "quoted as one identifier" apart from "missing". Namesakes are
-- one semi-join of pg_class against the set of asked names (index look-ups for a few names, a
-- hash for thousands; one pair at a time cost 8,000 index probes for a 2,000-relation
-- contract), and they cover the exact pairs too, which are then looked up on their own only
-- in system schemas or without namesakes.
WITH asked (schema_name, rel_name) AS (
    SELECT * FROM unnest(%(rel_schemas)s::text[], %(rel_names)s::text[])
), relations AS (
    SELECT c.oid, n.nspname, c.relname, c.relkind, n.oid AS nspoid
      FROM asked AS w
      JOIN pg_catalog.pg_namespace AS n ON n.nspname = w.schema_name
      JOIN pg_catalog.pg_class AS c ON c.relnamespace = n.oid AND c.relname = w.rel_name
     WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f')
       AND (NOT %(namesakes)s OR w.schema_name ~ '^pg_' OR w.schema_name = 'information_schema')
    UNION
    SELECT c.oid, n.nspname, c.relname, c.relkind, n.oid
      FROM pg_catalog.pg_class AS c
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f')
       AND %(namesakes)s AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
       AND c.relname IN (SELECT w.rel_name FROM asked AS w
                         UNION ALL
                         SELECT w.schema_name || '.' || w.rel_name FROM asked AS w)
    UNION
    SELECT c.oid, n.nspname, c.relname, c.relkind, n.oid
      FROM pg_catalog.pg_class AS c
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f')
       AND (n.nspname = ANY (%(whole_schemas)s::text[])
            OR (%(everything)s AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'))
)
-- The arrays are aggregated in one pass over the same rows, so they are parallel.
SELECT ARRAY(SELECT n.nspname::text
               FROM pg_catalog.pg_namespace AS n
              WHERE n.nspname = ANY (%(schemas)s::text[])
                 OR (%(everything)s AND n.nspname !~ '^pg_'
                     AND n.nspname <> 'information_schema')),
       coalesce(pg_catalog.array_agg(r.oid::bigint), '{}'),
       coalesce(pg_catalog.array_agg(r.nspname::text), '{}'),
       coalesce(pg_catalog.array_agg(r.relname::text), '{}'),
       coalesce(pg_catalog.array_agg(r.relkind::text), '{}'),
       coalesce(pg_catalog.array_agg(pg_catalog.has_schema_privilege(r.nspoid, 'USAGE')), '{}')
  FROM (SELECT * FROM relations ORDER BY oid) AS r
