// Package ingestapi is the ingestion REST API: API Gateway in front of a
// Kinesis stream with no Lambda in the path, one route (and JSON-schema
// model) per declared dataset, IAM auth, throttling, an optional daily
// quota with an API key, access logs, JSON error bodies and an optional
// WAF web ACL with request logs.
//
// Resources are created in the caller's scope with the ids the first
// version of the ingestion stack used: their logical ids are a deployed
// contract (the log groups are stateful).
package ingestapi

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awswafv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/compliance"
	"github.com/example/datalake/dataset"
)

// The REST API in front of the stream. Clients see
//
//	POST {ApiUrl}ingest/<dataset>        one record (the body is the record)
//	POST {ApiUrl}ingest/<dataset>/batch  {"records":[...]}, 1..500 records
//
// where ApiUrl ends in the stage name `v1/`: the stage is the version, so
// the path a client calls is /v1/ingest/<dataset>[/batch].
//
// Each declared dataset gets its own resource instead of one
// `{dataset}` path parameter: the body is then checked against that
// dataset's JSON schema (required columns, types, allowed values, ranges)
// before anything reaches Kinesis, the dataset name in the envelope is a
// constant of the template (a caller cannot inject one), and a dataset that
// is not declared has no route at all (403 with a hint, see gateway
// responses).
const (
	// ApiStageName is the stage, and so the version prefix of every path.
	ApiStageName = "v1"
	// ApiMaxBatchRecords is Kinesis PutRecords' limit per request.
	ApiMaxBatchRecords = 500
	// wafRateWindowSeconds is the rate-based rule's evaluation window.
	wafRateWindowSeconds = 300
)

// Props configure the API.
type Props struct {
	// Prefix names the API, its usage plan, key and web ACL
	// (<prefix>-ingest). Required.
	Prefix string
	// Datasets get one route and model each. Required (at least one).
	Datasets []dataset.Spec
	// Stream receives the records. Required.
	Stream awskinesis.IStream
	// Key encrypts the log groups. Required.
	Key awskms.IKey
	// LogRetention of the access-log and WAF log groups. Required.
	LogRetention awslogs.RetentionDays
	// RemovalPolicy of the log groups. Default: retain.
	RemovalPolicy awscdk.RemovalPolicy
	// RateLimit and BurstLimit throttle the stage (requests/s).
	// Defaults: 100 and 200.
	RateLimit, BurstLimit float64
	// QuotaPerDay > 0 adds a usage plan with that daily quota and requires
	// an API key. Default: 0, no quota and no key.
	QuotaPerDay float64
	// WAF attaches a web ACL (AWS managed rules, per-IP rate limit) with
	// request logs. Default: false.
	WAF bool
}

// IngestAPI is the built API.
type IngestAPI struct {
	// Api is the REST API (POST /v1/ingest/<dataset>[/batch]).
	Api awsapigateway.RestApi
	// ApiKey producers send as x-api-key; nil without a quota.
	ApiKey awsapigateway.IApiKey
	// WebAcl protects the stage; nil without WAF.
	WebAcl awswafv2.CfnWebACL
}

