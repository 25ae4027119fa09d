package test

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/assets"
	"github.com/example/datalake/constructs/ingestapi"
	"github.com/example/datalake/dataset"
	"github.com/example/datalake/layout"
	"github.com/example/datalake/stacks"
)

// dmsScenario is dev with the private network, a daily API quota, custom
// Firehose buffering and DMS replicating two tables from PostgreSQL to the
// stream. One synthesis serves the DMS, quota and buffering tests.
func dmsScenario() *scenario {
	return scenarioWith("dms", "dev", map[string]any{
		"enable_vpc":              true,
		"api_quota_per_day":       1000,
		"firehose_buffer_seconds": 300,
		"firehose_buffer_mb":      64,
		"dms": map[string]any{
			"enabled":            true,
			"source_secret_name": "orders-db/replication",
			"source_engine":      "postgres",
			"source_database":    "shop",
			"source_schema":      "sales",
			"tables":             []any{"orders", "clickstream"},
		},
	}, stacks.Options{})
}

// dmsS3Scenario is prod (Multi-AZ) replicating MySQL into the raw
// bucket's landing prefix.
func dmsS3Scenario() *scenario {
	return scenarioWith("dms-s3", "prod", map[string]any{
		"dms": map[string]any{
			"enabled":              true,
			"source_secret_name":   "orders-db",
			"source_engine":        "mysql",
			"source_database":      "shop",
			"tables":               []any{"orders"},
			"target":               "s3",
			"instance_class":       "dms.r5.large",
			"allocated_storage_gb": 100,
		},
	}, stacks.Options{})
}

// one returns the single resource of a type, failing the test otherwise.
func one(t *testing.T, tpl map[string]any, typ string) (string, map[string]any) {
	t.Helper()
	rs := resources(tpl, typ)
	if len(rs) != 1 {
		t.Fatalf("want one %s, got %d", typ, len(rs))
	}
	for id, r := range rs {
		return id, r
	}
	return "", nil
}

// logicalID returns the id of the only resource of a type whose id starts
// with prefix.
func logicalID(t *testing.T, tpl map[string]any, typ, prefix string) string {
	t.Helper()
	var ids []string
	for id := range resources(tpl, typ) {
		if strings.HasPrefix(id, prefix) {
			ids = append(ids, id)
		}
	}
	if len(ids) != 1 {
		t.Fatalf("want one %s with id %s*, got %v", typ, prefix, ids)
	}
	return ids[0]
}

// getAtt is {"Fn::GetAtt":[id,"Arn"]}.
func getAtt(id string) map[string]any {
	return map[string]any{"Fn::GetAtt": []any{id, "Arn"}}
}

// flatten renders a value (string or Fn::Join) as text, tokens as {...}.
func flatten(v any) string {
	return joinText(v, func(x map[string]any) string { b, _ := json.Marshal(x); return string(b) })
}

// joinText renders a string or an Fn::Join as text, each other object
// (a token: Ref, GetAtt, ImportValue) as token renders it.
func joinText(v any, token func(map[string]any) string) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		if j, ok := x["Fn::Join"].([]any); ok {
			var b strings.Builder
			for _, p := range j[1].([]any) {
				b.WriteString(joinText(p, token))
			}
			return b.String()
		}
		return token(x)
	}
	return fmt.Sprint(v)
}

func TestStreamModeShardsRetentionEncryption(t *testing.T) {
	_, r := one(t, dev.json("ingestion"), "AWS::Kinesis::Stream")
	p := props(r)
	if p["ShardCount"] != float64(dev.Cfg.ShardCount) || p["RetentionPeriodHours"] != float64(dev.Cfg.RetentionPeriod) {
		t.Errorf("dev stream: shards %v retention %v, want %d and %d (config)", p["ShardCount"], p["RetentionPeriodHours"], dev.Cfg.ShardCount, dev.Cfg.RetentionPeriod)
	}
	if m := p["StreamModeDetails"].(map[string]any)["StreamMode"]; m != "PROVISIONED" {
		t.Errorf("dev stream mode = %v, want PROVISIONED", m)
	}
	if e := p["StreamEncryption"].(map[string]any)["EncryptionType"]; e != "KMS" {
		t.Errorf("dev stream encryption = %v, want KMS", e)
	}
	if r["DeletionPolicy"] != "Retain" {
		t.Errorf("dev stream deletion policy = %v, want Retain", r["DeletionPolicy"])
	}

	_, r = one(t, devCustom.json("ingestion"), "AWS::Kinesis::Stream")
	p = props(r)
	if m := p["StreamModeDetails"].(map[string]any)["StreamMode"]; m != "ON_DEMAND" {
		t.Errorf("devCustom stream mode = %v, want ON_DEMAND", m)
	}
	if _, ok := p["ShardCount"]; ok {
		t.Errorf("on-demand stream must not set ShardCount, has %v", p["ShardCount"])
	}
	if p["StreamEncryption"].(map[string]any)["EncryptionType"] != "KMS" {
		t.Errorf("devCustom stream is not KMS-encrypted: %v", p["StreamEncryption"])
	}
}

