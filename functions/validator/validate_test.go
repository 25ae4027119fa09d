package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/example/datalake/dataset"
)

var update = flag.Bool("update", false, "rewrite testdata/firehose-kinesis-event.json from fixtureCases")

// Arrival times of the fixture records (epoch ms). Kinesis arrival is what
// the validator uses; Firehose's own timestamp is a little later.
const (
	kinesisArrivalMs  = 1764100000000 // 2025-11-25T19:46:40Z
	firehoseArrivalMs = kinesisArrivalMs + 1500
	absentMs          = -1 // leave the timestamp out of the event
)

// fixtureNow is the handler's clock in the fixture test, used only for
// records without any arrival timestamp.
var fixtureNow = time.UnixMilli(1764200000000) // 2025-11-26T23:33:20Z

// fixtureLimits are the defaults except a small MAX_RECORD_BYTES, so the
// too_large case does not need a megabyte of fixture.
var fixtureLimits = Limits{MaxRecordBytes: 4096, MaxFutureSkew: 15 * time.Minute, MaxEventAge: 3650 * 24 * time.Hour}

// fixtureCase is one record of the Firehose fixture and what the validator
// must make of it.
type fixtureCase struct {
	name   string
	record string
	reason Reason // empty: valid
	source string // valid records: expected partition keys
	dt     string
	// Arrival timestamps, epoch ms; 0 means the default above, absentMs
	// leaves the field out (noKinesis leaves out the whole
	// kinesisRecordMetadata, as for a Direct PUT stream).
	kinesisArrival, firehoseArrival int64
	noKinesis                       bool
}

