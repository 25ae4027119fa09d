-- name: rows now and a day ago
-- description: Live rows of {{.Processed}} now and as of 24 hours ago (Iceberg time travel, FOR TIMESTAMP AS OF); change the interval, or use FOR VERSION AS OF <snapshot_id> from the table history query. Fails when the table is younger than the interval or its snapshots expired.
SELECT 'now' AS version,
       count(*) AS live_rows
FROM {{.Processed}}
WHERE NOT _is_deleted
UNION ALL
SELECT 'a day ago' AS version,
       count(*) AS live_rows
FROM {{.Processed}} FOR TIMESTAMP AS OF (current_timestamp - interval '1' day)
WHERE NOT _is_deleted