func TestFirehoseDeliversToRawZone(t *testing.T) {
	tpl := dev.json("ingestion")
	stream := logicalID(t, tpl, "AWS::Kinesis::Stream", "Stream")
	validator := logicalID(t, tpl, "AWS::Lambda::Function", "Validator")
	check(t, "delivery stream", func() {
		dev.tpl("ingestion").HasResourceProperties(jsii.String("AWS::KinesisFirehose::DeliveryStream"), map[string]any{
			"DeliveryStreamType":               "KinesisStreamAsSource",
			"KinesisStreamSourceConfiguration": map[string]any{"KinesisStreamARN": getAtt(stream)},
			"ExtendedS3DestinationConfiguration": map[string]any{
				"BucketARN":                        map[string]any{"Fn::ImportValue": assertions.Match_StringLikeRegexp(jsii.String(".*RawBucket.*"))},
				"Prefix":                           "source=!{partitionKeyFromLambda:source}/dt=!{partitionKeyFromLambda:dt}/",
				"ErrorOutputPrefix":                "errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/",
				"DynamicPartitioningConfiguration": map[string]any{"Enabled": true},
				"BufferingHints":                   map[string]any{"IntervalInSeconds": 900, "SizeInMBs": 128},
				"CompressionFormat":                "GZIP",
				"EncryptionConfiguration":          map[string]any{"KMSEncryptionConfig": assertions.Match_AnyValue()},
				"CloudWatchLoggingOptions":         map[string]any{"Enabled": true},
				"ProcessingConfiguration": map[string]any{
					"Enabled": true,
					"Processors": assertions.Match_ArrayWith(&[]any{map[string]any{
						"Type": "Lambda",
						"Parameters": assertions.Match_ArrayWith(&[]any{
							map[string]any{"ParameterName": "LambdaArn", "ParameterValue": getAtt(validator)},
						}),
					}}),
				},
			},
		})
	})
}

func TestFirehoseBufferingFromConfig(t *testing.T) {
	s := dmsScenario()
	check(t, "buffering", func() {
		s.tpl("ingestion").HasResourceProperties(jsii.String("AWS::KinesisFirehose::DeliveryStream"), map[string]any{
			"ExtendedS3DestinationConfiguration": map[string]any{
				"BufferingHints": map[string]any{"IntervalInSeconds": 300, "SizeInMBs": 64},
			},
		})
	})
}

// apiMethods returns the methods by resource path (/ingest/clickstream,
// ...), rebuilt from the resource tree.
func apiMethods(t *testing.T, tpl map[string]any) map[string]map[string]any {
	t.Helper()
	res := resources(tpl, "AWS::ApiGateway::Resource")
	var path func(id string) string
	path = func(id string) string {
		p := props(res[id])
		parent := p["ParentId"].(map[string]any)
		if ref, ok := parent["Ref"].(string); ok {
			return path(ref) + "/" + p["PathPart"].(string)
		}
		return "/" + p["PathPart"].(string) // parent is the root resource
	}
	out := map[string]map[string]any{}
	for id, m := range resources(tpl, "AWS::ApiGateway::Method") {
		p := props(m)
		key := p["HttpMethod"].(string) + " " + path(p["ResourceId"].(map[string]any)["Ref"].(string))
		if _, dup := out[key]; dup {
			t.Errorf("duplicate method %s (%s)", key, id)
		}
		out[key] = p
	}
	return out
}

func TestApiRoutesPerDataset(t *testing.T) {
	tpl := dev.json("ingestion")
	methods := apiMethods(t, tpl)
	var want []string
	for _, d := range dev.Cfg.Datasets {
		want = append(want, "POST /ingest/"+d.Name, "POST /ingest/"+d.Name+"/batch")
	}
	var got []string
	for k := range methods {
		got = append(got, k)
	}
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("methods = %v, want %v (POST only, both routes per dataset)", got, want)
	}
	validator := logicalID(t, tpl, "AWS::ApiGateway::RequestValidator", "ApiBodyAndParams")
	rv := props(resources(tpl, "AWS::ApiGateway::RequestValidator")[validator])
	if rv["ValidateRequestBody"] != true || rv["ValidateRequestParameters"] != true {
		t.Errorf("request validator = %v, want body and params", rv)
	}
	for key, p := range methods {
		if p["AuthorizationType"] != "AWS_IAM" {
			t.Errorf("%s: auth %v, want AWS_IAM", key, p["AuthorizationType"])
		}
		if p["ApiKeyRequired"] != false {
			t.Errorf("%s: API key required without a quota", key)
		}
		if ref := p["RequestValidatorId"].(map[string]any)["Ref"]; ref != validator {
			t.Errorf("%s: validator %v, want %s", key, ref, validator)
		}
		model := p["RequestModels"].(map[string]any)["application/json"].(map[string]any)["Ref"].(string)
		name := props(resources(tpl, "AWS::ApiGateway::Model")[model])["Name"].(string)
		ds := strings.Split(key, "/")[2]
		pascal := strings.ReplaceAll(strings.Title(strings.ReplaceAll(ds, "_", " ")), " ", "") //nolint:staticcheck // ASCII names
		wantModel := pascal + "Record"
		action := "PutRecord"
		if strings.HasSuffix(key, "/batch") {
			wantModel = pascal + "Batch"
			action = "PutRecords"
		}
		if name != wantModel {
			t.Errorf("%s: model %s, want %s", key, name, wantModel)
		}
		integ := p["Integration"].(map[string]any)
		if integ["Type"] != "AWS" || !strings.HasSuffix(flatten(integ["Uri"]), ":kinesis:action/"+action) {
			t.Errorf("%s: integration %v %v, want AWS kinesis %s", key, integ["Type"], flatten(integ["Uri"]), action)
		}
		if integ["PassthroughBehavior"] != "NEVER" {
			t.Errorf("%s: passthrough %v, want NEVER", key, integ["PassthroughBehavior"])
		}
	}
}

