-- name: table history
-- description: The commits of the processed Apache Iceberg table {{.Processed}}, newest first: when, which operation, rows added and deleted. Time travel reaches back as far as snapshots are kept (snapshot_retention_days); a snapshot_id here is what FOR VERSION AS OF takes and what rollback_to_snapshot needs.
SELECT committed_at,
       snapshot_id,
       operation,
       summary['added-records'] AS added_records,
       summary['deleted-records'] AS deleted_records
FROM "{{.CatalogDatabase}}"."{{.Table}}$snapshots"
ORDER BY committed_at DESC
LIMIT 50
