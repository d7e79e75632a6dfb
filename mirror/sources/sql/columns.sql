-- Columns of the relations found by relations.sql, in no particular order (the caller orders
-- them by attnum): canonical type, NOT NULL, default (a generated column's expression is not a
-- default), and whether the login may SELECT the column. The table-level check comes first
-- because it answers for every column at once and is much cheaper per row. A default never
-- refers to a column, so its expression is printed without a relation (0), which saves
-- looking up every relation's column names only to print constants and function calls.
-- A domain column also gets its base type (through nested domains), and a column holding an
-- enum (directly, as array elements or through domains) the enum's labels in their order: both
-- only where the column's type is a domain, an enum or an array, so plain columns cost nothing.
SELECT a.attrelid::bigint,
       a.attnum::integer,
       a.attname::text,
       pg_catalog.format_type(a.atttypid, a.atttypmod),
       a.attnotnull,
       CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(d.adbin, 0) END,
       CASE WHEN pg_catalog.has_table_privilege(a.attrelid, 'SELECT') THEN true
            ELSE pg_catalog.has_column_privilege(a.attrelid, a.attnum, 'SELECT') END,
       CASE WHEN t.typtype = 'd' THEN (
           WITH RECURSIVE chain (base, typmod, depth) AS (
               SELECT t.typbasetype, t.typtypmod, 0
               UNION ALL
               SELECT b.typbasetype, b.typtypmod, c.depth + 1
                 FROM chain AS c
                 JOIN pg_catalog.pg_type AS b ON b.oid = c.base
                WHERE b.typtype = 'd')
           SELECT pg_catalog.format_type(base, typmod) FROM chain ORDER BY depth DESC LIMIT 1)
       END,
       CASE WHEN t.typtype IN ('e', 'd') OR t.typcategory = 'A' THEN (
           WITH RECURSIVE chain (oid, depth) AS (
               SELECT CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END, 0
               UNION ALL
               SELECT CASE WHEN b.typtype = 'd' THEN b.typbasetype ELSE b.typelem END,
                      c.depth + 1
                 FROM chain AS c
                 JOIN pg_catalog.pg_type AS b ON b.oid = c.oid
                WHERE b.typtype = 'd' OR b.typcategory = 'A')
           SELECT pg_catalog.array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
             FROM pg_catalog.pg_enum AS e
            WHERE e.enumtypid = (SELECT oid FROM chain ORDER BY depth DESC LIMIT 1))
       END
  FROM pg_catalog.pg_attribute AS a
  JOIN pg_catalog.pg_type AS t ON t.oid = a.atttypid
  LEFT JOIN pg_catalog.pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attrelid = ANY (%(oids)s::oid[])
   AND a.attnum > 0
   AND NOT a.attisdropped
