package test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/dataset"
	"github.com/example/datalake/layout"
	"github.com/example/datalake/stacks"
)

// The catalog database's logical id is a deployed contract (a new id
// replaces the database and drops every table in it).
func TestCatalogDatabaseLogicalIDIsPinned(t *testing.T) {
	for _, s := range []*scenario{dev, prod} {
		r, ok := s.json("processing")["Resources"].(map[string]any)["CatalogDatabaseA264B8D1"].(map[string]any)
		if !ok || r["Type"] != "AWS::Glue::Database" || r["DeletionPolicy"] != "Retain" {
			t.Errorf("%s: catalog database logical id changed or not retained: %v", s.Cfg.Name, r)
		}
	}
}

func TestCatalogDatabaseNamedFromConfig(t *testing.T) {
	for s, want := range map[*scenario]string{dev: "data_pipeline_dev_catalog", prod: "data_pipeline_prod_catalog"} {
		check(t, want, func() {
			s.tpl("processing").HasResourceProperties(jsii.String("AWS::Glue::Database"), map[string]any{
				"DatabaseInput": assertions.Match_ObjectLike(&map[string]any{"Name": want}),
			})
		})
	}
}

// Every dataset has a raw table with dt partition projection, so new days
// are queryable without a crawler. (The processed and curated tables are
// Iceberg: TestRuleIcebergTablesAreCreatedOnce.)
func TestTablesPerZoneWithPartitionProjection(t *testing.T) {
	tables := map[string]map[string]any{}
	for _, r := range resources(prod.json("processing"), "AWS::Glue::Table") {
		in := props(r)["TableInput"].(map[string]any)
		tables[in["Name"].(string)] = in
	}
	want := map[string]struct{ classification, prefix string }{}
	for _, d := range prod.Cfg.Datasets {
		want[d.Name+"_raw"] = struct{ classification, prefix string }{"json", "source=" + d.Name + "/"}
	}
	if len(tables) != len(want) {
		t.Errorf("processing declares %d AWS::Glue::Table resources, want %d (one raw table per dataset)", len(tables), len(want))
	}
	for name, w := range want {
		in, ok := tables[name]
		if !ok {
			t.Errorf("no table %s (have %d tables)", name, len(tables))
			continue
		}
		p := in["Parameters"].(map[string]any)
		if p["projection.enabled"] != "true" || p["projection.dt.type"] != "date" || p["projection.dt.format"] != "yyyy-MM-dd" || p["projection.dt.range"] != stacks.ProjectionStart+",NOW" || p["classification"] != w.classification {
			t.Errorf("%s parameters = %v", name, p)
		}
		keys, _ := json.Marshal(in["PartitionKeys"])
		if string(keys) != `[{"Name":"dt","Type":"string"}]` {
			t.Errorf("%s partition keys = %s", name, keys)
		}
		loc, _ := json.Marshal(in["StorageDescriptor"].(map[string]any)["Location"])
		if !strings.Contains(string(loc), "/"+w.prefix+`"`) {
			t.Errorf("%s location %s does not end in %s", name, loc, w.prefix)
		}
	}
}

func TestLandingCrawler(t *testing.T) {
	check(t, "crawler", func() {
		dev.tpl("processing").HasResourceProperties(jsii.String("AWS::Glue::Crawler"), map[string]any{
			"Schedule":           map[string]any{"ScheduleExpression": "cron(0 1 * * ? *)"},
			"RecrawlPolicy":      map[string]any{"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"},
			"SchemaChangePolicy": map[string]any{"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"},
			// A reference (its Ref is the name): the crawler is created after it.
			"CrawlerSecurityConfiguration": map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^SecurityConfiguration"))},
			"TablePrefix":                  "landing_",
			"Targets": map[string]any{"S3Targets": []any{map[string]any{"Path": map[string]any{"Fn::Join": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ArrayWith(&[]any{"/landing/"}),
			})}}}},
		})
	})
	check(t, "security configuration", func() {
		dev.tpl("processing").HasResourceProperties(jsii.String("AWS::Glue::SecurityConfiguration"), map[string]any{
			"EncryptionConfiguration": map[string]any{
				"CloudWatchEncryption":   assertions.Match_ObjectLike(&map[string]any{"CloudWatchEncryptionMode": "SSE-KMS"}),
				"JobBookmarksEncryption": assertions.Match_ObjectLike(&map[string]any{"JobBookmarksEncryptionMode": "CSE-KMS"}),
				"S3Encryptions":          assertions.Match_AnyValue(),
			},
			"Name": "data-pipeline-dev-glue",
		})
	})
}

