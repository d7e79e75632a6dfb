-- The tables a seed can write: base and partitioned tables of the user's schemas (not those of
-- an extension), with the parent and the partition constraint of a partition.
SELECT c.oid::int8, n.nspname::text, c.relname::text, c.relkind::text,
       (SELECT i.inhparent::int8 FROM pg_catalog.pg_inherits AS i
         WHERE c.relispartition AND i.inhrelid = c.oid),
       CASE WHEN c.relispartition THEN pg_catalog.pg_get_partition_constraintdef(c.oid) END
  FROM pg_catalog.pg_class AS c
  JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p')
   AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
   AND NOT EXISTS (
       SELECT FROM pg_catalog.pg_depend AS d
        WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
          AND d.deptype = 'e')
 ORDER BY n.nspname, c.relname
