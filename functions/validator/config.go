package main

// Configuration: environment variables and the datasets file, read once at
// init. Anything that does not parse fails init with a message naming the
// variable or file, the value and what is allowed: a validator that cannot
// check records must not start (it would otherwise accept everything).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/example/datalake/dataset"
)

// Environment variables read at init. The CDK stack sets them on the
// function; all are optional.
const (
	// EnvDatasetsFile is the path of the datasets file. Default:
	// DatasetsFileName in $LAMBDA_TASK_ROOT, else next to the executable.
	EnvDatasetsFile = "DATASETS_FILE"
	// EnvMaxFutureSkew is a Go duration (15m, 90s, 1h). Default 15m.
	EnvMaxFutureSkew = "MAX_FUTURE_SKEW"
	// EnvMaxEventAgeDays is a whole number of days. Default 3650.
	EnvMaxEventAgeDays = "MAX_EVENT_AGE_DAYS"
	// EnvMaxRecordBytes is a whole number of bytes. Default 1024000.
	EnvMaxRecordBytes = "MAX_RECORD_BYTES"
	// EnvMetricsNamespace is the CloudWatch namespace of the EMF metrics.
	// Default DefaultMetricsNamespace.
	EnvMetricsNamespace = "METRICS_NAMESPACE"
	// EnvEnvironment is the value of the Environment metric dimension.
	// Default DefaultEnvironment.
	EnvEnvironment = "ENVIRONMENT"
)

// Defaults of the settings that are not Limits.
const (
	DatasetsFileName        = "datasets.json"
	DefaultMetricsNamespace = "DataLake/Ingestion"
	DefaultEnvironment      = "unknown"
)

// Bounds of the numeric settings. MAX_RECORD_BYTES cannot exceed the
// Firehose record limit: Firehose never delivers a larger record.
const (
	maxRecordBytesLimit = 1_024_000
	maxEventAgeDaysMax  = 36_500
)

// Config is everything the validator reads from its environment.
type Config struct {
	DatasetsFile     string
	Limits           Limits
	MetricsNamespace string
	Environment      string
}

// LoadConfig reads the configuration from getenv. executable returns the
// path of the running binary (os.Executable), used to find the datasets
// file when neither DATASETS_FILE nor LAMBDA_TASK_ROOT says where it is.
// All problems are reported together.
func LoadConfig(getenv func(string) string, executable func() (string, error)) (Config, error) {
	cfg := Config{
		Limits:           DefaultLimits(),
		MetricsNamespace: DefaultMetricsNamespace,
		Environment:      DefaultEnvironment,
	}
	var errs []error
	bad := func(name, value, allowed string) {
		errs = append(errs, fmt.Errorf("%s=%q is not valid: %s", name, value, allowed))
	}

	if v := strings.TrimSpace(getenv(EnvMaxFutureSkew)); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			bad(EnvMaxFutureSkew, v, "use a non-negative Go duration such as 15m, 90s or 1h (default 15m)")
		} else {
			cfg.Limits.MaxFutureSkew = d
		}
	}
	if v := strings.TrimSpace(getenv(EnvMaxEventAgeDays)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxEventAgeDaysMax {
			bad(EnvMaxEventAgeDays, v, fmt.Sprintf("use a whole number of days from 1 to %d (default 3650)", maxEventAgeDaysMax))
		} else {
			cfg.Limits.MaxEventAge = time.Duration(n) * 24 * time.Hour
		}
	}
	if v := strings.TrimSpace(getenv(EnvMaxRecordBytes)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxRecordBytesLimit {
			bad(EnvMaxRecordBytes, v, fmt.Sprintf("use a whole number of bytes from 1 to %d, the Firehose record limit (default %d)", maxRecordBytesLimit, maxRecordBytesLimit))
		} else {
			cfg.Limits.MaxRecordBytes = n
		}
	}
	if v := strings.TrimSpace(getenv(EnvMetricsNamespace)); v != "" {
		// CloudWatch namespaces: 1-255 characters, not starting with a colon.
		if len(v) > 255 || strings.HasPrefix(v, ":") {
			bad(EnvMetricsNamespace, v, "use 1-255 characters, not starting with ':' (default "+DefaultMetricsNamespace+")")
		} else {
			cfg.MetricsNamespace = v
		}
	}
	if v := strings.TrimSpace(getenv(EnvEnvironment)); v != "" {
		cfg.Environment = v
	}

	path, err := datasetsPath(getenv, executable)
	if err != nil {
		errs = append(errs, err)
	}
	cfg.DatasetsFile = path
	return cfg, errors.Join(errs...)
}

// datasetsPath decides which datasets file to read: DATASETS_FILE if set,
// else the first existing of $LAMBDA_TASK_ROOT/datasets.json and
// datasets.json next to the executable (the CDK stack bundles it next to
// bootstrap, which is in $LAMBDA_TASK_ROOT on Lambda).
func datasetsPath(getenv func(string) string, executable func() (string, error)) (string, error) {
	if p := strings.TrimSpace(getenv(EnvDatasetsFile)); p != "" {
		return p, nil
	}
	var tried []string
	if root := getenv("LAMBDA_TASK_ROOT"); root != "" {
		tried = append(tried, filepath.Join(root, DatasetsFileName))
	}
	if exe, err := executable(); err == nil {
		tried = append(tried, filepath.Join(filepath.Dir(exe), DatasetsFileName))
	}
	for _, p := range tried {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if len(tried) == 0 {
		return "", fmt.Errorf("%s is not set and neither $LAMBDA_TASK_ROOT nor the executable's directory is known: set %s to the datasets file", EnvDatasetsFile, EnvDatasetsFile)
	}
	return "", fmt.Errorf("datasets file not found: %s is not set and %s does not exist: bundle %s next to bootstrap or set %s",
		EnvDatasetsFile, strings.Join(tried, " nor "), DatasetsFileName, EnvDatasetsFile)
}

// LoadDatasets reads the datasets file: a JSON array of dataset.Spec, as the
// CDK stack writes it. Unknown fields are an error (a misspelt "requried"
// would otherwise silently make a column optional). The declarations
// themselves are checked by NewValidator.
func LoadDatasets(path string) ([]dataset.Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("datasets file: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var specs []dataset.Spec
	if err := dec.Decode(&specs); err != nil {
		return nil, fmt.Errorf("datasets file %s: not a JSON array of dataset declarations: %w", path, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("datasets file %s: unexpected data after the JSON array", path)
	}
	if len(specs) == 0 {
		return nil, fmt.Errorf("datasets file %s: declares no datasets: it must be a non-empty JSON array", path)
	}
	return specs, nil
}
