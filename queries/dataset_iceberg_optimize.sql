-- name: compact now
-- description: Rewrites the small files of {{.Processed}} and folds its merge-on-read delete files into data files, what the compaction optimizer does on its own; run it after a large backfill or where table_maintenance is off. Add WHERE dt >= '...' to limit it to recent days.
OPTIMIZE {{.Processed}} REWRITE DATA USING BIN_PACK
