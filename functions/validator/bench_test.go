package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// benchArrival is the Kinesis arrival time of every benchmark record.
var benchArrival = time.UnixMilli(1764100000000) // 2025-11-25T19:46:40Z

// benchBatch returns a realistic batch of n records: about 60% clickstream
// through the API, 25% orders from DMS, 15% orders through the API, with
// about 5% invalid records of assorted kinds. Deterministic.
func benchBatch(n int) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	uuid := func() string {
		return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", rng.Uint32(), rng.Uint32()&0xffff,
			rng.Uint32()&0xfff, rng.Uint32()&0xfff, rng.Uint64()&0xffffffffffff)
	}
	eventTypes := []string{"page_view", "page_view", "page_view", "add_to_cart", "checkout", "purchase"}
	statuses := []string{"placed", "paid", "shipped", "delivered", "cancelled", "refunded"}
	pages := []string{"/", "/products/espresso-machine-pro-3000", "/cart", "/checkout/payment?step=2&method=card", "/search?q=coffee+grinder&sort=price_asc"}
	ts := func() string {
		return benchArrival.Add(-time.Duration(rng.IntN(3600_000)) * time.Millisecond).UTC().Format("2006-01-02T15:04:05.000Z")
	}
	out := make([][]byte, n)
	for i := range out {
		var rec map[string]any
		kind := rng.IntN(100)
		switch {
		case kind < 60:
			rec = map[string]any{"dataset": "clickstream", "received_at": benchArrival.UnixMilli() - int64(rng.IntN(5000)),
				"data": map[string]any{
					"event_id": uuid(), "session_id": uuid(), "customer_id": fmt.Sprintf("cust-%06d", rng.IntN(1e6)),
					"event_type": eventTypes[rng.IntN(len(eventTypes))], "page_url": "https://shop.example.com" + pages[rng.IntN(len(pages))],
					"duration_ms": rng.IntN(120_000), "event_time": ts(),
					"user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
				}}
		case kind < 85:
			rec = map[string]any{
				"data": map[string]any{
					"order_id": uuid(), "customer_id": fmt.Sprintf("cust-%06d", rng.IntN(1e6)), "status": statuses[rng.IntN(len(statuses))],
					"amount": float64(rng.IntN(100000)) / 100, "currency": "EUR", "item_count": 1 + rng.IntN(9), "updated_at": ts(),
				},
				"metadata": map[string]any{"timestamp": ts(), "record-type": "data", "operation": "update",
					"partition-key-type": "primary-key", "schema-name": "public", "table-name": "orders", "transaction-id": rng.Int64N(1e12)},
			}
		default:
			rec = map[string]any{"dataset": "orders", "received_at": benchArrival.UnixMilli(),
				"data": map[string]any{
					"order_id": uuid(), "customer_id": fmt.Sprintf("cust-%06d", rng.IntN(1e6)), "status": statuses[rng.IntN(len(statuses))],
					"amount": float64(rng.IntN(100000)) / 100, "currency": "USD", "item_count": 1 + rng.IntN(9), "updated_at": ts(),
				}}
		}
		if rng.IntN(100) < 5 { // break the record in one of several ways
			data := rec["data"].(map[string]any)
			switch rng.IntN(6) {
			case 0:
				delete(data, "customer_id") // missing_field
			case 1:
				if _, ok := data["event_type"]; ok {
					data["event_type"] = "scroll" // not_allowed
				} else {
					data["status"] = "lost"
				}
			case 2:
				if _, ok := data["duration_ms"]; ok {
					data["duration_ms"] = "120" // wrong_type
				} else {
					data["amount"] = -5 // out_of_range
				}
			case 3:
				if _, ok := data["event_time"]; ok {
					data["event_time"] = "yesterday" // bad_event_time
				} else {
					data["updated_at"] = "2025-13-01T00:00:00Z"
				}
			case 4:
				rec["dataset"] = "no_such_dataset" // unknown_dataset: never declared
			case 5:
				b, _ := json.Marshal(rec)
				out[i] = b[:len(b)-3] // not_json (truncated)
				continue
			}
		}
		b, err := json.Marshal(rec)
		if err != nil {
			panic(err)
		}
		out[i] = b
	}
	return out
}