// New builds the REST API -> Kinesis path, its access logs, the optional
// usage plan and the optional WAF web ACL, in scope.
func New(scope constructs.Construct, props Props) *IngestAPI {
	if props.Prefix == "" || len(props.Datasets) == 0 || props.Stream == nil || props.Key == nil || props.LogRetention == "" {
		panic("ingestapi: Prefix, Datasets, Stream, Key and LogRetention are required")
	}
	if props.RemovalPolicy == "" {
		props.RemovalPolicy = awscdk.RemovalPolicy_RETAIN
	}
	if props.RateLimit == 0 {
		props.RateLimit = 100
	}
	if props.BurstLimit == 0 {
		props.BurstLimit = 200
	}
	p := &props
	stack := scope
	out := &IngestAPI{}
	accessLogs := awslogs.NewLogGroup(stack, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		EncryptionKey: p.Key,
		Retention:     p.LogRetention,
		RemovalPolicy: p.RemovalPolicy,
	})
	quota := p.QuotaPerDay > 0
	api := awsapigateway.NewRestApi(stack, jsii.String("Api"), &awsapigateway.RestApiProps{
		RestApiName: jsii.String(p.Prefix + "-ingest"),
		Description: jsii.String("Producers POST records of declared datasets; they go straight to the Kinesis stream"),
		// Execution logging needs the account's API Gateway CloudWatch role,
		// which cdk.json's disableCloudWatchRole flag turns off by default.
		// The role and the account setting (AWS::ApiGateway::Account, one
		// per account and region) are retained on delete, so removing one
		// environment never breaks the logging of another in the same account.
		CloudWatchRole:              jsii.Bool(true),
		CloudWatchRoleRemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		EndpointTypes:               &[]awsapigateway.EndpointType{awsapigateway.EndpointType_REGIONAL},
		DefaultMethodOptions: &awsapigateway.MethodOptions{
			// SigV4: producers are AWS principals granted execute-api:Invoke.
			AuthorizationType: awsapigateway.AuthorizationType_IAM,
			ApiKeyRequired:    jsii.Bool(quota),
		},
		DeployOptions: &awsapigateway.StageOptions{
			StageName:            jsii.String(ApiStageName),
			ThrottlingRateLimit:  jsii.Number(p.RateLimit),
			ThrottlingBurstLimit: jsii.Number(p.BurstLimit),
			AccessLogDestination: awsapigateway.NewLogGroupLogDestination(accessLogs),
			AccessLogFormat:      awsapigateway.AccessLogFormat_Custom(jsii.String(accessLogFormat())),
			TracingEnabled:       jsii.Bool(true),
			LoggingLevel:         awsapigateway.MethodLoggingLevel_ERROR,
			MetricsEnabled:       jsii.Bool(true),
			// Request and response bodies are lake data: never in logs.
			DataTraceEnabled: jsii.Bool(false),
		},
	})

	// The integration role may put records on this stream and nothing else.
	role := awsiam.NewRole(stack, jsii.String("ApiKinesisRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("apigateway.amazonaws.com"), nil),
		Description: jsii.String("API Gateway puts API records on the ingestion stream"),
	})
	p.Stream.GrantWrite(role)
	compliance.GrantWildcards(role, "API Gateway puts records on the stream, encrypted with the lake key.")

	validator := api.AddRequestValidator(jsii.String("BodyAndParams"), &awsapigateway.RequestValidatorOptions{
		RequestValidatorName:      jsii.String("body-and-params"),
		ValidateRequestBody:       jsii.Bool(true),
		ValidateRequestParameters: jsii.Bool(true),
	})
	addGatewayResponses(api, p.Datasets)

	ingest := api.Root().AddResource(jsii.String("ingest"), nil)
	for _, d := range p.Datasets {
		name := modelName(d.Name)
		record := api.AddModel(jsii.String(name+"Record"), &awsapigateway.ModelOptions{
			ContentType: jsii.String("application/json"),
			ModelName:   jsii.String(name + "Record"),
			Description: jsii.String("One " + d.Name + " record, from the dataset declaration"),
			Schema:      RecordSchema(d),
		})
		batch := api.AddModel(jsii.String(name+"Batch"), &awsapigateway.ModelOptions{
			ContentType: jsii.String("application/json"),
			ModelName:   jsii.String(name + "Batch"),
			Description: jsii.String(fmt.Sprintf("1..%d %s records", ApiMaxBatchRecords, d.Name)),
			Schema:      BatchSchema(d),
		})
		res := ingest.AddResource(jsii.String(d.Name), nil)
		res.AddMethod(jsii.String("POST"), kinesisIntegration(p.Stream, role, "PutRecord", putRecordTemplate(d.Name, p.Stream), putRecordResponse), methodOptions(record, validator))
		res.AddResource(jsii.String("batch"), nil).
			AddMethod(jsii.String("POST"), kinesisIntegration(p.Stream, role, "PutRecords", putRecordsTemplate(d.Name, p.Stream), putRecordsResponse), methodOptions(batch, validator))
	}

	// After the methods exist: suppressions reach the children present now.
	compliance.Suppress(api, compliance.Suppression{
		ID:        "AwsSolutions-IAM4",
		Reason:    "The account-level API Gateway logging role uses the AWS managed policy AWS documents for it (write to CloudWatch Logs only).",
		AppliesTo: []string{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"},
	}, compliance.Suppression{
		ID:     "AwsSolutions-COG4",
		Reason: "Producers are AWS workloads authenticated with IAM (SigV4), not end users of a Cognito user pool.",
	})

	if quota {
		plan := api.AddUsagePlan(jsii.String("UsagePlan"), &awsapigateway.UsagePlanProps{
			Name:        jsii.String(p.Prefix + "-ingest"),
			Description: jsii.String("Daily quota per API key (api_quota_per_day)"),
			Quota:       &awsapigateway.QuotaSettings{Limit: jsii.Number(p.QuotaPerDay), Period: awsapigateway.Period_DAY},
			Throttle: &awsapigateway.ThrottleSettings{
				RateLimit:  jsii.Number(p.RateLimit),
				BurstLimit: jsii.Number(p.BurstLimit),
			},
			ApiStages: &[]*awsapigateway.UsagePlanPerApiStage{{Api: api, Stage: api.DeploymentStage()}},
		})
		// API Gateway generates the key's value; read it with
		// `aws apigateway get-api-key --include-value --api-key <ApiKeyId>`.
		key := api.AddApiKey(jsii.String("ApiKey"), &awsapigateway.ApiKeyOptions{
			ApiKeyName:  jsii.String(p.Prefix + "-ingest"),
			Description: jsii.String("Producers of " + p.Prefix + " send it as x-api-key"),
		})
		plan.AddApiKey(key, nil)
		out.ApiKey = key
	}

	if p.WAF {
		acl := newWebAcl(stack, p, api.DeploymentStage())
		logWebAcl(stack, p, acl)
		out.WebAcl = acl
	} else {
		compliance.Suppress(api, compliance.Suppression{
			ID:     "AwsSolutions-APIG3",
			Reason: "enable_waf is false in this environment (config).",
		})
	}
	out.Api = api
	return out
}