var fixtureCases = []fixtureCase{
	// Valid: clickstream through the API.
	{name: "clickstream api", source: "clickstream", dt: "2025-11-25",
		record: `{"dataset":"clickstream","received_at":1764100000000,"data":{"event_id":"5b1c2f0e-8a41-4d6b-9f1e-2f6a0c9d7e31","session_id":"s-2f1d","customer_id":"cust-000042","event_type":"page_view","page_url":"https://shop.example.com/products/espresso?ref=home&x=1","duration_ms":5300,"event_time":"2025-11-25T19:45:12.345Z"}}`},
	{name: "clickstream api required fields only, offset crosses midnight", source: "clickstream", dt: "2025-11-24",
		record: `{"dataset":"clickstream","data":{"event_id":"e2","session_id":"s2","customer_id":"c2","event_type":"purchase","event_time":"2025-11-25T01:30:00+03:00"}}`},
	{name: "clickstream optional fields null", source: "clickstream", dt: "2025-11-25",
		record: `{"dataset":"clickstream","data":{"event_id":"e3","session_id":"s3","customer_id":"c3","event_type":"checkout","page_url":null,"duration_ms":null,"event_time":"2025-11-25T19:00:00.123456789Z"}}`},
	{name: "clickstream unknown extra fields (schema evolution)", source: "clickstream", dt: "2025-11-25",
		record: `{"dataset":"clickstream","data":{"event_id":"e4","session_id":"s4","customer_id":"c4","event_type":"add_to_cart","event_time":"2025-11-25T18:00:00Z","device":{"os":"iOS","version":[17,4]},"experiment":null,"score":1.5e3}}`},
	{name: "clickstream escapes, unicode, pretty-printed with trailing newline", source: "clickstream", dt: "2025-11-25",
		record: "{\n  \"dataset\": \"click\\u0073tream\",\n  \"data\": {\n    \"event_id\": \"e5\",\n    \"session_id\": \"s\\\"5\\\"\",\n    \"customer_id\": \"Jürgen ☕ 😀\",\n    \"event\\u005ftype\": \"page\\u005fview\",\n    \"page_url\": \"https:\\/\\/shop.example.com\\/caf\\u00e9\",\n    \"duration_ms\": 0,\n    \"event_time\": \"2025-11-25t19:46:40z\"\n  }\n}\n"},
	{name: "clickstream bounds: duration_ms at max, event time exactly at the skew limit", source: "clickstream", dt: "2025-11-25",
		record: `{"dataset":"clickstream","data":{"event_id":"e6","session_id":"s6","customer_id":"c6","event_type":"page_view","duration_ms":86400000,"event_time":"2025-11-25T20:01:40Z"}}`},
	{name: "dataset wins over metadata.table-name", source: "clickstream", dt: "2025-11-25",
		record: `{"dataset":"clickstream","metadata":{"table-name":"orders"},"data":{"event_id":"e7","session_id":"s7","customer_id":"c7","event_type":"page_view","event_time":"2025-11-25T10:00:00Z"}}`},

	// Valid: orders through the API and from DMS.
	{name: "orders api", source: "orders", dt: "2025-11-25",
		record: `{"dataset":"orders","received_at":1764099999000,"data":{"order_id":"o-1001","customer_id":"cust-000042","status":"paid","amount":129.99,"currency":"EUR","item_count":3,"updated_at":"2025-11-25T19:40:00+01:00"}}`},
	{name: "orders dms insert (data first)", source: "orders", dt: "2025-11-25",
		record: `{"data":{"order_id":"o-1002","customer_id":"cust-7","status":"placed","amount":0,"currency":"USD","item_count":1,"updated_at":"2025-11-25T19:30:00.000000Z"},"metadata":{"timestamp":"2025-11-25T19:30:00.123456Z","record-type":"data","operation":"insert","partition-key-type":"primary-key","schema-name":"public","table-name":"orders","transaction-id":8675309}}`},
	{name: "orders dms update (metadata first)", source: "orders", dt: "2025-11-20",
		record: `{"metadata":{"timestamp":"2025-11-25T19:31:00Z","record-type":"data","operation":"update","partition-key-type":"primary-key","schema-name":"public","table-name":"orders","transaction-id":8675310},"data":{"order_id":"o-900","customer_id":"cust-8","status":"refunded","amount":5e1,"currency":"USD","updated_at":"2025-11-20T08:00:00-05:00"}}`},

	// Arrival time: Kinesis metadata first, then Firehose, then the clock.
	{name: "kinesis arrival wins over firehose arrival", reason: ReasonFutureEventTime,
		kinesisArrival: kinesisArrivalMs, firehoseArrival: kinesisArrivalMs + 2*3600_000,
		record: `{"dataset":"clickstream","data":{"event_id":"a1","session_id":"s","customer_id":"c","event_type":"page_view","event_time":"2025-11-25T20:46:40Z"}}`},
	{name: "no kinesis metadata: firehose arrival", source: "clickstream", dt: "2025-11-25",
		noKinesis: true, firehoseArrival: kinesisArrivalMs + 2*3600_000,
		record: `{"dataset":"clickstream","data":{"event_id":"a2","session_id":"s","customer_id":"c","event_type":"page_view","event_time":"2025-11-25T20:46:40Z"}}`},
	{name: "no arrival at all: clock", source: "clickstream", dt: "2025-11-26",
		noKinesis: true, firehoseArrival: absentMs,
		record: `{"dataset":"clickstream","data":{"event_id":"a3","session_id":"s","customer_id":"c","event_type":"page_view","event_time":"2025-11-26T23:40:00Z"}}`},

	// Invalid, one per reason (and several ways for some).
	{name: "too large", reason: ReasonTooLarge,
		record: `{"dataset":"clickstream","data":{"event_id":"big","session_id":"s","customer_id":"c","event_type":"page_view","event_time":"2025-11-25T19:00:00Z","padding":"` + strings.Repeat("x", 4096) + `"}}`},
	{name: "not json", reason: ReasonNotJSON, record: `dataset=clickstream event_id=1`},
	{name: "truncated json", reason: ReasonNotJSON, record: `{"dataset":"clickstream","data":{"event_id":"e1","session_id":"s1"`},
	{name: "json array", reason: ReasonNotJSON, record: `[{"dataset":"clickstream"}]`},
	{name: "json string", reason: ReasonNotJSON, record: `"clickstream"`},
	{name: "empty record", reason: ReasonNotJSON, record: ``},
	{name: "invalid utf-8", reason: ReasonNotJSON,
		record: "{\"dataset\":\"clickstream\",\"data\":{\"event_id\":\"e\xff\",\"session_id\":\"s\",\"customer_id\":\"c\",\"event_type\":\"page_view\",\"event_time\":\"2025-11-25T19:00:00Z\"}}"},
	{name: "two objects in one record", reason: ReasonNotJSON,
		record: `{"dataset":"orders","data":{}}{"dataset":"orders","data":{}}`},
	{name: "dms control record", reason: ReasonDMSControlRecord,
		record: `{"control":{"table-def":{"columns":{"order_id":{"type":"STRING","length":36}}}},"metadata":{"timestamp":"2025-11-25T19:00:00.000000Z","record-type":"control","operation":"create-table","partition-key-type":"task-id","schema-name":"public","table-name":"orders"}}`},
	{name: "duplicate column", reason: ReasonDuplicateField,
		record: `{"dataset":"orders","data":{"order_id":"o","customer_id":"c","status":"paid","amount":1,"amount":-1,"currency":"EUR","updated_at":"2025-11-25T19:00:00Z"}}`},
	{name: "duplicate envelope key", reason: ReasonDuplicateField,
		record: `{"dataset":"orders","dataset":"clickstream","data":{"order_id":"o","customer_id":"c","status":"paid","amount":1,"currency":"EUR","updated_at":"2025-11-25T19:00:00Z"}}`},
	{name: "no dataset, no metadata", reason: ReasonMissingDataset,
		record: `{"data":{"order_id":"o","customer_id":"c","status":"paid","amount":1,"currency":"EUR","updated_at":"2025-11-25T19:00:00Z"}}`},
	{name: "empty dataset", reason: ReasonMissingDataset, record: `{"dataset":"","data":{}}`},
	{name: "dataset not a string", reason: ReasonMissingDataset, record: `{"dataset":42,"data":{}}`},
	{name: "dms without table-name", reason: ReasonMissingDataset,
		record: `{"data":{"order_id":"o"},"metadata":{"record-type":"data","operation":"insert","schema-name":"public"}}`},
	{name: "unknown dataset", reason: ReasonUnknownDataset, record: `{"dataset":"no_such_dataset","data":{"sku":"A-1"}}`},
	{name: "unknown dms table", reason: ReasonUnknownDataset,
		record: `{"data":{"id":1},"metadata":{"record-type":"data","operation":"insert","schema-name":"public","table-name":"customers"}}`},
	{name: "no data", reason: ReasonMissingData, record: `{"dataset":"clickstream","received_at":1764100000000}`},
	{name: "data is an array", reason: ReasonMissingData, record: `{"dataset":"clickstream","data":[{"event_id":"e"}]}`},
	{name: "data is null", reason: ReasonMissingData, record: `{"dataset":"orders","data":null}`},
	{name: "required field missing", reason: ReasonMissingField,
		record: `{"dataset":"clickstream","data":{"event_id":"e","session_id":"s","event_type":"page_view","event_time":"2025-11-25T19:00:00Z"}}`},
	{name: "required field null", reason: ReasonMissingField,
		record: `{"dataset":"orders","data":{"order_id":"o","customer_id":"c","status":"paid","amount":null,"currency":"EUR","updated_at":"2025-11-25T19:00:00Z"}}`},
	{name: "event time missing", reason: ReasonMissingField,
		record: `{"dataset":"clickstream","data":{"event_id":"e","session_id":"s","customer_id":"c","event_type":"page_view"}}`},
	{name: "bigint as string", reason: ReasonWrongType,
		record: `{"dataset":"clickstream","data":{"event_id":"e","session_id":"s","customer_id":"c","event_type":"page_view","duration_ms":"5300","event_time":"2025-11-25T19:00:00Z"}}`},
	{name: "bigint with fraction", reason: ReasonWrongType,
		record: `{"dataset":"clickstream","data":{"event_id":"e","session_id":"s","customer_id":"c","event_type":"page_view","duration_ms":1.5,"event_time":"2025-11-25T19:00:00Z"}}`},
	{name: "bigint beyond int64", reason: ReasonWrongType,
		record: `{"dataset":"orders","data":{"order_id":"o","customer_id":"c","status":"paid","amount":1,"currency":"EUR","item_count":9223372036854775808,"updated_at":"2025-11-25T19:00:00Z"}}`},
	{name: "double as string", reason: ReasonWrongType,
		record: `{"dataset":"orders","data":{"order_id":"o","customer_id":"c","status":"paid","amount":"129.99","currency":"EUR","updated_at":"2025-11-25T19:00:00Z"}}`},
	{name: "string as number", reason: ReasonWrongType,
		record: `{"dataset":"orders","data":{"order_id":1001,"customer_id":"c","status":"paid","amount":1,"currency":"EUR","updated_at":"2025-11-25T19:00:00Z"}}`},
	{name: "event time as epoch number", reason: ReasonWrongType,
		record: `{"dataset":"clickstream","data":{"event_id":"e","session_id":"s","customer_id":"c","event_type":"page_view","event_time":1764100000000}}`},
	{name: "received_at not a number", reason: ReasonWrongType,
		record: `{"dataset":"clickstream","received_at":"2025-11-25T19:00:00Z","data":{"event_id":"e","session_id":"s","customer_id":"c","event_type":"page_view","event_time":"2025-11-25T19:00:00Z"}}`},
	{name: "event_type not allowed", reason: ReasonNotAllowed,
		record: `{"dataset":"clickstream","data":{"event_id":"e","session_id":"s","customer_id":"c","event_type":"scroll","event_time":"2025-11-25T19:00:00Z"}}`},
	{name: "status not allowed (case matters)", reason: ReasonNotAllowed,
		record: `{"data":{"order_id":"o","customer_id":"c","status":"PAID","amount":1,"currency":"EUR","updated_at":"2025-11-25T19:00:00Z"},"metadata":{"record-type":"data","operation":"update","table-name":"orders"}}`},
	{name: "duration below min", reason: ReasonOutOfRange,
		record: `{"dataset":"clickstream","data":{"event_id":"e","session_id":"s","customer_id":"c","event_type":"page_view","duration_ms":-1,"event_time":"2025-11-25T19:00:00Z"}}`},
	{name: "duration above max", reason: ReasonOutOfRange,
		record: `{"dataset":"clickstream","data":{"event_id":"e","session_id":"s","customer_id":"c","event_type":"page_view","duration_ms":86400001,"event_time":"2025-11-25T19:00:00Z"}}`},
	{name: "negative amount", reason: ReasonOutOfRange,
		record: `{"dataset":"orders","data":{"order_id":"o","customer_id":"c","status":"refunded","amount":-0.01,"currency":"EUR","updated_at":"2025-11-25T19:00:00Z"}}`},
	{name: "zero items", reason: ReasonOutOfRange,
		record: `{"dataset":"orders","data":{"order_id":"o","customer_id":"c","status":"paid","amount":1,"currency":"EUR","item_count":0,"updated_at":"2025-11-25T19:00:00Z"}}`},
	{name: "event time not a timestamp", reason: ReasonBadEventTime,
		record: `{"dataset":"clickstream","data":{"event_id":"e","session_id":"s","customer_id":"c","event_type":"page_view","event_time":"yesterday"}}`},
	// Database-export timestamps (no offset = UTC, space separator) are
	// valid: the Glue jobs read them the same way.
	{name: "event time without offset", source: "clickstream", dt: "2025-11-25",
		record: `{"dataset":"clickstream","data":{"event_id":"e","session_id":"s","customer_id":"c","event_type":"page_view","event_time":"2025-11-25T19:00:00"}}`},
	{name: "event time with space (DMS style)", source: "orders", dt: "2025-11-25",
		record: `{"data":{"order_id":"o","customer_id":"c","status":"paid","amount":1,"currency":"EUR","updated_at":"2025-11-25 19:00:00.000000"},"metadata":{"record-type":"data","operation":"insert","table-name":"orders"}}`},
	{name: "event time on a day that does not exist", reason: ReasonBadEventTime,
		record: `{"dataset":"orders","data":{"order_id":"o","customer_id":"c","status":"paid","amount":1,"currency":"EUR","updated_at":"2025-02-29T12:00:00Z"}}`},
	{name: "event time in the future", reason: ReasonFutureEventTime,
		record: `{"dataset":"clickstream","data":{"event_id":"e","session_id":"s","customer_id":"c","event_type":"page_view","event_time":"2025-11-25T20:01:41Z"}}`},
	{name: "event time too old", reason: ReasonStaleEventTime,
		record: `{"dataset":"orders","data":{"order_id":"o","customer_id":"c","status":"delivered","amount":10,"currency":"EUR","updated_at":"2015-11-01T00:00:00Z"}}`},
}

