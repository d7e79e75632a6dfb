-- The columns of the tables asked for, in order, with what writing a value to them takes:
-- the type and its limits (information_schema's own decoding of the type modifier).
SELECT a.attrelid::int8, a.attname::text, a.atttypid::int8,
       pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, a.atthasdef,
       a.attidentity <> '', a.attgenerated <> '',
       information_schema._pg_char_max_length(a.atttypid, a.atttypmod),
       information_schema._pg_numeric_precision(a.atttypid, a.atttypmod),
       information_schema._pg_numeric_scale(a.atttypid, a.atttypmod),
       CASE WHEN a.atttypid IN ('bit'::regtype, 'varbit'::regtype) AND a.atttypmod > 0
            THEN a.atttypmod END
  FROM pg_catalog.pg_attribute AS a
 WHERE a.attrelid = ANY(%(oids)s::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attrelid, a.attnum