// methodOptions: the body must match the dataset's model and carry a
// Content-Type (the model is keyed by it); auth comes from the API default.
func methodOptions(model awsapigateway.IModel, validator awsapigateway.IRequestValidator) *awsapigateway.MethodOptions {
	return &awsapigateway.MethodOptions{
		RequestValidator:  validator,
		RequestModels:     &map[string]awsapigateway.IModel{"application/json": model},
		RequestParameters: &map[string]*bool{"method.request.header.Content-Type": jsii.Bool(true)},
		MethodResponses: &[]*awsapigateway.MethodResponse{
			{StatusCode: jsii.String("200")}, {StatusCode: jsii.String("400")}, {StatusCode: jsii.String("500")}, {StatusCode: jsii.String("503")},
		},
	}
}

// kinesisIntegration calls a Kinesis action with the integration role. The
// request template is the only way in (passthrough NEVER: any other
// content type gets 415). Kinesis errors: see kinesisClientErrorResponse.
func kinesisIntegration(stream awskinesis.IStream, role awsiam.IRole, action, request, success string) awsapigateway.Integration {
	return awsapigateway.NewAwsIntegration(&awsapigateway.AwsIntegrationProps{
		Service:               jsii.String("kinesis"),
		Action:                jsii.String(action),
		IntegrationHttpMethod: jsii.String("POST"),
		Options: &awsapigateway.IntegrationOptions{
			CredentialsRole:     role,
			PassthroughBehavior: awsapigateway.PassthroughBehavior_NEVER,
			RequestParameters: &map[string]*string{
				"integration.request.header.Content-Type": jsii.String("'application/x-amz-json-1.1'"),
			},
			RequestTemplates: &map[string]*string{"application/json": jsii.String(request)},
			IntegrationResponses: &[]*awsapigateway.IntegrationResponse{
				{StatusCode: jsii.String("200"), ResponseTemplates: &map[string]*string{"application/json": jsii.String(success)}},
				{StatusCode: jsii.String("500"), SelectionPattern: jsii.String(`4\d{2}`), ResponseTemplates: &map[string]*string{"application/json": jsii.String(kinesisClientErrorResponse)}},
				{StatusCode: jsii.String("503"), SelectionPattern: jsii.String(`5\d{2}`), ResponseTemplates: &map[string]*string{"application/json": jsii.String(kinesisServerErrorResponse)}},
			},
		},
	})
}