func glueJobs(s *scenario) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, r := range resources(s.json("processing"), "AWS::Glue::Job") {
		out[props(r)["Name"].(string)] = props(r)
	}
	return out
}

func TestJobSettingsFromConfig(t *testing.T) {
	for _, s := range []*scenario{dev, prod} {
		jobs := glueJobs(s)
		if len(jobs) != 2*len(s.Cfg.Datasets)+1 {
			t.Fatalf("%s: %d jobs, want %d", s.Cfg.Name, len(jobs), 2*len(s.Cfg.Datasets)+1)
		}
		for name, j := range jobs {
			args := j["DefaultArguments"].(map[string]any)
			if args["--job-bookmark-option"] != "job-bookmark-enable" || args["--enable-auto-scaling"] != "true" || args["--enable-metrics"] != "" || args["--enable-continuous-cloudwatch-log"] != "true" {
				t.Errorf("%s args = %v", name, args)
			}
			if _, ok := args["--extra-py-files"]; !ok {
				t.Errorf("%s does not ship lakelib (--extra-py-files)", name)
			}
			if j["WorkerType"] != s.Cfg.WorkerType || j["NumberOfWorkers"] != float64(s.Cfg.NumberOfWorkers) {
				t.Errorf("%s workers = %v x %v, want %s x %d", name, j["WorkerType"], j["NumberOfWorkers"], s.Cfg.WorkerType, s.Cfg.NumberOfWorkers)
			}
			if j["Timeout"] != float64(s.Cfg.JobTimeoutMinutes) || j["MaxRetries"] != 1.0 || j["GlueVersion"] != "5.0" {
				t.Errorf("%s timeout/retries/version = %v/%v/%v", name, j["Timeout"], j["MaxRetries"], j["GlueVersion"])
			}
			if np, _ := j["NotificationProperty"].(map[string]any); np["NotifyDelayAfter"] != float64(s.Cfg.JobTimeoutMinutes*8/10) {
				t.Errorf("%s notifies after %v minutes, want 80%% of the timeout", name, np)
			}
			if j["ExecutionProperty"].(map[string]any)["MaxConcurrentRuns"] != 1.0 || j["SecurityConfiguration"] == nil {
				t.Errorf("%s concurrency/security = %v/%v", name, j["ExecutionProperty"], j["SecurityConfiguration"])
			}
			flex := j["ExecutionClass"] == "FLEX"
			if flex != (s == dev) {
				t.Errorf("%s: Flex = %v; want Flex outside production only", name, flex)
			}
		}
	}
	args := glueJobs(prod)["data-pipeline-prod-raw-to-processed-orders"]["DefaultArguments"].(map[string]any)
	var spec dataset.Spec
	if err := json.Unmarshal([]byte(args["--dataset_spec"].(string)), &spec); err != nil || spec.Name != "orders" || spec.EventTimeField != "updated_at" {
		t.Errorf("--dataset_spec is not the orders declaration: %v %v", err, args["--dataset_spec"])
	}
	if args["--target_file_mb"] != "256" {
		t.Errorf("--target_file_mb = %v", args["--target_file_mb"])
	}
}

// The raw -> processed role may only read the raw zone (its dataset's
// prefixes) and write the processed zone.
func TestRawToProcessedRoleReadsRawOnly(t *testing.T) {
	var stmts []any
	for id, r := range resources(prod.json("processing"), "AWS::IAM::Policy") {
		if strings.HasPrefix(id, "RawToProcessedRoleorders") {
			stmts = props(r)["PolicyDocument"].(map[string]any)["Statement"].([]any)
		}
	}
	if len(stmts) == 0 {
		t.Fatal("no policy for the orders raw -> processed role")
	}
	var rawWrite, rawRead, processedWrite bool
	for _, st := range stmts {
		m := st.(map[string]any)
		b, _ := json.Marshal(m["Resource"])
		res := string(b)
		acts, _ := json.Marshal(m["Action"])
		writes := strings.Contains(string(acts), "s3:PutObject") || strings.Contains(string(acts), "s3:DeleteObject")
		if strings.Contains(res, "RawBucket") {
			rawRead = rawRead || strings.Contains(string(acts), "s3:GetObject")
			rawWrite = rawWrite || writes
			if !strings.Contains(res, "source=orders/*") && !strings.Contains(res, "landing/orders/*") && strings.Contains(res, "/*") {
				t.Errorf("raw access beyond the orders prefixes: %s", res)
			}
		}
		if strings.Contains(res, "ProcessedBucket") && writes {
			processedWrite = true
		}
	}
	if !rawRead || rawWrite || !processedWrite {
		t.Errorf("raw read=%v raw write=%v processed write=%v; want read-only raw and writable processed", rawRead, rawWrite, processedWrite)
	}
}