// fixtureEvent is the Firehose event for fixtureCases, as Firehose sends it
// from a Kinesis data stream source.
func fixtureEvent() any {
	type kinesisMeta struct {
		ShardID                     string `json:"shardId"`
		PartitionKey                string `json:"partitionKey"`
		ApproximateArrivalTimestamp *int64 `json:"approximateArrivalTimestamp,omitempty"`
		SequenceNumber              string `json:"sequenceNumber"`
		SubsequenceNumber           int64  `json:"subsequenceNumber"`
	}
	type record struct {
		RecordID                    string       `json:"recordId"`
		ApproximateArrivalTimestamp *int64       `json:"approximateArrivalTimestamp,omitempty"`
		Data                        []byte       `json:"data"`
		KinesisRecordMetadata       *kinesisMeta `json:"kinesisRecordMetadata,omitempty"`
	}
	ms := func(v, def int64) *int64 {
		switch v {
		case absentMs:
			return nil
		case 0:
			return &def
		}
		return &v
	}
	var recs []record
	for i, c := range fixtureCases {
		seq := fixtureSeq(i)
		r := record{RecordID: seq + "000000", ApproximateArrivalTimestamp: ms(c.firehoseArrival, firehoseArrivalMs), Data: []byte(c.record)}
		if !c.noKinesis {
			r.KinesisRecordMetadata = &kinesisMeta{
				ShardID: fmt.Sprintf("shardId-%012d", i%2), PartitionKey: fmt.Sprintf("pk-%04d", i),
				ApproximateArrivalTimestamp: ms(c.kinesisArrival, kinesisArrivalMs), SequenceNumber: seq,
			}
		}
		recs = append(recs, r)
	}
	return struct {
		InvocationID           string   `json:"invocationId"`
		DeliveryStreamArn      string   `json:"deliveryStreamArn"`
		SourceKinesisStreamArn string   `json:"sourceKinesisStreamArn"`
		Region                 string   `json:"region"`
		Records                []record `json:"records"`
	}{
		InvocationID:           "6f4a9b2e-3c1d-4e5f-8a7b-9c0d1e2f3a4b",
		DeliveryStreamArn:      "arn:aws:firehose:us-west-2:123456789012:deliverystream/data-pipeline-raw-dev",
		SourceKinesisStreamArn: "arn:aws:kinesis:us-west-2:123456789012:stream/data-pipeline-ingest-dev",
		Region:                 "us-west-2",
		Records:                recs,
	}
}

func fixtureSeq(i int) string {
	return fmt.Sprintf("4965715389854352138672761453901618692958443129054199%04d", i)
}

const fixtureFile = "testdata/firehose-kinesis-event.json"

