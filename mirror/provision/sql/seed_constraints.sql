-- Primary key, unique, foreign key and CHECK constraints of the tables asked for (columns by
-- name, in key order), and the unique indexes that are not a constraint.
SELECT con.conrelid::int8, con.conname::text, con.contype::text,
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(num, ord)
               JOIN pg_catalog.pg_attribute AS a
                 ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.ord),
       con.confrelid::int8,
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY AS k(num, ord)
               JOIN pg_catalog.pg_attribute AS a
                 ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.ord),
       con.condeferrable, pg_catalog.pg_get_constraintdef(con.oid)
  FROM pg_catalog.pg_constraint AS con
 WHERE con.conrelid = ANY(%(oids)s::oid[]) AND con.contype IN ('p', 'u', 'f', 'c')
UNION ALL
SELECT i.indrelid::int8, c.relname::text, 'u',
       ARRAY(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY AS k(num, ord)
               JOIN pg_catalog.pg_attribute AS a
                 ON a.attrelid = i.indrelid AND a.attnum = k.num ORDER BY k.ord),
       NULL, NULL, false, NULL
  FROM pg_catalog.pg_index AS i
  JOIN pg_catalog.pg_class AS c ON c.oid = i.indexrelid
 WHERE i.indrelid = ANY(%(oids)s::oid[]) AND i.indisunique AND i.indpred IS NULL
   AND NOT (0 = ANY(i.indkey::int2[]))
   AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint AS con WHERE con.conindid = i.indexrelid)
 ORDER BY 1, 2