// The workflow runs raw->processed, then quality, then curated, each step
// only when every job of the previous one SUCCEEDED.
func TestWorkflowOrder(t *testing.T) {
	triggers := map[string]map[string]any{}
	for _, r := range resources(prod.json("processing"), "AWS::Glue::Trigger") {
		triggers[props(r)["Name"].(string)] = props(r)
	}
	jobsOf := func(list any) []string {
		var out []string
		for _, a := range list.([]any) {
			out = append(out, a.(map[string]any)["JobName"].(map[string]any)["Ref"].(string))
		}
		return out
	}
	start := triggers["data-pipeline-prod-etl-start"]
	if start["Type"] != "EVENT" || !allPrefixed(jobsOf(start["Actions"]), "RawToProcessed") {
		t.Errorf("start trigger = %v", start)
	}
	q := triggers["data-pipeline-prod-etl-quality"]
	conds := q["Predicate"].(map[string]any)["Conditions"].([]any)
	var after []string
	for _, c := range conds {
		m := c.(map[string]any)
		if m["State"] != "SUCCEEDED" {
			t.Errorf("quality waits for %v", m["State"])
		}
		after = append(after, m["JobName"].(map[string]any)["Ref"].(string))
	}
	if q["Predicate"].(map[string]any)["Logical"] != "AND" || !allPrefixed(after, "RawToProcessed") || !allPrefixed(jobsOf(q["Actions"]), "QualityCheck") {
		t.Errorf("quality trigger = %v", q)
	}
	c := triggers["data-pipeline-prod-etl-curated"]
	if a := jobsOf(c["Actions"]); len(a) != 1 || !strings.HasPrefix(a[0], "ProcessedToCurated") {
		t.Errorf("curated trigger runs %v", a)
	}
	// Both the schedule and landing uploads notify the workflow.
	rules := resources(prod.json("processing"), "AWS::Events::Rule")
	var scheduled, uploads bool
	for _, r := range rules {
		p := props(r)
		b, _ := json.Marshal(p)
		if !strings.Contains(string(b), "Workflow") {
			continue
		}
		scheduled = scheduled || p["ScheduleExpression"] == "cron(0 2 * * ? *)"
		if k, ok := p["EventPattern"].(map[string]any); ok {
			var got []string
			for _, pre := range k["detail"].(map[string]any)["object"].(map[string]any)["key"].([]any) {
				got = append(got, pre.(map[string]any)["prefix"].(string))
			}
			var want []string
			for _, d := range prod.Cfg.Datasets {
				want = append(want, "landing/"+d.Name+"/")
			}
			// The datasets' folders, not landing/ (its dms/ folder gets CDC files all day).
			uploads = strings.Join(got, ",") == strings.Join(want, ",")
			if !uploads {
				t.Errorf("landing rule prefixes = %v, want %v", got, want)
			}
		}
	}
	if !scheduled || !uploads {
		t.Errorf("workflow start rules: schedule=%v uploads=%v", scheduled, uploads)
	}
}

func TestQualityRulesetsFromDeclaration(t *testing.T) {
	for _, d := range dev.Cfg.Datasets {
		check(t, d.Name, func() {
			dev.tpl("processing").HasResourceProperties(jsii.String("AWS::Glue::DataQualityRuleset"), map[string]any{
				"Name":        "data-pipeline-dev-" + d.Name,
				"Ruleset":     dataset.Ruleset(d),
				"TargetTable": map[string]any{"TableName": d.Name, "DatabaseName": assertions.Match_AnyValue()},
			})
		})
		// The quality job evaluates the same rules.
		if got := glueJobs(dev)["data-pipeline-dev-quality-"+d.Name]["DefaultArguments"].(map[string]any)["--ruleset"]; got != dataset.Ruleset(d) {
			t.Errorf("quality job of %s evaluates %v", d.Name, got)
		}
	}
}