func benchValidator(tb testing.TB) *Validator {
	specs, err := LoadDatasets(datasetsFile)
	if err != nil {
		tb.Fatal(err)
	}
	v, err := NewValidator(specs, DefaultLimits())
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func batchBytes(batch [][]byte) (n int64) {
	for _, r := range batch {
		n += int64(len(r))
	}
	return n
}

// BenchmarkValidate checks a 1,000-record batch record by record (one op
// is the whole batch).
func BenchmarkValidate(b *testing.B) {
	v := benchValidator(b)
	batch := benchBatch(1000)
	b.SetBytes(batchBytes(batch))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, r := range batch {
			v.Check(r, benchArrival)
		}
	}
	b.ReportMetric(float64(len(batch))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkJSONValidBaseline is the budget's yardstick: json.Valid over the
// same records.
func BenchmarkJSONValidBaseline(b *testing.B) {
	batch := benchBatch(1000)
	b.SetBytes(batchBytes(batch))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, r := range batch {
			json.Valid(r)
		}
	}
	b.ReportMetric(float64(len(batch))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkHandle runs the whole handler over the batch as a decoded
// Firehose event: validation, response records, log and metrics lines
// (to io.Discard). Not part of the budget; shows the per-batch overhead.
func BenchmarkHandle(b *testing.B) {
	h := &Handler{Validator: benchValidator(b), Out: io.Discard, MetricsNamespace: "bench", Environment: "bench"}
	batch := benchBatch(1000)
	ev := events.KinesisFirehoseEvent{InvocationID: "bench"}
	for i, r := range batch {
		ev.Records = append(ev.Records, events.KinesisFirehoseEventRecord{
			RecordID: fmt.Sprintf("%d", i), Data: r,
			ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: benchArrival},
		})
	}
	b.SetBytes(batchBytes(batch))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := h.Handle(context.Background(), ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(batch))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// TestValidateWithinBudget enforces the performance budget: validating
// costs at most 3x json.Valid over the same bytes. Measured here at well
// under 1x, so the 3x line has ample slack for a noisy machine; the best of
// three rounds is compared to damp scheduling noise. Skipped with -short
// and under the race detector (which slows the two sides unevenly).
func TestValidateWithinBudget(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("timing test: skipped with -short and -race")
	}
	// Fixed work instead of testing.Benchmark (1 s per run, 6 s in all):
	// the best of 5 interleaved rounds of 50 batches each, so a noisy
	// neighbour slows both sides of the ratio alike.
	v := benchValidator(t)
	batch := benchBatch(1000)
	round := func(f func([]byte)) float64 {
		start := time.Now()
		for range 50 {
			for _, r := range batch {
				f(r)
			}
		}
		return float64(time.Since(start).Nanoseconds()) / 50
	}
	validate, baseline := 0.0, 0.0
	for range 5 {
		if ns := round(func(r []byte) { v.Check(r, benchArrival) }); validate == 0 || ns < validate {
			validate = ns
		}
		if ns := round(func(r []byte) { json.Valid(r) }); baseline == 0 || ns < baseline {
			baseline = ns
		}
	}
	ratio := validate / baseline
	t.Logf("per 1,000-record batch: validate %.0f µs, json.Valid %.0f µs, ratio %.2fx (budget 3x)", validate/1e3, baseline/1e3, ratio)
	if ratio > 3 {
		t.Errorf("validation costs %.2fx json.Valid over the same bytes, budget is 3x", ratio)
	}
}

// TestBenchBatchMix keeps the benchmark honest: the batch has the intended
// mix of datasets and about 5% invalid records.
func TestBenchBatchMix(t *testing.T) {
	v := benchValidator(t)
	counts := map[string]int{}
	bad := 0
	for _, r := range benchBatch(1000) {
		res := v.Check(r, benchArrival)
		if !res.Valid() {
			bad++
			continue
		}
		counts[res.Dataset]++
	}
	if bad < 20 || bad > 90 || counts["clickstream"] < 500 || counts["orders"] < 300 {
		t.Errorf("unexpected batch mix: %v valid per dataset, %d invalid", counts, bad)
	}
}