// envelopeParts are the constant pieces of the record envelope
// {"dataset":"<name>","received_at":<epoch ms>,"data":<body>} as VTL
// single-quoted literals (no interpolation, so the JSON quotes need no
// escaping); the request templates join them around the body.
func envelopeParts(dataset string) string {
	return fmt.Sprintf("#set($open = '{\"dataset\":\"%s\",\"received_at\":')\n#set($mid = ',\"data\":')\n#set($close = '}')\n", dataset)
}

// putRecordTemplate: the body is one record; the partition key is the
// request id, which spreads records over the shards.
func putRecordTemplate(dataset string, stream awskinesis.IStream) string {
	return envelopeParts(dataset) +
		"#set($data = $input.json('$'))\n" +
		"#set($envelope = \"$open$context.requestTimeEpoch$mid$data$close\")\n" +
		"{\n" +
		"  \"StreamName\": \"" + *stream.StreamName() + "\",\n" +
		"  \"PartitionKey\": \"$context.requestId\",\n" +
		"  \"Data\": \"$util.base64Encode($envelope)\"\n" +
		"}\n"
}

// putRecordsTemplate wraps every element of records[] in its own envelope.
func putRecordsTemplate(dataset string, stream awskinesis.IStream) string {
	return envelopeParts(dataset) +
		"{\n" +
		"  \"StreamName\": \"" + *stream.StreamName() + "\",\n" +
		"  \"Records\": [\n" +
		"#foreach($record in $input.path('$.records'))\n" +
		"#set($data = $input.json(\"$.records[$foreach.index]\"))\n" +
		"#set($envelope = \"$open$context.requestTimeEpoch$mid$data$close\")\n" +
		// ${...}: in VTL a '-' continues a reference's name, so
		// "$context.requestId-$foreach.index" would read the property
		// "requestId-" (empty) and send every batch's record i to one shard.
		"    {\"PartitionKey\": \"${context.requestId}-${foreach.index}\", \"Data\": \"$util.base64Encode($envelope)\"}#if($foreach.hasNext),#end\n" +
		"#end\n" +
		"  ]\n" +
		"}\n"
}

// Integration response templates: what the caller sees.
const (
	putRecordResponse = `{"request_id":"$context.requestId","sequence_number":"$input.path('$.SequenceNumber')","shard_id":"$input.path('$.ShardId')"}`
	// PutRecords succeeds as a whole even when some records fail: callers
	// retry the records whose entry carries an error_code.
	putRecordsResponse = `#set($records = $input.path('$.Records'))
{"request_id":"$context.requestId","failed_record_count":$input.path('$.FailedRecordCount'),"records":[#foreach($r in $records)#if("$!r.ErrorCode" != ""){"error_code":"$r.ErrorCode"}#else{"sequence_number":"$r.SequenceNumber","shard_id":"$r.ShardId"}#end#if($foreach.hasNext),#end#end]}`
	// Kinesis answers every refusal with HTTP 400 and names it in __type
	// (Kinesis API Reference, PutRecord/PutRecords "Errors"):
	//   - throughput and KMS throttling are retryable: 503;
	//   - ValidationException / InvalidArgumentException mean the caller's
	//     request cannot be put (a record over 1 MiB, a batch over 5 MiB or
	//     500 records): 400, which does not count toward the 5xx alarm;
	//   - anything else (stream missing, KMS key disabled or denied, access
	//     denied) is this deployment's fault: 500, which does.
	// __type may carry a namespace prefix ("...#ValidationException").
	kinesisClientErrorResponse = `#set($type = "$!input.path('$.__type')")
#if($type.contains('Throughput') || $type.contains('Throttl') || $type.contains('LimitExceeded'))
#set($context.responseOverride.status = 503)
#set($hint = "The stream is busy: retry with exponential backoff.")
#elseif($type.endsWith('ValidationException') || $type.endsWith('InvalidArgumentException'))
#set($context.responseOverride.status = 400)
#set($hint = "Kinesis refused the request: a record may be at most 1 MiB and a batch at most 5 MiB and 500 records.")
#else
#set($hint = "The stream did not accept the record(s); this is a fault of the deployment, not of the request.")
#end
{"request_id":"$context.requestId","error":"stream_error","kinesis_error":"$type","message":"$hint"}`
	// Kinesis server errors (HTTP 5xx) are retryable.
	kinesisServerErrorResponse = `{"request_id":"$context.requestId","error":"stream_unavailable","message":"The stream is temporarily unavailable: retry with exponential backoff."}`
)