// loadFixture reads the Firehose event fixture (rewriting it first with
// -update) and checks it still matches fixtureCases.
func loadFixture(t *testing.T) events.KinesisFirehoseEvent {
	t.Helper()
	if *update {
		b, err := json.MarshalIndent(fixtureEvent(), "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(fixtureFile, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(fixtureFile)
	if err != nil {
		t.Fatalf("%v (run go test -run TestFirehoseFixture -update to create it)", err)
	}
	var ev events.KinesisFirehoseEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	if len(ev.Records) != len(fixtureCases) {
		t.Fatalf("%s has %d records, fixtureCases %d: run with -update", fixtureFile, len(ev.Records), len(fixtureCases))
	}
	for i, c := range fixtureCases {
		if string(ev.Records[i].Data) != c.record {
			t.Fatalf("%s record %d differs from case %q: run with -update", fixtureFile, i, c.name)
		}
	}
	return ev
}

func newTestHandler(t *testing.T, limits Limits, out *bytes.Buffer) *Handler {
	t.Helper()
	specs, err := LoadDatasets(datasetsFile)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewValidator(specs, limits)
	if err != nil {
		t.Fatal(err)
	}
	return &Handler{Validator: v, Out: out, MetricsNamespace: "DataLake/Ingestion", Environment: "test",
		Now: func() time.Time { return fixtureNow }}
}

// logLines parses the JSON lines the handler wrote.
func logLines(t *testing.T, out *bytes.Buffer) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for l := range strings.SplitSeq(strings.TrimRight(out.String(), "\n"), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, l)
		}
		lines = append(lines, m)
	}
	return lines
}

// TestFirehoseFixture runs the handler on a real-shaped Firehose event and
// checks every record's outcome, the response wire format, the rejection
// log lines and the metrics line.
func TestFirehoseFixture(t *testing.T) {
	ev := loadFixture(t)
	var out bytes.Buffer
	h := newTestHandler(t, fixtureLimits, &out)
	resp, err := h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if len(resp.Records) != len(ev.Records) {
		t.Fatalf("%d response records for %d input records", len(resp.Records), len(ev.Records))
	}

	lines := logLines(t, &out)
	rejectLog := map[string]map[string]any{}
	var metrics map[string]any
	for _, l := range lines {
		switch l["msg"] {
		case "record rejected":
			id := l["record_id"].(string)
			if rejectLog[id] != nil {
				t.Errorf("record %s rejected twice in the log", id)
			}
			rejectLog[id] = l
		case "batch processed":
			if metrics != nil {
				t.Error("more than one metrics line")
			}
			metrics = l
		default:
			t.Errorf("unexpected log line %v", l)
		}
	}

	wantRejected := map[string]float64{}
	accepted := 0
	for i, c := range fixtureCases {
		in, got := ev.Records[i], resp.Records[i]
		t.Run(c.name, func(t *testing.T) {
			if got.RecordID != in.RecordID {
				t.Fatalf("record %d: recordId %q, want %q (same order as input)", i, got.RecordID, in.RecordID)
			}
			if !bytes.Equal(got.Data, []byte(c.record)) {
				t.Errorf("data changed:\n got %q\nwant %q", got.Data, c.record)
			}
			logged := rejectLog[in.RecordID]
			if c.reason == "" {
				if got.Result != "Ok" {
					t.Fatalf("result %s, want Ok; log: %v", got.Result, logged)
				}
				want := map[string]string{"source": c.source, "dt": c.dt}
				if !maps.Equal(got.Metadata.PartitionKeys, want) {
					t.Errorf("partition keys %v, want %v", got.Metadata.PartitionKeys, want)
				}
				if logged != nil {
					t.Errorf("valid record logged as rejected: %v", logged)
				}
				return
			}
			if got.Result != "ProcessingFailed" {
				t.Fatalf("result %s, want ProcessingFailed (%s)", got.Result, c.reason)
			}
			if logged == nil {
				t.Fatal("rejected record has no log line")
			}
			if logged["reason"] != string(c.reason) {
				t.Errorf("reason %v, want %s (detail: %v)", logged["reason"], c.reason, logged["detail"])
			}
			if d, _ := logged["detail"].(string); d == "" {
				t.Error("empty detail")
			}
			if logged["level"] != "warn" {
				t.Errorf("level %v, want warn", logged["level"])
			}
			wantSeq, wantShard := "", ""
			if !c.noKinesis {
				wantSeq, wantShard = fixtureSeq(i), fmt.Sprintf("shardId-%012d", i%2)
			}
			if logged["kinesis_sequence_number"] != wantSeq || logged["kinesis_shard_id"] != wantShard {
				t.Errorf("kinesis ids %v/%v, want %s/%s", logged["kinesis_sequence_number"], logged["kinesis_shard_id"], wantSeq, wantShard)
			}
			t.Logf("%s: %s", logged["reason"], logged["detail"])
		})
		if c.reason == "" {
			accepted++
		} else {
			wantRejected[string(c.reason)]++
		}
	}

	// Every reason code is exercised by the fixture.
	for _, r := range Reasons {
		if wantRejected[string(r)] == 0 {
			t.Errorf("fixture has no case for reason %s", r)
		}
	}

	// The metrics line is valid EMF with the counts.
	if metrics == nil {
		t.Fatal("no metrics line")
	}
	checkEMF(t, metrics, float64(accepted), float64(len(fixtureCases)-accepted))
	if got := metrics["RejectedByReason"].(map[string]any); !mapsEqualAny(got, wantRejected) {
		t.Errorf("RejectedByReason %v, want %v", got, wantRejected)
	}

	// The response on the wire: what Firehose reads back.
	wire, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Records []struct {
			RecordID string `json:"recordId"`
			Result   string `json:"result"`
			Data     []byte `json:"data"`
			Metadata struct {
				PartitionKeys map[string]string `json:"partitionKeys"`
			} `json:"metadata"`
		} `json:"records"`
	}
	if err := json.Unmarshal(wire, &back); err != nil {
		t.Fatal(err)
	}
	for i, r := range back.Records {
		if r.RecordID != ev.Records[i].RecordID || !bytes.Equal(r.Data, ev.Records[i].Data) {
			t.Errorf("wire record %d: id %s, data %q", i, r.RecordID, r.Data)
		}
		if r.Result == "Ok" && (r.Metadata.PartitionKeys["source"] == "" || r.Metadata.PartitionKeys["dt"] == "") {
			t.Errorf("wire record %d: partition keys %v", i, r.Metadata.PartitionKeys)
		}
	}
}

