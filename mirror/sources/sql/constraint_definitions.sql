-- Constraints of the asked relations as production names and prints them (only for `billig
-- drift --suggest` and `--write-schema`, which keep production's names and CHECK clauses): name,
-- kind, definition, and a foreign key's target. Run after session.sql, so that every name in a
-- definition comes schema-qualified. NOT NULL constraints are the columns' own.
WITH asked (schema_name, rel_name) AS (
    SELECT * FROM unnest(%(rel_schemas)s::text[], %(rel_names)s::text[])
)
SELECT n.nspname::text,
       c.relname::text,
       con.conname::text,
       con.contype::text,
       pg_catalog.pg_get_constraintdef(con.oid, true),
       tn.nspname::text,
       tc.relname::text
  FROM asked AS w
  JOIN pg_catalog.pg_namespace AS n ON n.nspname = w.schema_name
  JOIN pg_catalog.pg_class AS c ON c.relnamespace = n.oid AND c.relname = w.rel_name
  JOIN pg_catalog.pg_constraint AS con ON con.conrelid = c.oid
  LEFT JOIN pg_catalog.pg_class AS tc ON tc.oid = con.confrelid
  LEFT JOIN pg_catalog.pg_namespace AS tn ON tn.oid = tc.relnamespace
 WHERE con.contype IN ('p', 'u', 'f', 'c', 'x')
   AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint AS parent
                    WHERE parent.oid = con.conparentid AND parent.conrelid = con.conrelid)
 ORDER BY n.nspname, c.relname,
          array_position(ARRAY['p', 'u', 'x', 'c', 'f'], con.contype::text), con.conname
