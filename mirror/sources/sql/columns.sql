-- Columns of the relations found by relations.sql, in no particular order (the caller orders
-- them by attnum): canonical type, NOT NULL, default (a generated column's expression is not a
-- default), and whether the login may SELECT the column. The table-level check comes first
-- because it answers for every column at once and is much cheaper per row. A default never
-- refers to a column, so its expression is printed without a relation (0), which saves
-- looking up every relation's column names only to print constants and function calls.
SELECT a.attrelid::bigint,
       a.attnum::integer,
       a.attname::text,
       pg_catalog.format_type(a.atttypid, a.atttypmod),
       a.attnotnull,
       CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(d.adbin, 0) END,
       CASE WHEN pg_catalog.has_table_privilege(a.attrelid, 'SELECT') THEN true
            ELSE pg_catalog.has_column_privilege(a.attrelid, a.attnum, 'SELECT') END
  FROM pg_catalog.pg_attribute AS a
  LEFT JOIN pg_catalog.pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attrelid = ANY (%(oids)s::oid[])
   AND a.attnum > 0
   AND NOT a.attisdropped