func TestApiIntegrationWrapsEnvelope(t *testing.T) {
	tpl := dev.json("ingestion")
	stream := logicalID(t, tpl, "AWS::Kinesis::Stream", "Stream")
	for key, p := range apiMethods(t, tpl) {
		ds := strings.Split(key, "/")[2]
		integ := p["Integration"].(map[string]any)
		req := flatten(integ["RequestTemplates"].(map[string]any)["application/json"])
		for _, want := range []string{
			`'{"dataset":"` + ds + `","received_at":'`, `',"data":'`,
			`"$open$context.requestTimeEpoch$mid$data$close"`,
			`"StreamName": "{"Ref":"` + stream + `"}"`,
			`$util.base64Encode($envelope)`,
		} {
			if !strings.Contains(req, want) {
				t.Errorf("%s: request template lacks %s:\n%s", key, want, req)
			}
		}
		if strings.HasSuffix(key, "/batch") {
			for _, want := range []string{`#foreach($record in $input.path('$.records'))`, `"PartitionKey": "${context.requestId}-${foreach.index}"`} {
				if !strings.Contains(req, want) {
					t.Errorf("%s: batch template lacks %s", key, want)
				}
			}
		} else if !strings.Contains(req, `"PartitionKey": "$context.requestId"`) || !strings.Contains(req, `$input.json('$')`) {
			t.Errorf("%s: single-record template:\n%s", key, req)
		}
		// Results and Kinesis errors reach the caller.
		statuses := map[string]string{}
		for _, r := range integ["IntegrationResponses"].([]any) {
			m := r.(map[string]any)
			pattern, _ := m["SelectionPattern"].(string)
			statuses[pattern] = m["StatusCode"].(string) + " " + m["ResponseTemplates"].(map[string]any)["application/json"].(string)
		}
		success := "sequence_number"
		if strings.HasSuffix(key, "/batch") {
			success = "failed_record_count"
		}
		if s := statuses[""]; !strings.HasPrefix(s, "200 ") || !strings.Contains(s, success) {
			t.Errorf("%s: success response %q lacks %s", key, s, success)
		}
		if s := statuses[`4\d{2}`]; !strings.HasPrefix(s, "500 ") || !strings.Contains(s, "responseOverride.status = 503") || !strings.Contains(s, "responseOverride.status = 400") {
			t.Errorf("%s: Kinesis 4xx response = %q, want 500 (503 when throttled, 400 for the caller's errors)", key, s)
		}
		if s := statuses[`5\d{2}`]; !strings.HasPrefix(s, "503 ") {
			t.Errorf("%s: Kinesis 5xx response = %q, want 503", key, s)
		}
	}
}

func TestApiIntegrationRoleOnlyWritesStream(t *testing.T) {
	tpl := dev.json("ingestion")
	role := logicalID(t, tpl, "AWS::IAM::Role", "ApiKinesisRole")
	for key, p := range apiMethods(t, tpl) {
		if c := p["Integration"].(map[string]any)["Credentials"]; fmt.Sprint(c) != fmt.Sprint(getAtt(role)) {
			t.Errorf("%s: credentials %v, want %s", key, c, role)
		}
	}
	var actions []string
	for _, pol := range resources(tpl, "AWS::IAM::Policy") {
		p := props(pol)
		for _, r := range p["Roles"].([]any) {
			if r.(map[string]any)["Ref"] != role {
				continue
			}
			for _, st := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				switch a := st.(map[string]any)["Action"].(type) {
				case string:
					actions = append(actions, a)
				case []any:
					for _, x := range a {
						actions = append(actions, x.(string))
					}
				}
			}
		}
	}
	sort.Strings(actions)
	want := "kinesis:ListShards,kinesis:PutRecord,kinesis:PutRecords,kms:Encrypt,kms:GenerateDataKey*,kms:ReEncrypt*"
	if strings.Join(actions, ",") != want {
		t.Errorf("integration role actions = %v, want stream.GrantWrite only (%s)", actions, want)
	}
}

