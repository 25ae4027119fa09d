// Package layout is the S3 layout of the lake: the prefixes that the
// Firehose delivery, the validator's partition keys, the Glue jobs, the
// catalog tables, the alarms and the replay command agree on. Every other
// package takes them from here; the Glue jobs receive them as arguments
// (glue/README.md), so a change here reaches every reader and writer.
//
// Raw bucket:
//
//	source=<dataset>/dt=<YYYY-MM-DD>/...   Firehose delivery (validator partition keys)
//	errors/<error-output-type>/dt=<day>/... records Firehose could not process or deliver
//	landing/<dataset>/...                   files dropped by people and exports (JSON lines, CSV)
//	landing/<dataset>/replay/...            records replayed from errors/ (ingestion/replay)
//	landing/dms/<schema>/<table>/...        the DMS S3 target
//
// Processed bucket:
//
//	<dataset>/{data,metadata}/              the processed Apache Iceberg table
//	_quarantine/<dataset>/dt=<run day>/     rows the raw->processed job refused, with the reason
//	_quality/<dataset>/verdict.json         the dataset's latest quality verdict
//	_changes/<dataset>/<run>.json           days a raw->processed run changed, until curated consumed them
//	_landing_files/<dataset>/files.json     the landing CSV files the raw->processed job has read
//
// Curated bucket:
//
//	<dataset>_daily/{data,metadata}/, <join>/{data,metadata}/   the curated Apache Iceberg tables
package layout

// Partition keys the validator returns to Firehose (metadata.partitionKeys).
const (
	SourceKey = "source"
	DayKey    = "dt"
)

const (
	// FirehosePrefix is the delivery prefix: dynamic partitioning by the
	// validator's keys.
	FirehosePrefix = SourceKey + "=!{partitionKeyFromLambda:" + SourceKey + "}/" + DayKey + "=!{partitionKeyFromLambda:" + DayKey + "}/"
	// Errors holds Firehose's failed records; ErrorOutputPrefix keeps the
	// failure type in the key (processing-failed, activePartitionExceeded,
	// S3 delivery failures, ...).
	Errors            = "errors/"
	ErrorOutputPrefix = Errors + "!{firehose:error-output-type}/" + DayKey + "=!{timestamp:yyyy-MM-dd}/"
	// Landing holds files that reach the lake without the stream.
	Landing = "landing/"
	// DMSLanding is the DMS S3 target's folder (DMS adds <schema>/<table>/).
	DMSLanding = Landing + "dms"
	// Quarantine and Quality are processed-bucket folders (leading "_":
	// Spark and Athena skip them when they list a table's location).
	Quarantine = "_quarantine/"
	Quality    = "_quality/"
	Changes    = "_changes/"
	// LandingFiles holds each dataset's record of the landing CSV files its
	// raw->processed job read (Glue bookmarks follow DynamicFrame reads
	// only; the job reads CSV with Spark as strings, glue/lakelib/landing.py).
	LandingFiles = "_landing_files/"
	// DailySuffix names a dataset's curated daily table.
	DailySuffix = "_daily"
)

// Source is a dataset's Firehose prefix in the raw bucket.
func Source(dataset string) string { return SourceKey + "=" + dataset + "/" }

// LandingOf is a dataset's landing folder in the raw bucket.
func LandingOf(dataset string) string { return Landing + dataset + "/" }

// DMSTable is the folder the DMS S3 target writes one table to.
func DMSTable(schema, table string) string { return DMSLanding + "/" + schema + "/" + table + "/" }

// Processed is a dataset's table folder in the processed bucket.
func Processed(dataset string) string { return dataset + "/" }

// QuarantineOf is a dataset's quarantine folder in the processed bucket.
func QuarantineOf(dataset string) string { return Quarantine + dataset + "/" }

// ChangesOf is the folder of a dataset's change records: the event days each
// raw->processed run changed (written before its commit), which the curated
// job recomputes and then deletes.
func ChangesOf(dataset string) string { return Changes + dataset + "/" }

// LandingFilesOf is the folder of a dataset's landing CSV record.
func LandingFilesOf(dataset string) string { return LandingFiles + dataset + "/" }

// QualityOf is a dataset's verdict folder; Verdict the file in it.
func QualityOf(dataset string) string { return Quality + dataset + "/" }
func Verdict(dataset string) string   { return QualityOf(dataset) + "verdict.json" }

// DailyTable names a dataset's curated daily aggregate (table and folder).
func DailyTable(dataset string) string { return dataset + DailySuffix }

// Curated is a curated table's folder in the curated bucket.
func Curated(table string) string { return table + "/" }

// CuratedData is the prefix of a curated Iceberg table's data files
// (Iceberg's default write.data.path, <location>/data/): new objects under
// it are what the freshness rule counts. The curated job commits only when
// a recomputed day changed, so they mean new data; metadata/ changes with
// every commit, maintenance included.
func CuratedData(table string) string { return Curated(table) + "data/" }