// addGatewayResponses makes API Gateway's own errors say what is wrong, in
// JSON, with the request id to quote. These templates are plain variable
// substitution (no VTL, no escaping): only variables whose values cannot
// break JSON may appear. $context.error.messageString is the message
// already quoted and escaped; $context.requestId is a UUID.
// $context.error.validationErrorString is neither: it quotes the offending
// value ("instance value (\"x\") not found in enum"), so a body that embeds
// it is not JSON whenever a client sends a quote. The hint names the model
// instead, and docs/api.md lists the rules.
func addGatewayResponses(api awsapigateway.RestApi, datasets []dataset.Spec) {
	names := make([]string, 0, len(datasets))
	for _, d := range datasets {
		names = append(names, d.Name)
	}
	routes := fmt.Sprintf("POST /%s/ingest/{%s} or .../batch", ApiStageName, strings.Join(names, "|"))
	body := func(errCode, extra string) *map[string]*string {
		t := `{"error":"` + errCode + `","message":$context.error.messageString,` + extra + `"request_id":"$context.requestId"}`
		return &map[string]*string{"application/json": jsii.String(t)}
	}
	for _, r := range []struct {
		id, status, code, extra string
		typ                     awsapigateway.ResponseType
	}{
		{"BadRequestBody", "400", "bad_request_body", `"hint":"The body must match the dataset's declaration: required columns, types, allowed values and ranges (batch: {\"records\":[...]} with 1..500 records). GET the model with aws apigateway get-model, or see docs/api.md.",`, awsapigateway.ResponseType_BAD_REQUEST_BODY()},
		{"BadRequestParameters", "400", "bad_request_parameters", `"hint":"Send Content-Type: application/json.",`, awsapigateway.ResponseType_BAD_REQUEST_PARAMETERS()},
		{"UnsupportedMediaType", "415", "unsupported_media_type", `"hint":"Send Content-Type: application/json.",`, awsapigateway.ResponseType_UNSUPPORTED_MEDIA_TYPE()},
		{"RequestTooLarge", "413", "request_too_large", `"hint":"A record may be at most 1 MiB and a batch at most 5 MiB (Kinesis limits).",`, awsapigateway.ResponseType_REQUEST_TOO_LARGE()},
		// API Gateway answers an unknown path like an unsigned request, so
		// the hint names both causes and the routes that exist.
		{"MissingAuthenticationToken", "403", "missing_authentication_token_or_unknown_route", `"hint":"Sign the request with SigV4 and use a declared dataset: ` + routes + `.",`, awsapigateway.ResponseType_MISSING_AUTHENTICATION_TOKEN()},
		{"AccessDenied", "403", "access_denied", `"hint":"The caller needs execute-api:Invoke on this API.",`, awsapigateway.ResponseType_ACCESS_DENIED()},
		{"InvalidSignature", "403", "invalid_signature", ``, awsapigateway.ResponseType_INVALID_SIGNATURE()},
		{"ExpiredToken", "403", "expired_token", ``, awsapigateway.ResponseType_EXPIRED_TOKEN()},
		{"InvalidApiKey", "403", "invalid_api_key", `"hint":"Send the ingestion API key as x-api-key.",`, awsapigateway.ResponseType_INVALID_API_KEY()},
		{"WafFiltered", "403", "waf_filtered", ``, awsapigateway.ResponseType_WAF_FILTERED()},
		{"Throttled", "429", "throttled", `"hint":"Retry with exponential backoff.",`, awsapigateway.ResponseType_THROTTLED()},
		{"QuotaExceeded", "429", "quota_exceeded", `"hint":"The API key's daily quota is used up.",`, awsapigateway.ResponseType_QUOTA_EXCEEDED()},
		{"Default4xx", "", "client_error", ``, awsapigateway.ResponseType_DEFAULT_4XX()},
		{"Default5xx", "", "server_error", ``, awsapigateway.ResponseType_DEFAULT_5XX()},
	} {
		opts := &awsapigateway.GatewayResponseOptions{Type: r.typ, Templates: body(r.code, r.extra)}
		if r.status != "" {
			opts.StatusCode = jsii.String(r.status)
		}
		api.AddGatewayResponse(jsii.String(r.id), opts)
	}
}