func TestApiModelsFromDeclaration(t *testing.T) {
	tpl := dev.json("ingestion")
	models := map[string]map[string]any{}
	for _, m := range resources(tpl, "AWS::ApiGateway::Model") {
		p := props(m)
		models[p["Name"].(string)] = p["Schema"].(map[string]any)
	}
	rec := models["ClickstreamRecord"]
	if rec == nil {
		t.Fatalf("no ClickstreamRecord model, have %v", models)
	}
	if fmt.Sprint(rec["required"]) != "[event_id session_id customer_id event_type event_time]" {
		t.Errorf("required = %v, want the required columns of the declaration", rec["required"])
	}
	cols := rec["properties"].(map[string]any)
	if e := cols["event_type"].(map[string]any); e["type"] != "string" || fmt.Sprint(e["enum"]) != "[page_view add_to_cart checkout purchase]" {
		t.Errorf("event_type = %v, want string with the allowed values", e)
	}
	if d := cols["duration_ms"].(map[string]any); fmt.Sprint(d["type"]) != "[integer null]" || d["minimum"] != 0.0 || d["maximum"] != 86400000.0 {
		t.Errorf("duration_ms = %v, want optional integer 0..86400000", d)
	}
	if e := cols["event_time"].(map[string]any); e["type"] != "string" || !strings.Contains(fmt.Sprint(e["pattern"]), "[Tt ]") {
		t.Errorf("event_time = %v, want an RFC 3339 string", e)
	}
	if a := models["OrdersRecord"]["properties"].(map[string]any)["amount"].(map[string]any); a["type"] != "number" || a["minimum"] != 0.0 {
		t.Errorf("orders amount = %v, want number >= 0", a)
	}
	batch := models["ClickstreamBatch"]
	records := batch["properties"].(map[string]any)["records"].(map[string]any)
	if batch["additionalProperties"] != false || fmt.Sprint(batch["required"]) != "[records]" ||
		records["minItems"] != 1.0 || records["maxItems"] != 500.0 ||
		fmt.Sprint(records["items"].(map[string]any)["required"]) != fmt.Sprint(rec["required"]) {
		t.Errorf("batch schema = %v, want {records: 1..500 clickstream records}", batch)
	}
}

// An optional column with allowed values accepts null too (the validator
// does): the enum must carry a JSON null. No shipped dataset has such a
// column, so this synthesizes one model on its own.
func TestApiSchemaOptionalEnumAcceptsNull(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{BuiltinCloudFormationValidation: jsii.Bool(false)})
	stack := awscdk.NewStack(app, jsii.String("Schema"), nil)
	api := awsapigateway.RestApi_FromRestApiId(stack, jsii.String("Api"), jsii.String("abc123"))
	awsapigateway.NewModel(stack, jsii.String("Model"), &awsapigateway.ModelProps{
		RestApi: api,
		Schema: ingestapi.RecordSchema(dataset.Spec{Name: "t", Columns: []dataset.Column{
			{Name: "channel", Type: dataset.String, Allowed: []string{"web", "app"}},
			{Name: "day", Type: dataset.Date, Required: true},
		}}),
	})
	var schema map[string]any
	for _, m := range resources(*assertions.Template_FromStack(stack, nil).ToJSON(), "AWS::ApiGateway::Model") {
		schema = props(m)["Schema"].(map[string]any)
	}
	cols := schema["properties"].(map[string]any)
	if ch := fmt.Sprint(cols["channel"]); ch != "map[anyOf:[map[type:null] map[enum:[web app] type:string]]]" {
		t.Errorf("optional enum column = %v, want null or one of [web app]", ch)
	}
	if d := cols["day"].(map[string]any); d["type"] != "string" || !strings.HasPrefix(fmt.Sprint(d["pattern"]), "^[0-9]{4}-") || !strings.HasSuffix(fmt.Sprint(d["pattern"]), "$") {
		t.Errorf("date column = %v", d)
	}
	if fmt.Sprint(schema["required"]) != "[day]" {
		t.Errorf("required = %v, want [day]", schema["required"])
	}
}

