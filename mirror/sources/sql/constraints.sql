-- Primary key, unique, foreign key and CHECK constraints of the relations found by
-- relations.sql, as column numbers in key order (the caller names them from columns.sql), and a
-- CHECK constraint's definition as PostgreSQL prints it. A foreign key's target
-- relation may be outside the scope: only then are its column names looked up here.
-- A foreign key to a partitioned table has internal copies pointing at each partition (same
-- referencing relation as their parent constraint); those are left out.
SELECT con.conrelid::bigint,
       con.contype::text,
       con.conkey::integer[],
       con.confrelid::bigint,
       tn.nspname::text,
       tc.relname::text,
       con.confkey::integer[],
       CASE WHEN con.contype = 'f' AND con.confrelid <> ALL (%(oids)s::oid[]) THEN
           ARRAY(SELECT a.attname::text
                   FROM unnest(con.confkey) WITH ORDINALITY AS k (attnum, ord)
                   JOIN pg_catalog.pg_attribute AS a
                     ON a.attrelid = con.confrelid AND a.attnum = k.attnum
                  ORDER BY k.ord)
       END,
       CASE WHEN con.contype = 'c' THEN pg_catalog.pg_get_constraintdef(con.oid) END
  FROM pg_catalog.pg_constraint AS con
  LEFT JOIN pg_catalog.pg_class AS tc ON tc.oid = con.confrelid
  LEFT JOIN pg_catalog.pg_namespace AS tn ON tn.oid = tc.relnamespace
 WHERE con.conrelid = ANY (%(oids)s::oid[])
   AND con.contype IN ('p', 'u', 'f', 'c')
   AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint AS parent
                    WHERE parent.oid = con.conparentid AND parent.conrelid = con.conrelid)