// accessLogFormat is one JSON object per request: who called, from where,
// what happened and how long it took.
func accessLogFormat() string {
	fields := map[string]string{
		"request_id":          "$context.requestId",
		"extended_request_id": "$context.extendedRequestId",
		"ip":                  "$context.identity.sourceIp",
		"caller":              "$context.identity.caller",
		"user_arn":            "$context.identity.userArn",
		"api_key_id":          "$context.identity.apiKeyId",
		"user_agent":          "$context.identity.userAgent",
		"request_time":        "$context.requestTime",
		"http_method":         "$context.httpMethod",
		"resource_path":       "$context.resourcePath",
		"protocol":            "$context.protocol",
		"status":              "$context.status",
		"response_length":     "$context.responseLength",
		"latency_ms":          "$context.responseLatency",
		"integration_status":  "$context.integration.status",
		"integration_latency": "$context.integration.latency",
		"error":               "$context.error.message",
		"error_type":          "$context.error.responseType",
		"waf_status":          "$context.waf.status",
		"xray_trace_id":       "$context.xrayTraceId",
	}
	b, err := json.Marshal(fields)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// modelName turns a dataset name (snake_case) into an API Gateway model
// name (alphanumeric): page_views -> PageViews.
func modelName(dataset string) string {
	var b strings.Builder
	for _, part := range strings.Split(dataset, "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// Patterns of the string-typed columns (JSON Schema draft 4 has no date
// formats API Gateway checks). They accept exactly what the validator and
// the jobs accept (one grammar: functions/validator/values.go
// parseTimestamp, checked with dataset/testdata/timestamps.json: month
// 01-12, the month's days, hour 00-23, minute and second 00-59, offset
// hours 00-23 and minutes 00-59, Z/UTC/+HH:MM/+HHMM/+HH, any fraction, T/t
// or a space, optional seconds, a bare date, surrounding spaces and tabs),
// with one exception a regular expression cannot see: February 29 of a
// year that is not a leap year passes the model and is rejected by the
// validator.
const (
	dayOfYear        = `[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-9]))`
	timeOfDay        = `[Tt ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:[.,][0-9]+)?)?`
	utcOffset        = `(?:[Zz]|UTC|[+-](?:[01][0-9]|2[0-3])(?::?[0-5][0-9])?)`
	timestampPattern = `^[ \t]*` + dayOfYear + `(?:` + timeOfDay + `)? *` + utcOffset + `?[ \t]*$`
	datePattern      = `^` + dayOfYear + `$`
)

// Numeric ranges every value must fit, as the validator and the Parquet
// columns do: bigint is a signed 64-bit integer, double a finite float64.
// The schema's numbers pass through float64 (jsii), so the integer bounds
// are +/-2^63 rounded: integers in the last ~1,000 below 2^63 or above
// -2^63 that do not fit int64 pass the model and are rejected by the
// validator (docs/api.md).
const (
	bigintMin = -9223372036854775808
	bigintMax = 9223372036854775807
	doubleMax = 1.7976931348623157e308
)

// RecordSchema is the JSON schema of one record of a dataset, derived from
// its declaration the way the validator reads it: required columns must be
// present and not null, optional ones may be null or absent, types, allowed
// values and ranges are checked, and undeclared fields are accepted (schema
// evolution: producers may add a column before the declaration does).
func RecordSchema(d dataset.Spec) *awsapigateway.JsonSchema {
	s := recordSchema(d)
	s.Schema = awsapigateway.JsonSchemaVersion_DRAFT4
	return s
}

// recordSchema is RecordSchema without the $schema keyword (for items).
func recordSchema(d dataset.Spec) *awsapigateway.JsonSchema {
	props := map[string]*awsapigateway.JsonSchema{}
	var required []*string
	for _, c := range d.Columns {
		props[c.Name] = columnSchema(c)
		if c.Required {
			required = append(required, jsii.String(c.Name))
		}
	}
	s := &awsapigateway.JsonSchema{
		Title:      jsii.String(d.Name + " record"),
		Type:       awsapigateway.JsonSchemaType_OBJECT,
		Properties: &props,
	}
	if len(required) > 0 {
		s.Required = &required
	}
	return s
}

// BatchSchema is {"records":[<record>, ...]} with 1..500 records.
func BatchSchema(d dataset.Spec) *awsapigateway.JsonSchema {
	record := recordSchema(d)
	return &awsapigateway.JsonSchema{
		Schema:               awsapigateway.JsonSchemaVersion_DRAFT4,
		Title:                jsii.String(d.Name + " batch"),
		Type:                 awsapigateway.JsonSchemaType_OBJECT,
		Required:             jsii.Strings("records"),
		AdditionalProperties: jsii.Bool(false),
		Properties: &map[string]*awsapigateway.JsonSchema{
			"records": {
				Type:     awsapigateway.JsonSchemaType_ARRAY,
				MinItems: jsii.Number(1),
				MaxItems: jsii.Number(ApiMaxBatchRecords),
				Items:    record,
			},
		},
	}
}

// numericRange is the inclusive range of a numeric column: its declared
// bounds within the type's own range.
func numericRange(c dataset.Column) (lo, hi float64, ok bool) {
	switch c.Type {
	case dataset.Bigint:
		lo, hi = bigintMin, bigintMax
	case dataset.Double:
		lo, hi = -doubleMax, doubleMax
	default:
		return 0, 0, false
	}
	if c.Min != nil && *c.Min > lo {
		lo = *c.Min
	}
	if c.Max != nil && *c.Max < hi {
		hi = *c.Max
	}
	return lo, hi, true
}

func columnSchema(c dataset.Column) *awsapigateway.JsonSchema {
	s := &awsapigateway.JsonSchema{}
	var t awsapigateway.JsonSchemaType
	switch c.Type {
	case dataset.String:
		t = awsapigateway.JsonSchemaType_STRING
	case dataset.Bigint:
		t = awsapigateway.JsonSchemaType_INTEGER
	case dataset.Double:
		t = awsapigateway.JsonSchemaType_NUMBER
	case dataset.Boolean:
		t = awsapigateway.JsonSchemaType_BOOLEAN
	case dataset.Timestamp:
		t = awsapigateway.JsonSchemaType_STRING
		s.Pattern = jsii.String(timestampPattern)
	case dataset.Date:
		t = awsapigateway.JsonSchemaType_STRING
		s.Pattern = jsii.String(datePattern)
	default:
		panic("ingestapi: column type not validated by config: " + string(c.Type))
	}
	if lo, hi, ok := numericRange(c); ok {
		s.Minimum, s.Maximum = &lo, &hi
	}
	if c.Description != "" {
		s.Description = jsii.String(c.Description)
	}
	if len(c.Allowed) > 0 {
		enum := make([]interface{}, 0, len(c.Allowed))
		for _, v := range c.Allowed {
			enum = append(enum, v)
		}
		s.Enum = &enum
	}
	switch {
	case c.Required:
		s.Type = t
	case len(c.Allowed) > 0:
		// Optional columns may be null, as the validator accepts. An enum
		// would need a JSON null among its values, which jsii drops from
		// the list: say "null, or one of the values" instead.
		s.Type = t
		return &awsapigateway.JsonSchema{
			Description: s.Description,
			AnyOf:       &[]*awsapigateway.JsonSchema{{Type: awsapigateway.JsonSchemaType_NULL}, s},
		}
	default:
		s.Type = &[]awsapigateway.JsonSchemaType{t, awsapigateway.JsonSchemaType_NULL}
	}
	return s
}

// newWebAcl protects the stage with AWS managed rules and a per-IP rate
// limit. WAFv2 has no L2 construct in aws-cdk-lib, hence the L1.
func newWebAcl(stack constructs.Construct, p *Props, stage awsapigateway.Stage) awswafv2.CfnWebACL {
	metric := func(name string) *awswafv2.CfnWebACL_VisibilityConfigProperty {
		return &awswafv2.CfnWebACL_VisibilityConfigProperty{
			CloudWatchMetricsEnabled: jsii.Bool(true),
			MetricName:               jsii.String(p.Prefix + "-ingest-" + name),
			SampledRequestsEnabled:   jsii.Bool(true),
		}
	}
	managed := func(priority int, name string, overrides []string) *awswafv2.CfnWebACL_RuleProperty {
		stmt := &awswafv2.CfnWebACL_ManagedRuleGroupStatementProperty{
			VendorName: jsii.String("AWS"),
			Name:       jsii.String(name),
		}
		if len(overrides) > 0 {
			var list []interface{}
			for _, o := range overrides {
				list = append(list, &awswafv2.CfnWebACL_RuleActionOverrideProperty{
					Name:        jsii.String(o),
					ActionToUse: &awswafv2.CfnWebACL_RuleActionProperty{Count: map[string]interface{}{}},
				})
			}
			stmt.RuleActionOverrides = list
		}
		return &awswafv2.CfnWebACL_RuleProperty{
			Name:             jsii.String(name),
			Priority:         jsii.Number(float64(priority)),
			OverrideAction:   &awswafv2.CfnWebACL_OverrideActionProperty{None: map[string]interface{}{}},
			Statement:        &awswafv2.CfnWebACL_StatementProperty{ManagedRuleGroupStatement: stmt},
			VisibilityConfig: metric(name),
		}
	}
	// One source may send at most what the stage admits over the window:
	// producers often share a NAT address, so a lower limit would block
	// legitimate traffic the stage throttling already shapes.
	limit := p.RateLimit * wafRateWindowSeconds
	acl := awswafv2.NewCfnWebACL(stack, jsii.String("ApiWebAcl"), &awswafv2.CfnWebACLProps{
		Name:             jsii.String(p.Prefix + "-ingest-api"),
		Description:      jsii.String("Protects the ingestion REST API of " + p.Prefix),
		Scope:            jsii.String("REGIONAL"),
		DefaultAction:    &awswafv2.CfnWebACL_DefaultActionProperty{Allow: map[string]interface{}{}},
		VisibilityConfig: metric("web-acl"),
		Rules: []interface{}{
			// Batches are legitimately larger than the common rule set's
			// 8 KB body limit; the JSON schema and Kinesis limits bound them.
			managed(0, "AWSManagedRulesCommonRuleSet", []string{"SizeRestrictions_BODY"}),
			managed(1, "AWSManagedRulesKnownBadInputsRuleSet", nil),
			managed(2, "AWSManagedRulesAmazonIpReputationList", nil),
			&awswafv2.CfnWebACL_RuleProperty{
				Name:     jsii.String("RateLimitPerIp"),
				Priority: jsii.Number(3),
				Action:   &awswafv2.CfnWebACL_RuleActionProperty{Block: map[string]interface{}{}},
				Statement: &awswafv2.CfnWebACL_StatementProperty{
					RateBasedStatement: &awswafv2.CfnWebACL_RateBasedStatementProperty{
						AggregateKeyType:    jsii.String("IP"),
						Limit:               jsii.Number(limit),
						EvaluationWindowSec: jsii.Number(wafRateWindowSeconds),
					},
				},
				VisibilityConfig: metric("rate-limit"),
			},
		},
	})
	awswafv2.NewCfnWebACLAssociation(stack, jsii.String("ApiWebAclAssociation"), &awswafv2.CfnWebACLAssociationProps{
		ResourceArn: stage.StageArn(),
		WebAclArn:   acl.AttrArn(),
	})
	return acl
}

// logWebAcl sends the web ACL's request logs to a KMS-encrypted log group
// with the configured retention. WAF requires the name prefix
// aws-waf-logs-; the Authorization header (SigV4 signatures) is redacted.
func logWebAcl(stack constructs.Construct, p *Props, acl awswafv2.CfnWebACL) {
	name := "aws-waf-logs-" + p.Prefix + "-api"
	logs := awslogs.NewLogGroup(stack, jsii.String("ApiWafLogs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(name),
		EncryptionKey: p.Key,
		Retention:     p.LogRetention,
		RemovalPolicy: p.RemovalPolicy,
	})
	// WAF takes the log group ARN without the ":*" suffix LogGroupArn has.
	arn := awscdk.Stack_Of(stack).FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("logs"), Resource: jsii.String("log-group"), ResourceName: jsii.String(name),
		ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
	logging := awswafv2.NewCfnLoggingConfiguration(stack, jsii.String("ApiWafLogging"), &awswafv2.CfnLoggingConfigurationProps{
		ResourceArn:           acl.AttrArn(),
		LogDestinationConfigs: &[]interface{}{arn},
		RedactedFields: &[]interface{}{&awswafv2.CfnLoggingConfiguration_FieldToMatchProperty{
			SingleHeader: map[string]interface{}{"Name": "authorization"},
		}},
	})
	logging.Node().AddDependency(logs)
}