func TestApiStageThrottlingLoggingTracing(t *testing.T) {
	for _, s := range []*scenario{dev, prod} {
		tpl := s.json("ingestion")
		logs := logicalID(t, tpl, "AWS::Logs::LogGroup", "ApiAccessLogs")
		lg := resources(tpl, "AWS::Logs::LogGroup")[logs]
		if props(lg)["RetentionInDays"] != float64(s.Cfg.LogRetentionDays) || props(lg)["KmsKeyId"] == nil || lg["DeletionPolicy"] != "Retain" {
			t.Errorf("%s access log group = %v, want KMS, %d days, retained", s.Cfg.Name, lg, s.Cfg.LogRetentionDays)
		}
		_, st := one(t, tpl, "AWS::ApiGateway::Stage")
		p := props(st)
		if p["StageName"] != "v1" || p["TracingEnabled"] != true {
			t.Errorf("%s stage %v tracing %v, want v1 with X-Ray", s.Cfg.Name, p["StageName"], p["TracingEnabled"])
		}
		al := p["AccessLogSetting"].(map[string]any)
		if fmt.Sprint(al["DestinationArn"]) != fmt.Sprint(getAtt(logs)) {
			t.Errorf("%s access logs go to %v, want %s", s.Cfg.Name, al["DestinationArn"], logs)
		}
		var format map[string]string
		if err := json.Unmarshal([]byte(al["Format"].(string)), &format); err != nil {
			t.Errorf("%s access log format is not JSON: %v", s.Cfg.Name, err)
		}
		for k, v := range map[string]string{"request_id": "$context.requestId", "ip": "$context.identity.sourceIp", "caller": "$context.identity.caller", "status": "$context.status", "latency_ms": "$context.responseLatency"} {
			if format[k] != v {
				t.Errorf("%s access log field %s = %q, want %q", s.Cfg.Name, k, format[k], v)
			}
		}
		ms := p["MethodSettings"].([]any)[0].(map[string]any)
		want := map[string]any{
			"HttpMethod": "*", "ResourcePath": "/*", "LoggingLevel": "ERROR", "MetricsEnabled": true, "DataTraceEnabled": false,
			"ThrottlingRateLimit": float64(s.Cfg.ApiRateLimit), "ThrottlingBurstLimit": float64(s.Cfg.ApiBurstLimit),
		}
		for k, v := range want {
			if ms[k] != v {
				t.Errorf("%s method settings %s = %v, want %v", s.Cfg.Name, k, ms[k], v)
			}
		}
		// Execution logging needs the account's CloudWatch role (cdk.json
		// turns the CDK default off); it must outlive the environment.
		_, acct := one(t, tpl, "AWS::ApiGateway::Account")
		if acct["DeletionPolicy"] != "Retain" {
			t.Errorf("%s API Gateway account setting is not retained", s.Cfg.Name)
		}
		if deps := fmt.Sprint(st["DependsOn"]); !strings.Contains(deps, "ApiAccount") {
			t.Errorf("%s stage does not wait for the CloudWatch role setting: DependsOn %v", s.Cfg.Name, deps)
		}
	}
}

func TestApiGatewayResponsesExplain(t *testing.T) {
	byType := map[string]map[string]any{}
	for _, r := range resources(dev.json("ingestion"), "AWS::ApiGateway::GatewayResponse") {
		p := props(r)
		byType[p["ResponseType"].(string)] = p
	}
	for typ, status := range map[string]string{
		"BAD_REQUEST_BODY": "400", "BAD_REQUEST_PARAMETERS": "400", "UNSUPPORTED_MEDIA_TYPE": "415",
		"MISSING_AUTHENTICATION_TOKEN": "403", "ACCESS_DENIED": "403", "THROTTLED": "429", "QUOTA_EXCEEDED": "429",
		"REQUEST_TOO_LARGE": "413", "DEFAULT_4XX": "", "DEFAULT_5XX": "",
	} {
		p := byType[typ]
		if p == nil {
			t.Errorf("no gateway response for %s", typ)
			continue
		}
		if got, _ := p["StatusCode"].(string); got != status {
			t.Errorf("%s status = %q, want %q", typ, got, status)
		}
		body := p["ResponseTemplates"].(map[string]any)["application/json"].(string)
		if !strings.Contains(body, `"request_id":"$context.requestId"`) || !strings.Contains(body, `"message":$context.error.messageString`) {
			t.Errorf("%s body = %s, want message and request id", typ, body)
		}
		// With the substitutions replaced, the body must be JSON.
		sample := strings.NewReplacer("$context.error.messageString", `"m"`, "$context.requestId", "r").Replace(body)
		if !json.Valid([]byte(sample)) {
			t.Errorf("%s body is not JSON: %s", typ, sample)
		}
	}
	if b := fmt.Sprint(byType["BAD_REQUEST_BODY"]["ResponseTemplates"]); !strings.Contains(b, "docs/api.md") {
		t.Errorf("BAD_REQUEST_BODY does not say where the rules are: %s", b)
	}
	if b, want := fmt.Sprint(byType["MISSING_AUTHENTICATION_TOKEN"]["ResponseTemplates"]), "{"+strings.Join(datasetNames(), "|")+"}"; !strings.Contains(b, want) {
		t.Errorf("an unknown route does not list the declared datasets: %s", b)
	}
}

