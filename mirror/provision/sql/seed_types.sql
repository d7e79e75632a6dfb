-- Every type a value can be made for: what it is made of (a domain's base, an array's element,
-- a range's subtype), an enum's labels and a domain's NOT NULL and CHECK constraints.
SELECT t.oid::int8, pg_catalog.format_type(t.oid, NULL), t.typtype::text, t.typcategory::text,
       t.typbasetype::int8, t.typelem::int8,
       coalesce(r.rngsubtype, mr.rngsubtype, 0)::int8, mr.rngtypid IS NOT NULL,
       ARRAY(SELECT e.enumlabel::text FROM pg_catalog.pg_enum AS e
              WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder),
       t.typnotnull,
       ARRAY(SELECT con.conname::text FROM pg_catalog.pg_constraint AS con
              WHERE con.contypid = t.oid AND con.contype = 'c' ORDER BY con.conname),
       ARRAY(SELECT pg_catalog.pg_get_constraintdef(con.oid) FROM pg_catalog.pg_constraint AS con
              WHERE con.contypid = t.oid AND con.contype = 'c' ORDER BY con.conname),
       information_schema._pg_char_max_length(t.typbasetype, t.typtypmod),
       information_schema._pg_numeric_precision(t.typbasetype, t.typtypmod),
       information_schema._pg_numeric_scale(t.typbasetype, t.typtypmod)
  FROM pg_catalog.pg_type AS t
  LEFT JOIN pg_catalog.pg_range AS r ON r.rngtypid = t.oid
  LEFT JOIN pg_catalog.pg_range AS mr ON mr.rngmultitypid = t.oid
 WHERE t.typtype IN ('b', 'd', 'e', 'r', 'm') AND t.typisdefined
