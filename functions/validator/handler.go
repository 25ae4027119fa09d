package main

// The Firehose data-transformation handler: one response record per input
// record, a log line per rejected record, one metrics line per invocation.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Handler is the Lambda handler. Build it with newHandler (or fill the
// fields in tests); Handle is what lambda.Start runs.
type Handler struct {
	Validator        *Validator
	Out              io.Writer // log and metrics lines, one JSON object per line
	MetricsNamespace string
	Environment      string
	// Now is the clock for records without any arrival timestamp.
	// Default time.Now.
	Now func() time.Time

	mu sync.Mutex // serialises lines written to Out
}

// newHandler builds the handler from the environment: configuration,
// datasets file and validator. Any problem is an error: main logs it and
// exits non-zero, so a broken deployment fails init instead of running.
func newHandler(getenv func(string) string, executable func() (string, error), out io.Writer) (*Handler, error) {
	cfg, err := LoadConfig(getenv, executable)
	if err != nil {
		return nil, err
	}
	specs, err := LoadDatasets(cfg.DatasetsFile)
	if err != nil {
		return nil, err
	}
	v, err := NewValidator(specs, cfg.Limits)
	if err != nil {
		return nil, fmt.Errorf("datasets file %s: %w", cfg.DatasetsFile, err)
	}
	h := &Handler{Validator: v, Out: out, MetricsNamespace: cfg.MetricsNamespace, Environment: cfg.Environment, Now: time.Now}
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	h.writeLine(map[string]any{
		"level": "info", "msg": "validator ready", "datasets_file": cfg.DatasetsFile, "datasets": names,
		"max_record_bytes": cfg.Limits.MaxRecordBytes, "max_future_skew": cfg.Limits.MaxFutureSkew.String(),
		"max_event_age_days": int(cfg.Limits.MaxEventAge / (24 * time.Hour)),
		"metrics_namespace":  cfg.MetricsNamespace, "environment": cfg.Environment,
	})
	return h, nil
}

// rejectLine is the log line written for every rejected record. Firehose
// does not carry the reason into S3 (it writes the record under the error
// prefix with its own error code), so this line is the only place that says
// why; record_id and the Kinesis sequence number find the record again.
type rejectLine struct {
	Level          string `json:"level"`
	Msg            string `json:"msg"`
	RecordID       string `json:"record_id"`
	Dataset        string `json:"dataset"`
	Reason         Reason `json:"reason"`
	Detail         string `json:"detail"`
	SequenceNumber string `json:"kinesis_sequence_number"`
	ShardID        string `json:"kinesis_shard_id"`
}

// Handle validates a Firehose batch. It returns an error only when it
// cannot run at all; a bad record is never an error (Firehose would retry
// the whole batch and finally fail every record in it).
func (h *Handler) Handle(_ context.Context, ev events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error) {
	if h == nil || h.Validator == nil {
		return events.KinesisFirehoseResponse{}, errors.New("validator handler is not initialised")
	}
	resp := events.KinesisFirehoseResponse{Records: make([]events.KinesisFirehoseResponseRecord, len(ev.Records))}
	if len(ev.Records) == 0 {
		h.writeLine(map[string]any{"level": "info", "msg": "empty batch", "invocation_id": ev.InvocationID})
		h.writeMetrics(ev.InvocationID, 0, 0, nil, nil)
		return resp, nil
	}
	now := h.now()
	accepted := map[string]int{}
	rejected := map[Reason]int{}
	nAccepted := 0
	for i := range ev.Records {
		in := &ev.Records[i]
		res := h.Validator.Check(in.Data, arrival(in, now))
		out := &resp.Records[i]
		out.RecordID = in.RecordID
		out.Data = in.Data // unchanged, valid or not: the raw zone keeps the original bytes
		if res.Valid() {
			out.Result = events.KinesisFirehoseTransformedStateOk
			out.Metadata.PartitionKeys = res.Partition.Keys()
			accepted[res.Dataset]++
			nAccepted++
			continue
		}
		// ProcessingFailed, not Dropped: Firehose writes the record under
		// the error prefix, so nothing disappears silently.
		out.Result = events.KinesisFirehoseTransformedStateProcessingFailed
		out.Metadata.PartitionKeys = map[string]string{}
		rejected[res.Reason]++
		h.writeLine(rejectLine{
			Level: "warn", Msg: "record rejected", RecordID: in.RecordID, Dataset: res.Dataset,
			Reason: res.Reason, Detail: res.Detail,
			SequenceNumber: in.KinesisFirehoseRecordMetadata.SequenceNumber,
			ShardID:        in.KinesisFirehoseRecordMetadata.ShardID,
		})
	}
	h.writeMetrics(ev.InvocationID, nAccepted, len(ev.Records)-nAccepted, rejected, accepted)
	return resp, nil
}