func TestWafOnlyWhenEnabled(t *testing.T) {
	for _, s := range []*scenario{prod, devCustom} {
		tpl := s.json("ingestion")
		id, acl := one(t, tpl, "AWS::WAFv2::WebACL")
		p := props(acl)
		if p["Scope"] != "REGIONAL" || p["VisibilityConfig"].(map[string]any)["CloudWatchMetricsEnabled"] != true {
			t.Errorf("%s web ACL scope %v visibility %v", s.Cfg.Name, p["Scope"], p["VisibilityConfig"])
		}
		var rules []string
		for _, r := range p["Rules"].([]any) {
			rule := r.(map[string]any)
			st := rule["Statement"].(map[string]any)
			if g, ok := st["ManagedRuleGroupStatement"].(map[string]any); ok {
				rules = append(rules, g["VendorName"].(string)+"/"+g["Name"].(string))
			}
			if rb, ok := st["RateBasedStatement"].(map[string]any); ok {
				rules = append(rules, fmt.Sprintf("rate/%v/%v", rb["AggregateKeyType"], rb["Limit"]))
				if _, block := rule["Action"].(map[string]any)["Block"]; !block {
					t.Errorf("%s rate rule does not block", s.Cfg.Name)
				}
			}
			if rule["VisibilityConfig"].(map[string]any)["CloudWatchMetricsEnabled"] != true {
				t.Errorf("%s rule %v has no metrics", s.Cfg.Name, rule["Name"])
			}
		}
		want := fmt.Sprintf("AWS/AWSManagedRulesCommonRuleSet,AWS/AWSManagedRulesKnownBadInputsRuleSet,AWS/AWSManagedRulesAmazonIpReputationList,rate/IP/%d", s.Cfg.ApiRateLimit*300)
		if strings.Join(rules, ",") != want {
			t.Errorf("%s rules = %v, want %s", s.Cfg.Name, rules, want)
		}
		stage := logicalID(t, tpl, "AWS::ApiGateway::Stage", "ApiDeploymentStage")
		_, assoc := one(t, tpl, "AWS::WAFv2::WebACLAssociation")
		ap := props(assoc)
		if fmt.Sprint(ap["WebACLArn"]) != fmt.Sprint(getAtt(id)) || !strings.Contains(flatten(ap["ResourceArn"]), `/stages/{"Ref":"`+stage+`"}`) {
			t.Errorf("%s association = %v, want the web ACL on the stage %s", s.Cfg.Name, ap, stage)
		}
	}
	tpl := dev.json("ingestion")
	if n := len(resources(tpl, "AWS::WAFv2::WebACL")) + len(resources(tpl, "AWS::WAFv2::WebACLAssociation")); n != 0 {
		t.Errorf("dev (enable_waf false) has %d WAF resources", n)
	}
	_, st := one(t, tpl, "AWS::ApiGateway::Stage")
	if !strings.Contains(fmt.Sprint(st["Metadata"]), "AwsSolutions-APIG3 reason:enable_waf is false in this environment (config).") {
		t.Errorf("dev stage lacks the APIG3 suppression: %v", st["Metadata"])
	}
}

func TestUsagePlanOnlyWithQuota(t *testing.T) {
	for _, s := range []*scenario{dev, prod} {
		tpl := s.json("ingestion")
		if n := len(resources(tpl, "AWS::ApiGateway::UsagePlan")) + len(resources(tpl, "AWS::ApiGateway::ApiKey")); n != 0 {
			t.Errorf("%s (no quota) has %d usage plan/key resources", s.Cfg.Name, n)
		}
	}
	s := dmsScenario()
	tpl := s.json("ingestion")
	_, plan := one(t, tpl, "AWS::ApiGateway::UsagePlan")
	p := props(plan)
	if q := p["Quota"].(map[string]any); q["Limit"] != 1000.0 || q["Period"] != "DAY" {
		t.Errorf("quota = %v, want 1000 per DAY", q)
	}
	if th := p["Throttle"].(map[string]any); th["RateLimit"] != 100.0 || th["BurstLimit"] != 200.0 {
		t.Errorf("plan throttle = %v, want the stage's", th)
	}
	stage := logicalID(t, tpl, "AWS::ApiGateway::Stage", "ApiDeploymentStage")
	if st := p["ApiStages"].([]any)[0].(map[string]any)["Stage"].(map[string]any)["Ref"]; st != stage {
		t.Errorf("plan stage = %v, want %s", st, stage)
	}
	key, _ := one(t, tpl, "AWS::ApiGateway::ApiKey")
	_, pk := one(t, tpl, "AWS::ApiGateway::UsagePlanKey")
	if props(pk)["KeyId"].(map[string]any)["Ref"] != key {
		t.Errorf("usage plan key = %v, want %s", props(pk), key)
	}
	for k, m := range apiMethods(t, tpl) {
		if m["ApiKeyRequired"] != true || m["AuthorizationType"] != "AWS_IAM" {
			t.Errorf("%s: with a quota want API key and IAM, got key %v auth %v", k, m["ApiKeyRequired"], m["AuthorizationType"])
		}
	}
}

func TestApiUrlOutput(t *testing.T) {
	tpl := dev.json("ingestion")
	stage := logicalID(t, tpl, "AWS::ApiGateway::Stage", "ApiDeploymentStage")
	url := flatten(tpl["Outputs"].(map[string]any)["ApiUrl"].(map[string]any)["Value"])
	if !strings.HasPrefix(url, "https://") || !strings.HasSuffix(url, `/{"Ref":"`+stage+`"}/`) {
		t.Errorf("ApiUrl = %s, want https://.../<stage v1>/", url)
	}
}

var dmsTypes = []string{
	"AWS::DMS::ReplicationSubnetGroup", "AWS::DMS::ReplicationInstance", "AWS::DMS::Endpoint", "AWS::DMS::ReplicationTask",
}

