-- Primary key, unique, foreign key and CHECK constraints of the relations found by
-- relations.sql, as column numbers in key order (the caller names them from columns.sql), and a
-- CHECK constraint's definition as PostgreSQL prints it. A column whose type is a domain (or a
-- domain over domains) also brings the domains' CHECK constraints, as CHECK constraints on that
-- column named by their domain ("public.quantity: CHECK ((VALUE >= 0))"). A foreign key's target
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
UNION ALL
SELECT a.attrelid::bigint,
       'c'::text,
       ARRAY[a.attnum]::integer[],
       0::bigint,
       NULL::text,
       NULL::text,
       NULL::integer[],
       NULL::text[],
       dc.contypid::pg_catalog.regtype::text || ': ' || pg_catalog.pg_get_constraintdef(dc.oid)
  FROM pg_catalog.pg_attribute AS a
  JOIN pg_catalog.pg_type AS t ON t.oid = a.atttypid AND t.typtype = 'd'
 CROSS JOIN LATERAL (
       WITH RECURSIVE chain (oid) AS (
           SELECT t.oid
           UNION ALL
           SELECT b.typbasetype
             FROM chain AS c
             JOIN pg_catalog.pg_type AS b ON b.oid = c.oid
            WHERE b.typtype = 'd')
       SELECT oid FROM chain) AS domain
  JOIN pg_catalog.pg_constraint AS dc ON dc.contypid = domain.oid AND dc.contype = 'c'
 WHERE a.attrelid = ANY (%(oids)s::oid[])
   AND a.attnum > 0
   AND NOT a.attisdropped