// arrival is when the record reached Kinesis: the Kinesis approximate
// arrival time if Firehose passed it on, else Firehose's own, else now
// (an epoch of 0 counts as absent).
func arrival(r *events.KinesisFirehoseEventRecord, now time.Time) time.Time {
	if t := r.KinesisFirehoseRecordMetadata.ApproximateArrivalTimestamp.Time; !t.IsZero() && t.UnixMilli() > 0 {
		return t
	}
	if t := r.ApproximateArrivalTimestamp.Time; !t.IsZero() && t.UnixMilli() > 0 {
		return t
	}
	return now
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// writeMetrics writes the CloudWatch Embedded Metric Format line of one
// invocation: RecordsAccepted and RecordsRejected by Environment, plus
// per-reason and per-dataset counts as plain properties (searchable in Logs
// Insights, not metrics: one metric per reason would multiply the cost).
func (h *Handler) writeMetrics(invocationID string, accepted, rejected int, byReason map[Reason]int, byDataset map[string]int) {
	if byReason == nil {
		byReason = map[Reason]int{}
	}
	if byDataset == nil {
		byDataset = map[string]int{}
	}
	type metric struct {
		Name string `json:"Name"`
		Unit string `json:"Unit"`
	}
	type directive struct {
		Namespace  string     `json:"Namespace"`
		Dimensions [][]string `json:"Dimensions"`
		Metrics    []metric   `json:"Metrics"`
	}
	type meta struct {
		Timestamp         int64       `json:"Timestamp"`
		CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
	}
	h.writeLine(struct {
		AWS               meta           `json:"_aws"`
		Environment       string         `json:"Environment"`
		RecordsAccepted   int            `json:"RecordsAccepted"`
		RecordsRejected   int            `json:"RecordsRejected"`
		RejectedByReason  map[Reason]int `json:"RejectedByReason"`
		AcceptedByDataset map[string]int `json:"AcceptedByDataset"`
		Level             string         `json:"level"`
		Msg               string         `json:"msg"`
		InvocationID      string         `json:"invocation_id"`
	}{
		AWS: meta{
			Timestamp: h.now().UnixMilli(),
			CloudWatchMetrics: []directive{{
				Namespace:  h.MetricsNamespace,
				Dimensions: [][]string{{"Environment"}},
				Metrics:    []metric{{"RecordsAccepted", "Count"}, {"RecordsRejected", "Count"}},
			}},
		},
		Environment:       h.Environment,
		RecordsAccepted:   accepted,
		RecordsRejected:   rejected,
		RejectedByReason:  byReason,
		AcceptedByDataset: byDataset,
		Level:             "info",
		Msg:               "batch processed",
		InvocationID:      invocationID,
	})
}

// writeLine writes v as one JSON line (one CloudWatch log event) with a
// single Write, so concurrent lines never interleave.
func (h *Handler) writeLine(v any) {
	out := h.Out
	if out == nil {
		out = os.Stdout
	}
	b, err := json.Marshal(v)
	if err != nil {
		b = fmt.Appendf(nil, `{"level":"error","msg":"cannot encode log line","error":%q}`, err.Error())
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	_, _ = out.Write(append(b, '\n'))
}