func TestEmrOnlyWhenEnabled(t *testing.T) {
	if n := len(resources(prod.json("processing"), "AWS::EMRServerless::Application")); n != 0 {
		t.Errorf("EMR is off by default, found %d applications", n)
	}
	s := auditScenario() // EMR on in the private network, emr_max_vcpu 32
	check(t, "emr", func() {
		s.tpl("processing").HasResourceProperties(jsii.String("AWS::EMRServerless::Application"), map[string]any{
			"Type":                   "SPARK",
			"AutoStartConfiguration": map[string]any{"Enabled": true},
			"AutoStopConfiguration":  map[string]any{"Enabled": true, "IdleTimeoutMinutes": 15},
			"MaximumCapacity":        map[string]any{"Cpu": "32 vCPU", "Memory": "64 GB"},
			"NetworkConfiguration":   assertions.Match_ObjectLike(&map[string]any{"SubnetIds": assertions.Match_AnyValue()}),
			"MonitoringConfiguration": map[string]any{"S3MonitoringConfiguration": map[string]any{
				"LogUri": assertions.Match_AnyValue(), "EncryptionKeyArn": assertions.Match_AnyValue(),
			}},
		})
	})
	// The lake's tables are Iceberg: an EMR job writes them by committing
	// through the catalog (glue:UpdateTable), in the catalog database only.
	var updates []string
	for _, p := range resources(s.json("processing"), "AWS::IAM::Policy") {
		if !strings.Contains(asJSON(props(p)["Roles"]), "EmrJobRole") {
			continue
		}
		for _, st := range statements(props(p)["PolicyDocument"]) {
			if containsStr(stringsOf(st["Action"]), "glue:UpdateTable") {
				updates = append(updates, stringsOf(st["Resource"])...)
			}
		}
	}
	if all := strings.Join(updates, " "); !strings.Contains(all, ":table/"+s.Cfg.DataCatalogDatabaseName+"/*") ||
		strings.Contains(all, ":table/"+s.Cfg.AthenaDatabaseName) {
		t.Errorf("EMR job role may commit to %v, want the catalog database's tables only", updates)
	}
	for stack, msgs := range s.errors {
		for _, m := range msgs {
			t.Errorf("%s: %s", stack, m)
		}
	}
}

func allPrefixed(ids []string, prefix string) bool {
	for _, id := range ids {
		if !strings.HasPrefix(id, prefix) {
			return false
		}
	}
	return len(ids) > 0
}

// With DMS writing to S3, the replicated dataset's job also reads the DMS
// folder (landing/dms/<schema>/<table>/), and only that dataset's.
func TestDmsS3FilesReachTheJob(t *testing.T) {
	s := dmsS3Scenario()
	jobs := glueJobs(s)
	orders := jobs["data-pipeline-prod-raw-to-processed-orders"]["DefaultArguments"].(map[string]any)["--landing_path"]
	b, _ := json.Marshal(orders)
	if !strings.Contains(string(b), "/landing/orders/,s3://") || !strings.Contains(string(b), "/landing/dms/public/orders/") {
		t.Errorf("orders landing_path = %s", b)
	}
	clicks, _ := json.Marshal(jobs["data-pipeline-prod-raw-to-processed-clickstream"]["DefaultArguments"].(map[string]any)["--landing_path"])
	if strings.Contains(string(clicks), "dms") {
		t.Errorf("clickstream is not replicated, landing_path = %s", clicks)
	}
	check(t, "dms target folder", func() {
		s.tpl("ingestion").HasResourceProperties(jsii.String("AWS::DMS::Endpoint"), map[string]any{
			"EngineName": "s3",
			"S3Settings": assertions.Match_ObjectLike(&map[string]any{"BucketFolder": layout.DMSLanding, "IncludeOpForFullLoad": true, "TimestampColumnName": "_dms_timestamp"}),
		})
	})
}
