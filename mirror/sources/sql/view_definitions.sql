-- Definitions of the asked views and materialized views (only for `billig drift --suggest` and
-- `--write-schema`), with the relations each one reads: the dependencies of its rewrite rule.
-- Run after session.sql, so that the search_path is pg_catalog and every name in a definition
-- comes schema-qualified.
WITH asked (schema_name, rel_name) AS (
    SELECT * FROM unnest(%(rel_schemas)s::text[], %(rel_names)s::text[])
)
SELECT n.nspname::text,
       c.relname::text,
       pg_catalog.pg_get_viewdef(c.oid, true),
       deps.schemas,
       deps.names
  FROM asked AS w
  JOIN pg_catalog.pg_namespace AS n ON n.nspname = w.schema_name
  JOIN pg_catalog.pg_class AS c ON c.relnamespace = n.oid AND c.relname = w.rel_name
 CROSS JOIN LATERAL (
       SELECT coalesce(pg_catalog.array_agg(dn.nspname::text ORDER BY dc.oid), '{}'),
              coalesce(pg_catalog.array_agg(dc.relname::text ORDER BY dc.oid), '{}')
         FROM pg_catalog.pg_class AS dc
         JOIN pg_catalog.pg_namespace AS dn ON dn.oid = dc.relnamespace
        WHERE dc.oid IN (SELECT d.refobjid
                           FROM pg_catalog.pg_rewrite AS r
                           JOIN pg_catalog.pg_depend AS d
                             ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
                            AND d.objid = r.oid
                            AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
                          WHERE r.ev_class = c.oid AND d.refobjid <> c.oid)
       ) AS deps (schemas, names)
 WHERE c.relkind IN ('v', 'm')