func checkEMF(t *testing.T, m map[string]any, accepted, rejected float64) {
	t.Helper()
	aws, ok := m["_aws"].(map[string]any)
	if !ok {
		t.Fatalf("no _aws in %v", m)
	}
	if ts, ok := aws["Timestamp"].(float64); !ok || ts <= 0 {
		t.Errorf("_aws.Timestamp %v", aws["Timestamp"])
	}
	dirs := aws["CloudWatchMetrics"].([]any)
	if len(dirs) != 1 {
		t.Fatalf("%d metric directives", len(dirs))
	}
	d := dirs[0].(map[string]any)
	if d["Namespace"] != "DataLake/Ingestion" {
		t.Errorf("namespace %v", d["Namespace"])
	}
	if fmt.Sprint(d["Dimensions"]) != "[[Environment]]" {
		t.Errorf("dimensions %v", d["Dimensions"])
	}
	var names []string
	for _, mt := range d["Metrics"].([]any) {
		mm := mt.(map[string]any)
		if mm["Unit"] != "Count" {
			t.Errorf("metric %v unit %v", mm["Name"], mm["Unit"])
		}
		names = append(names, mm["Name"].(string))
		if _, ok := m[mm["Name"].(string)].(float64); !ok {
			t.Errorf("metric %v has no numeric value", mm["Name"])
		}
	}
	if !slices.Equal(names, []string{"RecordsAccepted", "RecordsRejected"}) {
		t.Errorf("metrics %v", names)
	}
	if m["Environment"] != "test" {
		t.Errorf("Environment %v", m["Environment"])
	}
	if m["RecordsAccepted"] != accepted || m["RecordsRejected"] != rejected {
		t.Errorf("accepted %v rejected %v, want %v %v", m["RecordsAccepted"], m["RecordsRejected"], accepted, rejected)
	}
}

