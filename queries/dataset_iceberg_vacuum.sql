-- name: expire snapshots now
-- description: VACUUM {{.Processed}}: expires snapshots older than the table property vacuum_max_snapshot_age_seconds (Athena's default, 5 days, matches snapshot_retention_days) keeping vacuum_min_snapshots_to_keep, and deletes files no snapshot references, what the retention and orphan-file optimizers do on their own. It shortens time travel; do not run it while a raw->processed job writes.
VACUUM {{.Processed}}