func TestDmsOnlyWhenEnabled(t *testing.T) {
	for _, s := range []*scenario{dev, prod, devCustom} {
		for _, typ := range dmsTypes {
			if n := len(resources(s.json("ingestion"), typ)); n != 0 {
				t.Errorf("%s (dms off) has %d %s", s.Cfg.Name, n, typ)
			}
		}
		if s.Lake.Ingestion.ReplicationTaskArn != nil {
			t.Errorf("%s: ReplicationTaskArn set with dms off", s.Cfg.Name)
		}
	}
	s := dmsScenario()
	tpl := s.json("ingestion")
	if s.Lake.Ingestion.ReplicationTaskArn == nil {
		t.Error("ReplicationTaskArn is nil with dms on")
	}
	_, sg := one(t, tpl, "AWS::DMS::ReplicationSubnetGroup")
	if ids := props(sg)["SubnetIds"].([]any); len(ids) != 2 || !strings.Contains(fmt.Sprint(ids), "ExportsOutputRefVpcjobsSubnet") {
		t.Errorf("subnet group subnets = %v, want the storage VPC's two isolated subnets", ids)
	}
	instID, inst := one(t, tpl, "AWS::DMS::ReplicationInstance")
	ip := props(inst)
	if ip["PubliclyAccessible"] != false || ip["MultiAZ"] != false || ip["ReplicationInstanceClass"] != "dms.t3.medium" ||
		ip["AllocatedStorage"] != 50.0 || !strings.Contains(fmt.Sprint(ip["KmsKeyId"]), "LakeKey") {
		t.Errorf("dev replication instance = %v", ip)
	}
	eps := map[string]map[string]any{}
	for id, e := range resources(tpl, "AWS::DMS::Endpoint") {
		eps[props(e)["EndpointType"].(string)] = props(e)
		eps[props(e)["EndpointType"].(string)]["id"] = id
	}
	src := eps["source"]
	if src["EngineName"] != "postgres" || src["DatabaseName"] != "shop" || src["SslMode"] != "require" {
		t.Errorf("source endpoint = %v", src)
	}
	pg := src["PostgreSqlSettings"].(map[string]any)
	secretRole := logicalID(t, tpl, "AWS::IAM::Role", "SourceSecretRole")
	if pg["SecretsManagerSecretId"] != "orders-db/replication" || fmt.Sprint(pg["SecretsManagerAccessRoleArn"]) != fmt.Sprint(getAtt(secretRole)) {
		t.Errorf("source secret settings = %v", pg)
	}
	trust := fmt.Sprint(props(resources(tpl, "AWS::IAM::Role")[secretRole])["AssumeRolePolicyDocument"])
	if !strings.Contains(trust, "dms.us-west-2.amazonaws.com") {
		t.Errorf("secret role trust = %s, want the regional DMS principal", trust)
	}
	for _, pol := range resources(tpl, "AWS::IAM::Policy") {
		if strings.Contains(fmt.Sprint(props(pol)["Roles"]), secretRole) {
			doc := fmt.Sprint(props(pol)["PolicyDocument"])
			if !strings.Contains(doc, ":secret:orders-db/replication-??????") || strings.Contains(doc, "secret:*") {
				t.Errorf("secret role policy = %s, want the named secret only", doc)
			}
		}
	}
	tgt := eps["target"]
	stream := logicalID(t, tpl, "AWS::Kinesis::Stream", "Stream")
	ks := tgt["KinesisSettings"].(map[string]any)
	if tgt["EngineName"] != "kinesis" || ks["MessageFormat"] != "json" || fmt.Sprint(ks["StreamArn"]) != fmt.Sprint(getAtt(stream)) {
		t.Errorf("kinesis target = %v", tgt)
	}

	_, task := one(t, tpl, "AWS::DMS::ReplicationTask")
	tp := props(task)
	if tp["MigrationType"] != "full-load-and-cdc" || tp["ReplicationInstanceArn"].(map[string]any)["Ref"] != instID ||
		tp["SourceEndpointArn"].(map[string]any)["Ref"] != src["id"] || tp["TargetEndpointArn"].(map[string]any)["Ref"] != tgt["id"] {
		t.Errorf("task = %v", tp)
	}
	var mappings struct {
		Rules []map[string]any `json:"rules"`
	}
	if err := json.Unmarshal([]byte(tp["TableMappings"].(string)), &mappings); err != nil {
		t.Fatalf("table mappings: %v", err)
	}
	var tables []string
	for _, r := range mappings.Rules {
		loc := r["object-locator"].(map[string]any)
		if r["rule-type"] == "transformation" {
			continue // the change-sequence column (constructs/replication tests)
		}
		if r["rule-type"] != "selection" || r["rule-action"] != "include" || loc["schema-name"] != "sales" {
			t.Errorf("rule %v, want an include selection in schema sales", r)
		}
		tables = append(tables, loc["table-name"].(string))
	}
	if strings.Join(tables, ",") != "orders,clickstream" {
		t.Errorf("mapped tables = %v, want one rule per dms.tables entry", tables)
	}

	// Task settings come from the file in the repository, unchanged.
	raw, err := os.ReadFile("../" + assets.DMSTaskSettings)
	if err != nil {
		t.Fatal(err)
	}
	var file, got map[string]any
	_ = json.Unmarshal(raw, &file)
	_ = json.Unmarshal([]byte(tp["ReplicationTaskSettings"].(string)), &got)
	if fmt.Sprint(file) != fmt.Sprint(got) {
		t.Errorf("task settings differ from %s", assets.DMSTaskSettings)
	}
	if lg := got["Logging"].(map[string]any); lg["EnableLogging"] != true {
		t.Errorf("task logging = %v, want on", lg)
	}
	if tm := got["TargetMetadata"].(map[string]any); tm["LimitedSizeLobMode"] != true || tm["FullLobMode"] != false {
		t.Errorf("LOB mode = %v, want limited", tm)
	}
	if eb := got["ErrorBehavior"].(map[string]any); eb["DataErrorPolicy"] != "LOG_ERROR" || eb["TableErrorPolicy"] != "SUSPEND_TABLE" {
		t.Errorf("error behavior = %v", eb)
	}
	if out := tpl["Outputs"].(map[string]any)["ReplicationTaskArn"]; out == nil {
		t.Error("no ReplicationTaskArn output")
	}
}

