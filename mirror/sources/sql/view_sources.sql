-- What the analysis of view columns (mirror.catalog.views) needs, in one statement whatever the
-- nesting: the views and materialized views asked, every relation their rewrite rules read,
-- transitively (views over views), each with its kind, its definition (views only) and its
-- columns with NOT NULL. Run after session.sql, so that the search_path is pg_catalog and every
-- name in a definition comes schema-qualified.
WITH RECURSIVE reached (oid) AS (
    SELECT pg_catalog.unnest(%(oids)s::pg_catalog.oid[])
    UNION
    SELECT d.refobjid
      FROM reached AS r
      JOIN pg_catalog.pg_rewrite AS w ON w.ev_class = r.oid
      JOIN pg_catalog.pg_depend AS d
        ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
       AND d.objid = w.oid
       AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
       AND d.refobjid <> r.oid
)
SELECT n.nspname::text,
       c.relname::text,
       c.relkind::text,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid, true) END,
       cols.names,
       cols.not_null
  FROM reached AS r
  JOIN pg_catalog.pg_class AS c ON c.oid = r.oid
  JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
 CROSS JOIN LATERAL (
       SELECT coalesce(pg_catalog.array_agg(a.attname::text ORDER BY a.attnum), '{}'),
              coalesce(pg_catalog.array_agg(a.attnotnull ORDER BY a.attnum), '{}')
         FROM pg_catalog.pg_attribute AS a
        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       ) AS cols (names, not_null)