func TestEmptyBatch(t *testing.T) {
	b, err := os.ReadFile("testdata/firehose-empty-event.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.KinesisFirehoseEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	resp, err := newTestHandler(t, DefaultLimits(), &out).Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	wire, _ := json.Marshal(resp)
	if string(wire) != `{"records":[]}` {
		t.Errorf("response %s, want {\"records\":[]}", wire)
	}
	lines := logLines(t, &out)
	if len(lines) != 2 || lines[0]["msg"] != "empty batch" || lines[0]["level"] != "info" {
		t.Fatalf("log lines %v, want an info line and the metrics line", lines)
	}
	checkEMF(t, lines[1], 0, 0)
}

func TestHandlerNotInitialised(t *testing.T) {
	var h *Handler
	if _, err := h.Handle(context.Background(), events.KinesisFirehoseEvent{}); err == nil {
		t.Error("nil handler: no error")
	}
}

// testSpecs are the example declarations plus one with a date event time
// and every column type, for the checks the examples cannot reach.
func testSpecs(t *testing.T) []dataset.Spec {
	t.Helper()
	specs, err := LoadDatasets(datasetsFile)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := 0.0, 1000.0
	return append(specs, dataset.Spec{
		Name: "stock", EventTimeField: "snapshot_date", Key: []string{"sku", "snapshot_date"},
		Columns: []dataset.Column{
			{Name: "sku", Type: dataset.String, Required: true},
			{Name: "snapshot_date", Type: dataset.Date, Required: true},
			{Name: "counted_at", Type: dataset.Timestamp},
			{Name: "expires_on", Type: dataset.Date},
			{Name: "on_hand", Type: dataset.Bigint},
			{Name: "price", Type: dataset.Double, Min: &lo, Max: &hi},
			{Name: "active", Type: dataset.Boolean},
		},
	})
}

// TestCheck covers the column types and edge cases beyond the fixture.
func TestCheck(t *testing.T) {
	v, err := NewValidator(testSpecs(t), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	arrival := time.UnixMilli(kinesisArrivalMs)
	stock := func(fields string) string {
		return `{"dataset":"stock","data":{"sku":"A-1","snapshot_date":"2025-11-25"` + fields + `}}`
	}
	cases := []struct {
		name, record string
		reason       Reason
		dt           string
		detail       string // substring of the detail
	}{
		{name: "date event time", record: stock(`,"counted_at":"2025-11-25T06:00:00Z","expires_on":"2026-01-31","on_hand":-3,"price":999.5,"active":false`), dt: "2025-11-25"},
		{name: "date event time tomorrow is future", record: `{"dataset":"stock","data":{"sku":"A","snapshot_date":"2025-11-26"}}`, reason: ReasonFutureEventTime},
		{name: "bad date event time", record: `{"dataset":"stock","data":{"sku":"A","snapshot_date":"2025-11-25T00:00:00Z"}}`, reason: ReasonBadEventTime, detail: "YYYY-MM-DD"},
		{name: "bad timestamp column", record: stock(`,"counted_at":"25/11/2025"`), reason: ReasonWrongType, detail: `field "counted_at": expected an RFC 3339 timestamp string`},
		{name: "bad date column", record: stock(`,"expires_on":"2026-02-30"`), reason: ReasonWrongType, detail: `"expires_on"`},
		{name: "boolean as string", record: stock(`,"active":"true"`), reason: ReasonWrongType, detail: `expected boolean (true or false), got string`},
		{name: "boolean as number", record: stock(`,"active":1`), reason: ReasonWrongType},
		{name: "double beyond range", record: stock(`,"price":1e400`), reason: ReasonWrongType, detail: "outside the double range"},
		{name: "double above max", record: stock(`,"price":1000.0000001`), reason: ReasonOutOfRange, detail: "must be between 0 and 1000"},
		{name: "double exponent within range", record: stock(`,"price":1.5E+2`), dt: "2025-11-25"},
		{name: "int64 min", record: stock(`,"on_hand":-9223372036854775808`), dt: "2025-11-25"},
		{name: "int64 below min", record: stock(`,"on_hand":-9223372036854775809`), reason: ReasonWrongType},
		{name: "bigint exponent", record: stock(`,"on_hand":1e2`), reason: ReasonWrongType, detail: "non-integer"},
		{name: "column given twice", record: stock(`,"sku":{"id":1}`), reason: ReasonDuplicateField, detail: `"sku" appears more than once`},
		{name: "object in string column", record: `{"dataset":"stock","data":{"sku":{"id":"A-1"},"snapshot_date":"2025-11-25"}}`, reason: ReasonWrongType, detail: "got object"},
		{name: "first problem in document order wins", record: `{"dataset":"stock","data":{"price":-1,"sku":5,"snapshot_date":"2025-11-25"}}`, reason: ReasonOutOfRange},
		{name: "syntax error after a field problem", record: `{"dataset":"stock","data":{"price":-1,"sku":"A","snapshot_date":"2025-11-25",}}`, reason: ReasonNotJSON},
		{name: "control record wins over missing data", record: `{"metadata":{"record-type":"control","operation":"drop-table","table-name":"orders"}}`, reason: ReasonDMSControlRecord, detail: `"drop-table"`},
		{name: "unknown dataset lists known ones", record: `{"dataset":"no_such_dataset","data":{}}`, reason: ReasonUnknownDataset, detail: "known datasets are " + strings.Join(knownNames(testSpecs(t)), ", ")},
		{name: "not allowed names value and allowed", record: `{"dataset":"clickstream","data":{"event_id":"e","session_id":"s","customer_id":"c","event_type":"scroll","event_time":"2025-11-25T19:00:00Z"}}`,
			reason: ReasonNotAllowed, detail: `field "event_type": "scroll" is not allowed: use one of page_view, add_to_cart, checkout, purchase`},
		{name: "missing field named", record: `{"dataset":"stock","data":{"snapshot_date":"2025-11-25"}}`, reason: ReasonMissingField, detail: `"sku"`},
		{name: "wrong type hides the value", record: stock(`,"on_hand":"secret-value"`), reason: ReasonWrongType, detail: `field "on_hand": expected bigint (integer JSON number within int64), got string`},
		{name: "deep nesting in unknown field", record: stock(`,"x":` + strings.Repeat("[", 500) + strings.Repeat("]", 500)), dt: "2025-11-25"},
		{name: "nesting beyond limit", record: stock(`,"x":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)), reason: ReasonNotJSON, detail: "nesting"},
		{name: "lone surrogate escape is valid JSON", record: stock(`,"note":"\ud800"`), dt: "2025-11-25"},
		{name: "bad escape", record: stock(`,"note":"\x"`), reason: ReasonNotJSON, detail: "invalid escape"},
		{name: "raw control character", record: stock(",\"note\":\"a\tb\""), reason: ReasonNotJSON, detail: "control character"},
		{name: "leading zero", record: stock(`,"on_hand":01`), reason: ReasonNotJSON},
		{name: "whitespace only", record: " \n", reason: ReasonNotJSON, detail: "empty"},
		{name: "trailing NUL byte", record: stock(``) + "\x00", reason: ReasonNotJSON, detail: "byte 0x00 after the top-level object"},
		{name: "NUL byte only", record: "\x00", reason: ReasonNotJSON, detail: "byte 0x00"},
		{name: "received_at fraction", record: `{"dataset":"stock","received_at":1.5,"data":{"sku":"A","snapshot_date":"2025-11-25"}}`, reason: ReasonWrongType, detail: "received_at"},
		{name: "received_at null", record: `{"dataset":"stock","received_at":null,"data":{"sku":"A","snapshot_date":"2025-11-25"}}`, dt: "2025-11-25"},
		{name: "metadata not an object", record: `{"dataset":"stock","metadata":"x","data":{"sku":"A","snapshot_date":"2025-11-25"}}`, dt: "2025-11-25"},
		{name: "table-name not a string", record: `{"data":{},"metadata":{"table-name":7}}`, reason: ReasonMissingDataset},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := v.Check([]byte(c.record), arrival)
			if res.Reason != c.reason {
				t.Fatalf("reason %q, want %q (detail: %s)", res.Reason, c.reason, res.Detail)
			}
			if c.reason == "" && res.Partition.DT != c.dt {
				t.Errorf("dt %q, want %q", res.Partition.DT, c.dt)
			}
			if !strings.Contains(res.Detail, c.detail) {
				t.Errorf("detail %q does not contain %q", res.Detail, c.detail)
			}
		})
	}
}

// TestCheckLimits covers MaxRecordBytes, MaxFutureSkew and MaxEventAge at
// their edges.
func TestCheckLimits(t *testing.T) {
	rec := func(ts string) []byte {
		return []byte(`{"dataset":"clickstream","data":{"event_id":"e","session_id":"s","customer_id":"c","event_type":"page_view","event_time":"` + ts + `"}}`)
	}
	arrival := time.Date(2025, 11, 25, 12, 0, 0, 0, time.UTC)
	specs := testSpecs(t)
	limits := Limits{MaxRecordBytes: len(rec("2025-11-25T12:00:00Z")), MaxFutureSkew: time.Minute, MaxEventAge: 2 * 24 * time.Hour}
	v, err := NewValidator(specs, limits)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ts     string
		reason Reason
	}{
		{"2025-11-25T12:00:00Z", ""},
		{"2025-11-25T12:01:00Z", ""},
		{"2025-11-25T12:01:01Z", ReasonFutureEventTime},
		{"2025-11-23T12:00:00Z", ""},
		{"2025-11-23T11:59:59Z", ReasonStaleEventTime},
		{"2025-11-25T12:00:00.1Z", ReasonTooLarge},
	} {
		if got := v.Check(rec(c.ts), arrival); got.Reason != c.reason {
			t.Errorf("%s: reason %q, want %q (%s)", c.ts, got.Reason, c.reason, got.Detail)
		}
	}
}

// A dataset's timezone reads timestamps written without an offset: the
// event day and the future check use the instant in UTC; values with an
// offset or Z are unaffected.
func TestTimezoneOfOffsetlessTimestamps(t *testing.T) {
	specs := testSpecs(t)
	for i := range specs {
		if specs[i].Name == "clickstream" {
			specs[i].Timezone = "Asia/Tokyo" // UTC+9, no daylight saving
		}
	}
	v, err := NewValidator(specs, Limits{MaxRecordBytes: 4096, MaxFutureSkew: time.Minute, MaxEventAge: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	rec := func(ts string) []byte {
		return []byte(`{"dataset":"clickstream","data":{"event_id":"e","session_id":"s","customer_id":"c","event_type":"page_view","event_time":"` + ts + `"}}`)
	}
	arrival := time.Date(2025, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		ts, dt string
		reason Reason
	}{
		{"2025-11-25 20:59:00", "2025-11-25", ""},           // 11:59 UTC
		{"2025-11-25 21:02:00", "", ReasonFutureEventTime},  // 12:02 UTC: beyond arrival + 1 min
		{"2025-11-25T12:02:00Z", "", ReasonFutureEventTime}, // an explicit Z is UTC
		{"2025-11-25T11:59:00Z", "2025-11-25", ""},
		{"2025-11-25T20:00:00+09:00", "2025-11-25", ""}, // an explicit offset is kept
		{"2025-11-25T20:00:00+00:00", "", ReasonFutureEventTime},
		{"2025-11-25 08:00:00", "2025-11-24", ""}, // 23:00 UTC the day before
	} {
		got := v.Check(rec(c.ts), arrival)
		if got.Reason != c.reason || (c.reason == "" && got.Partition.DT != c.dt) {
			t.Errorf("%s: reason %q dt %q, want %q %q (%s)", c.ts, got.Reason, got.Partition.DT, c.reason, c.dt, got.Detail)
		}
	}
}

func TestNewValidatorRejectsBadDeclarations(t *testing.T) {
	good := testSpecs(t)
	noEventTime := good[0]
	noEventTime.EventTimeField = "received"
	for name, c := range map[string]struct {
		specs  []dataset.Spec
		limits Limits
		want   string
	}{
		"none":             {nil, DefaultLimits(), "no datasets"},
		"spec problem":     {[]dataset.Spec{noEventTime}, DefaultLimits(), `datasets[0].event_time_field: "received" is not one of the declared columns`},
		"duplicate name":   {[]dataset.Spec{good[0], good[0]}, DefaultLimits(), `datasets[1].name: "clickstream" is declared twice`},
		"bad record limit": {good, Limits{MaxFutureSkew: time.Minute, MaxEventAge: time.Hour}, "MaxRecordBytes 0"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := NewValidator(c.specs, c.limits)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

// env returns a getenv over m.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func noExecutable() (string, error) { return "", os.ErrNotExist }

func TestLoadConfig(t *testing.T) {
	cfg, err := LoadConfig(env(map[string]string{EnvDatasetsFile: datasetsFile}), noExecutable)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{DatasetsFile: datasetsFile, Limits: DefaultLimits(), MetricsNamespace: "DataLake/Ingestion", Environment: "unknown"}
	if cfg != want {
		t.Errorf("defaults %+v, want %+v", cfg, want)
	}
	if want.Limits != (Limits{MaxRecordBytes: 1024000, MaxFutureSkew: 15 * time.Minute, MaxEventAge: 3650 * 24 * time.Hour}) {
		t.Errorf("DefaultLimits %+v", want.Limits)
	}

	cfg, err = LoadConfig(env(map[string]string{
		EnvDatasetsFile: "x.json", EnvMaxFutureSkew: "90s", EnvMaxEventAgeDays: " 30 ", EnvMaxRecordBytes: "65536",
		EnvMetricsNamespace: "Lake/Test", EnvEnvironment: "prod",
	}), noExecutable)
	if err != nil {
		t.Fatal(err)
	}
	want = Config{DatasetsFile: "x.json", Limits: Limits{MaxRecordBytes: 65536, MaxFutureSkew: 90 * time.Second, MaxEventAge: 30 * 24 * time.Hour},
		MetricsNamespace: "Lake/Test", Environment: "prod"}
	if cfg != want {
		t.Errorf("overrides %+v, want %+v", cfg, want)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	for _, c := range []struct {
		name, value string
		want        []string // substrings of the error
	}{
		{EnvMaxFutureSkew, "15", []string{`MAX_FUTURE_SKEW="15"`, "Go duration such as 15m"}},
		{EnvMaxFutureSkew, "-1m", []string{`MAX_FUTURE_SKEW="-1m"`, "non-negative"}},
		{EnvMaxEventAgeDays, "10y", []string{`MAX_EVENT_AGE_DAYS="10y"`, "whole number of days from 1 to 36500"}},
		{EnvMaxEventAgeDays, "0", []string{`MAX_EVENT_AGE_DAYS="0"`}},
		{EnvMaxRecordBytes, "1MB", []string{`MAX_RECORD_BYTES="1MB"`, "from 1 to 1024000"}},
		{EnvMaxRecordBytes, "2000000", []string{`MAX_RECORD_BYTES="2000000"`, "Firehose record limit"}},
		{EnvMetricsNamespace, ":Lake", []string{`METRICS_NAMESPACE=":Lake"`, "not starting with ':'"}},
	} {
		t.Run(c.name+"="+c.value, func(t *testing.T) {
			_, err := LoadConfig(env(map[string]string{EnvDatasetsFile: "d.json", c.name: c.value}), noExecutable)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
	// All problems are reported at once.
	_, err := LoadConfig(env(map[string]string{EnvDatasetsFile: "d.json", EnvMaxFutureSkew: "soon", EnvMaxRecordBytes: "big"}), noExecutable)
	if err == nil || !strings.Contains(err.Error(), EnvMaxFutureSkew) || !strings.Contains(err.Error(), EnvMaxRecordBytes) {
		t.Errorf("error %v, want both variables named", err)
	}
}

func TestDatasetsFileLocation(t *testing.T) {
	data, err := os.ReadFile(datasetsFile)
	if err != nil {
		t.Fatal(err)
	}
	taskRoot, exeDir, empty := t.TempDir(), t.TempDir(), t.TempDir()
	for _, d := range []string{taskRoot, exeDir} {
		if err := os.WriteFile(filepath.Join(d, DatasetsFileName), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	exe := func(dir string) func() (string, error) {
		return func() (string, error) { return filepath.Join(dir, "bootstrap"), nil }
	}
	for _, c := range []struct {
		name string
		env  map[string]string
		exe  func() (string, error)
		want string // path, or error substring if wantErr
		err  bool
	}{
		{"DATASETS_FILE wins", map[string]string{EnvDatasetsFile: "/etc/x.json", "LAMBDA_TASK_ROOT": taskRoot}, exe(exeDir), "/etc/x.json", false},
		{"task root", map[string]string{"LAMBDA_TASK_ROOT": taskRoot}, exe(exeDir), filepath.Join(taskRoot, DatasetsFileName), false},
		{"task root without file: executable dir", map[string]string{"LAMBDA_TASK_ROOT": empty}, exe(exeDir), filepath.Join(exeDir, DatasetsFileName), false},
		{"no task root: executable dir", nil, exe(exeDir), filepath.Join(exeDir, DatasetsFileName), false},
		{"nowhere", map[string]string{"LAMBDA_TASK_ROOT": empty}, exe(empty), "datasets file not found", true},
		{"nothing known", nil, noExecutable, "DATASETS_FILE is not set", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := LoadConfig(env(c.env), c.exe)
			if c.err {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Errorf("error %v, want %q", err, c.want)
				}
				return
			}
			if err != nil || cfg.DatasetsFile != c.want {
				t.Errorf("file %q (err %v), want %q", cfg.DatasetsFile, err, c.want)
			}
		})
	}
}

func TestDatasetsFileErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "nope.json"), "no such file"},
		{"not json", write("bad.json", "datasets: [clickstream]"), "not a JSON array"},
		{"object", write("obj.json", `{"datasets":[]}`), "not a JSON array"},
		{"empty array", write("empty.json", `[]`), "declares no datasets"},
		{"null", write("null.json", `null`), "declares no datasets"},
		{"misspelt field", write("typo.json", `[{"name":"a","event_time_field":"t","key":["t"],"columns":[{"name":"t","type":"timestamp","requried":true}]}]`), `unknown field "requried"`},
		{"trailing data", write("trail.json", `[] []`), "after the JSON array"},
		{"invalid declaration", write("decl.json", `[{"name":"a","event_time_field":"t","key":["t"],"columns":[{"name":"t","type":"timestamp"}]}]`), `"t" must be a required column`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := newHandler(env(map[string]string{EnvDatasetsFile: c.path}), noExecutable, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want it to contain %q", err, c.want)
			}
			if err != nil && !strings.Contains(err.Error(), c.path) {
				t.Errorf("error %v does not name the file %s", err, c.path)
			}
		})
	}
}

func TestNewHandlerFromEnv(t *testing.T) {
	var out bytes.Buffer
	h, err := newHandler(env(map[string]string{EnvDatasetsFile: datasetsFile, EnvEnvironment: "dev"}), noExecutable, &out)
	if err != nil {
		t.Fatal(err)
	}
	if h.Environment != "dev" || h.MetricsNamespace != DefaultMetricsNamespace {
		t.Errorf("handler %+v", h)
	}
	lines := logLines(t, &out)
	if len(lines) != 1 || lines[0]["msg"] != "validator ready" {
		t.Errorf("init log %v", lines)
	}
}

// TestMainFailsInit runs the real main in a child process with a broken
// configuration: it must log and exit non-zero, never start serving.
func TestMainFailsInit(t *testing.T) {
	if os.Getenv("VALIDATOR_TEST_RUN_MAIN") == "1" {
		main()
		return
	}
	for name, extra := range map[string]string{
		"missing datasets file": EnvDatasetsFile + "=" + filepath.Join(t.TempDir(), "missing.json"),
		"bad env var":           EnvMaxFutureSkew + "=soon",
	} {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestMainFailsInit$")
			cmd.Env = append(os.Environ(), "VALIDATOR_TEST_RUN_MAIN=1", "DATASETS_FILE="+datasetsFile, extra)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != 1 {
				t.Fatalf("exit: %v, want exit status 1; stderr: %s", err, stderr.String())
			}
			if !strings.Contains(stderr.String(), `"msg":"validator init failed"`) {
				t.Errorf("stderr %q has no init failure line", stderr.String())
			}
		})
	}
}

func mapsEqualAny(a map[string]any, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if f, ok := v.(float64); !ok || f != b[k] {
			return false
		}
	}
	return true
}

// TestCheckConcurrent: one Validator serves concurrent calls (run with
// -race) and gives the same verdicts as serial calls.
func TestCheckConcurrent(t *testing.T) {
	v := benchValidator(t)
	batch := benchBatch(400)
	want := make([]Result, len(batch))
	for i, r := range batch {
		want[i] = v.Check(r, benchArrival)
	}
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i, r := range batch {
				if got := v.Check(r, benchArrival); got != want[i] {
					t.Errorf("record %d: concurrent %+v, serial %+v", i, got, want[i])
					return
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
}

// TestWideDataset covers declarations with more columns than the checker's
// fixed per-column state array.
func TestWideDataset(t *testing.T) {
	spec := dataset.Spec{Name: "wide", EventTimeField: "ts", Key: []string{"ts"},
		Columns: []dataset.Column{{Name: "ts", Type: dataset.Timestamp, Required: true}}}
	var fields strings.Builder
	for i := range 40 {
		spec.Columns = append(spec.Columns, dataset.Column{Name: fmt.Sprintf("c%02d", i), Type: dataset.Bigint, Required: i == 39})
		fmt.Fprintf(&fields, `,"c%02d":%d`, i, i)
	}
	v, err := NewValidator([]dataset.Spec{spec}, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	arrival := time.UnixMilli(kinesisArrivalMs)
	ok := `{"dataset":"wide","data":{"ts":"2025-11-25T19:00:00Z"` + fields.String() + `}}`
	if res := v.Check([]byte(ok), arrival); !res.Valid() {
		t.Errorf("valid wide record rejected: %s %s", res.Reason, res.Detail)
	}
	missing := strings.Replace(ok, `,"c39":39`, "", 1)
	if res := v.Check([]byte(missing), arrival); res.Reason != ReasonMissingField || !strings.Contains(res.Detail, `"c39"`) {
		t.Errorf("missing c39: %s %s", res.Reason, res.Detail)
	}
	dup := strings.Replace(ok, `,"c35":35`, `,"c35":35,"c35":36`, 1)
	if res := v.Check([]byte(dup), arrival); res.Reason != ReasonDuplicateField {
		t.Errorf("duplicate c35: %s %s", res.Reason, res.Detail)
	}
}

// datasetsFile holds the dataset declarations of cdk.json (or of the
// cdk.json that DATALAKE_CDK_JSON names), written once per test binary: the
// validator is tested against the declarations the lake ships, never a copy
// that drifts from them.
var datasetsFile string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "validator-datasets-")
	if err == nil {
		datasetsFile = filepath.Join(dir, "datasets.json")
		err = writeDatasets(datasetsFile)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "validator tests:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func writeDatasets(path string) error {
	src := os.Getenv("DATALAKE_CDK_JSON")
	if src == "" {
		src = filepath.Join("..", "..", "cdk.json")
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	var f struct {
		Context struct {
			Datasets json.RawMessage `json:"datasets"`
		} `json:"context"`
	}
	if err := json.Unmarshal(b, &f); err != nil || len(f.Context.Datasets) == 0 {
		return fmt.Errorf("%s: no context.datasets (%v)", src, err)
	}
	return os.WriteFile(path, f.Context.Datasets, 0o644)
}

// knownNames returns the dataset names, sorted, as the validator lists them.
func knownNames(specs []dataset.Spec) []string {
	var out []string
	for _, s := range specs {
		out = append(out, s.Name)
	}
	slices.Sort(out)
	return out
}