func TestDmsS3TargetInProduction(t *testing.T) {
	s := dmsS3Scenario()
	tpl := s.json("ingestion")
	_, inst := one(t, tpl, "AWS::DMS::ReplicationInstance")
	if ip := props(inst); ip["MultiAZ"] != true || ip["ReplicationInstanceClass"] != "dms.r5.large" || ip["AllocatedStorage"] != 100.0 {
		t.Errorf("prod replication instance = %v, want Multi-AZ dms.r5.large 100 GB", ip)
	}
	var tgt, src map[string]any
	for _, e := range resources(tpl, "AWS::DMS::Endpoint") {
		if props(e)["EndpointType"] == "target" {
			tgt = props(e)
		} else {
			src = props(e)
		}
	}
	if src["MySqlSettings"].(map[string]any)["SecretsManagerSecretId"] != "orders-db" {
		t.Errorf("mysql source = %v", src)
	}
	s3 := tgt["S3Settings"].(map[string]any)
	if tgt["EngineName"] != "s3" || s3["BucketFolder"] != layout.DMSLanding || s3["EncryptionMode"] != "SSE_KMS" ||
		!strings.Contains(fmt.Sprint(s3["BucketName"]), "RawBucket") || !strings.Contains(fmt.Sprint(s3["ServerSideEncryptionKmsKeyId"]), "LakeKey") {
		t.Errorf("s3 target = %v", s3)
	}
	role := logicalID(t, tpl, "AWS::IAM::Role", "TargetBucketRole")
	for _, pol := range resources(tpl, "AWS::IAM::Policy") {
		if strings.Contains(fmt.Sprint(props(pol)["Roles"]), role) {
			if doc := fmt.Sprint(props(pol)["PolicyDocument"]); !strings.Contains(doc, "/"+layout.DMSLanding+"/*") || strings.Contains(doc, "kinesis:") {
				t.Errorf("bucket role policy = %s, want writes under the DMS landing folder only", doc)
			}
		}
	}
	if n := len(resources(tpl, "AWS::WAFv2::WebACL")); n != 1 {
		t.Errorf("prod with DMS has %d web ACLs", n)
	}
}

func TestIngestionExtraScenariosPassNag(t *testing.T) {
	for name, s := range map[string]*scenario{"dms": dmsScenario(), "dms-s3": dmsS3Scenario()} {
		for stack, msgs := range s.errors {
			for _, msg := range msgs {
				t.Errorf("%s %s: %s", name, stack, msg)
			}
		}
	}
}

// WAF request logs go to a KMS-encrypted aws-waf-logs-* group with the
// Authorization header redacted, wherever WAF is on.
func TestWafLogging(t *testing.T) {
	check(t, "waf logging", func() {
		prod.tpl("ingestion").HasResourceProperties(jsii.String("AWS::WAFv2::LoggingConfiguration"), map[string]any{
			"RedactedFields": []any{map[string]any{"SingleHeader": map[string]any{"Name": "authorization"}}},
		})
		prod.tpl("ingestion").HasResourceProperties(jsii.String("AWS::Logs::LogGroup"), map[string]any{
			"LogGroupName":    "aws-waf-logs-data-pipeline-prod-api",
			"KmsKeyId":        assertions.Match_AnyValue(),
			"RetentionInDays": 365,
		})
	})
	if n := len(resources(dev.json("ingestion"), "AWS::WAFv2::LoggingConfiguration")); n != 0 {
		t.Errorf("dev (WAF off) has %d WAF logging configurations", n)
	}
}

// datasetNames returns the declared dataset names in declaration order.
func datasetNames() []string {
	var out []string
	for _, d := range dev.Cfg.Datasets {
		out = append(out, d.Name)
	}
	return out
}
