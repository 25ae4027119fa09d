package test

// Deploy-time rules: one test per documented AWS constraint that a template
// can break while passing cfn-lint, cdk-nag and the CDK validator, because
// the service checks it only when it runs. Each test cites the page it
// encodes and runs on every environment of cdk.json, on the scenario with
// the optional features on, and on every stage of pipeline mode. The next
// defect of this kind gets its test here.

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/example/datalake/config"
	"github.com/example/datalake/dataset"
	"github.com/example/datalake/stacks"
)

// deployment is one environment's five templates as deployed by one mode.
type deployment struct {
	name      string
	cfg       *config.Config
	templates map[string]map[string]any // by layer
}

func (d deployment) layer(l string) map[string]any { return d.templates[l] }

var deploymentsCache []deployment

// deployments returns every environment of cdk.json in sandbox mode, the
// optional-features scenarios, and every stage of pipeline mode.
func deployments(t *testing.T) []deployment {
	t.Helper()
	if deploymentsCache != nil {
		return deploymentsCache
	}
	fromScenario := func(name string, s *scenario) deployment {
		d := deployment{name: name, cfg: s.Cfg, templates: map[string]map[string]any{}}
		for _, l := range stacks.Layers {
			d.templates[l] = s.json(l)
		}
		return d
	}
	for _, env := range cdkContext.Names() {
		s := map[string]*scenario{"dev": dev, "prod": prod}[env]
		if s == nil {
			s = scenarioWith("env-"+env, env, nil, stacks.Options{})
		}
		deploymentsCache = append(deploymentsCache, fromScenario("sandbox/"+env, s))
	}
	deploymentsCache = append(deploymentsCache,
		fromScenario("sandbox/dev-custom", devCustom),
		fromScenario("sandbox/dev-dms", dmsScenario()),
		fromScenario("sandbox/dev-bi", withBI()),
		fromScenario("sandbox/dev-numbers-replication", customScenario()))
	for i, lake := range pipeline.Lakes {
		cfg := pipelineConfigs(t)[i]
		d := deployment{name: "pipeline/" + cfg.Name, cfg: cfg, templates: map[string]map[string]any{}}
		for j, st := range lake.Stacks() {
			d.templates[stacks.Layers[j]] = *assertions.Template_FromStack(st, nil).ToJSON()
		}
		deploymentsCache = append(deploymentsCache, d)
	}
	return deploymentsCache
}

func pipelineConfigs(t *testing.T) []*config.Config {
	return pipelineConfig(t).Envs
}

// statements returns the statements of a policy document.
func statements(doc any) []map[string]any {
	m, _ := doc.(map[string]any)
	var out []map[string]any
	switch s := m["Statement"].(type) {
	case []any:
		for _, x := range s {
			out = append(out, x.(map[string]any))
		}
	case map[string]any:
		out = append(out, s)
	}
	return out
}

func stringsOf(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, stringsOf(e)...)
		}
		return out
	}
	return []string{flatten(v)}
}

// EventBridge delivers to a KMS-encrypted SNS topic only if the key policy
// lets events.amazonaws.com use the key without aws:SourceAccount,
// aws:SourceArn or aws:SourceOrgID conditions: "these conditions are not
// supported" for this case (SNS Developer Guide, sns-key-management.html,
// "Enable compatibility between event sources from AWS services and
// encrypted topics"). With one, every failure rule delivers nothing.
func TestRuleEventBridgeCanUseTheAlarmTopicKey(t *testing.T) {
	forbidden := []string{"aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID"}
	for _, d := range deployments(t) {
		found := false
		for id, k := range resources(d.layer("storage"), "AWS::KMS::Key") {
			for _, s := range statements(props(k)["KeyPolicy"]) {
				if s["Effect"] != "Allow" || !strings.Contains(flatten(s["Principal"]), "events.amazonaws.com") {
					continue
				}
				actions := strings.Join(stringsOf(s["Action"]), " ")
				if strings.Contains(actions, "kms:GenerateDataKey") && strings.Contains(actions, "kms:Decrypt") {
					found = true
				}
				cond, _ := json.Marshal(s["Condition"])
				for _, f := range forbidden {
					if strings.Contains(string(cond), f) {
						t.Errorf("%s: key %s lets EventBridge use it only with %s, which KMS cannot evaluate for EventBridge: %s", d.name, id, f, cond)
					}
				}
			}
		}
		if !found {
			t.Errorf("%s: no key statement lets events.amazonaws.com GenerateDataKey and Decrypt (alarm topic encryption)", d.name)
		}
	}
}

// A principal allowed kms:* must not be able to hand the key to others:
// only AWS services may create grants (kms:GrantIsForAWSResource, KMS
// Developer Guide, conditions-kms.html#conditions-kms-grant-is-for-aws-resource).
func TestRuleKeyGrantsOnlyForAwsResources(t *testing.T) {
	for _, d := range deployments(t) {
		for id, k := range resources(d.layer("storage"), "AWS::KMS::Key") {
			ok := false
			for _, s := range statements(props(k)["KeyPolicy"]) {
				c, _ := json.Marshal(s["Condition"])
				if s["Effect"] == "Deny" && strings.Contains(strings.Join(stringsOf(s["Action"]), " "), "kms:CreateGrant") &&
					string(c) == `{"Bool":{"kms:GrantIsForAWSResource":"false"}}` && flatten(s["Principal"]) == `{"AWS":"*"}` {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s: key %s does not deny kms:CreateGrant unless kms:GrantIsForAWSResource", d.name, id)
			}
		}
	}
}

// iamRequest is the request context of an S3 PutObject: condition keys and
// their values ("" never stands for absent: absent keys are not in the map).
type iamRequest map[string]string

// conditionHolds evaluates one statement's Condition block the way IAM
// does (IAM User Guide, reference_policies_elements_condition_operators):
// every operator and key must match; a key absent from the request makes
// a positive operator false and a negated one (StringNotEquals) true;
// ...IfExists operators are true when the key is absent; Null "true" means
// absent. Values are compared as their JSON text, so a token (the key ARN)
// matches the same token. An operator this evaluator does not know fails
// the test: it must be taught, not guessed.
func conditionHolds(t *testing.T, cond map[string]any, req iamRequest) bool {
	t.Helper()
	for op, block := range cond {
		for key, want := range block.(map[string]any) {
			var wants []string
			for _, w := range func() []any {
				if l, ok := want.([]any); ok {
					return l
				}
				return []any{want}
			}() {
				b, _ := json.Marshal(w)
				wants = append(wants, strings.Trim(string(b), `"`))
			}
			got, present := req[key]
			eq := false
			for _, w := range wants {
				eq = eq || got == w
			}
			var holds bool
			switch op {
			case "StringEquals", "Bool":
				holds = present && eq
			case "StringNotEquals":
				holds = !present || !eq
			case "StringEqualsIfExists":
				holds = !present || eq
			case "StringNotEqualsIfExists":
				holds = !present || !eq
			case "Null":
				holds = (wants[0] == "true") == !present
			case "NumericLessThan":
				holds = present && got < wants[0]
			default:
				t.Fatalf("condition operator %s is not modeled: add its documented semantics to conditionHolds", op)
			}
			if !holds {
				return false
			}
		}
	}
	return true
}

// A plain `aws s3 cp` (no encryption header) into a zone bucket relies on
// default encryption with the lake key and must be allowed; asking for
// another encryption or another key must be denied.
func TestRuleZoneBucketsAcceptDefaultEncryptionUploads(t *testing.T) {
	cases := []struct {
		name    string
		headers func(ourKey string) iamRequest
		allowed bool
	}{
		{"no encryption header (default encryption)", func(string) iamRequest { return iamRequest{} }, true},
		{"SSE-KMS with the lake key", func(k string) iamRequest {
			return iamRequest{"s3:x-amz-server-side-encryption": "aws:kms", "s3:x-amz-server-side-encryption-aws-kms-key-id": k}
		}, true},
		{"SSE-S3", func(string) iamRequest { return iamRequest{"s3:x-amz-server-side-encryption": "AES256"} }, false},
		{"DSSE-KMS with the lake key", func(k string) iamRequest {
			return iamRequest{"s3:x-amz-server-side-encryption": "aws:kms:dsse", "s3:x-amz-server-side-encryption-aws-kms-key-id": k}
		}, false},
		{"SSE-KMS with another key", func(string) iamRequest {
			return iamRequest{"s3:x-amz-server-side-encryption": "aws:kms", "s3:x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:us-west-2:111122223333:key/other"}
		}, false},
		{"SSE-KMS without a key id (aws/s3 key)", func(string) iamRequest { return iamRequest{"s3:x-amz-server-side-encryption": "aws:kms"} }, false},
	}
	for _, d := range deployments(t) {
		tpl := d.layer("storage")
		keyID := logicalIDOf(tpl, "AWS::KMS::Key", "LakeKey")
		ourKey, _ := json.Marshal(map[string]any{"Fn::GetAtt": []any{keyID, "Arn"}})
		for _, bucket := range []string{"RawBucket", "ProcessedBucket", "CuratedBucket"} {
			id := logicalIDOf(tpl, "AWS::S3::Bucket", bucket)
			var denies []map[string]any
			for _, p := range resources(tpl, "AWS::S3::BucketPolicy") {
				if ref, _ := props(p)["Bucket"].(map[string]any); ref["Ref"] == id {
					for _, s := range statements(props(p)["PolicyDocument"]) {
						if s["Effect"] == "Deny" && strings.Contains(strings.Join(stringsOf(s["Action"]), " "), "s3:PutObject") {
							denies = append(denies, s)
						}
					}
				}
			}
			for _, c := range cases {
				req := c.headers(string(ourKey))
				req["aws:SecureTransport"], req["s3:TlsVersion"] = "true", "1.3"
				var deniedBy []string
				for _, s := range denies {
					cond, _ := s["Condition"].(map[string]any)
					if conditionHolds(t, cond, req) {
						deniedBy = append(deniedBy, fmt.Sprint(s["Sid"]))
					}
				}
				if allowed := len(deniedBy) == 0; allowed != c.allowed {
					t.Errorf("%s %s: upload with %s: allowed=%v (denied by %v), want allowed=%v", d.name, bucket, c.name, allowed, deniedBy, c.allowed)
				}
			}
		}
	}
}

func logicalIDOf(tpl map[string]any, typ, prefix string) string {
	for id := range resources(tpl, typ) {
		if regexp.MustCompile(`^` + prefix + `[0-9A-F]{8}$`).MatchString(id) {
			return id
		}
	}
	return ""
}

// DQDL fails NULL rows on every ColumnValues rule except != and NOT IN
// (Glue Developer Guide, dqdl-rule-types-ColumnValues.html, "Null
// behavior"). A value rule on an optional column must therefore accept
// NULL, or one record without the field fails the dataset's quality gate.
func TestRuleQualityRulesTolerateNullsInOptionalColumns(t *testing.T) {
	ruleRe := regexp.MustCompile(`ColumnValues "([a-z0-9_]+)" (in \[[^\]]*\]|>=|<=|>|<|=|between)`)
	for _, d := range deployments(t) {
		byTable := map[string]dataset.Spec{}
		for _, s := range d.cfg.Datasets {
			byTable[s.Name] = s
		}
		var rulesets []struct{ where, text, table string }
		for id, r := range resources(d.layer("processing"), "AWS::Glue::DataQualityRuleset") {
			table, _ := props(r)["TargetTable"].(map[string]any)["TableName"].(string)
			rulesets = append(rulesets, struct{ where, text, table string }{id, props(r)["Ruleset"].(string), table})
		}
		for id, j := range resources(d.layer("processing"), "AWS::Glue::Job") {
			args, _ := props(j)["DefaultArguments"].(map[string]any)
			if rs, ok := args["--ruleset"].(string); ok {
				rulesets = append(rulesets, struct{ where, text, table string }{id, rs, args["--table"].(string)})
			}
		}
		if len(rulesets) < 2*len(d.cfg.Datasets) {
			t.Errorf("%s: %d rulesets for %d datasets (resource and job argument each)", d.name, len(rulesets), len(d.cfg.Datasets))
		}
		for _, rs := range rulesets {
			spec, ok := byTable[rs.table]
			if !ok {
				t.Errorf("%s %s: ruleset for unknown table %q", d.name, rs.where, rs.table)
				continue
			}
			for _, rule := range rulesOfRuleset(rs.text) {
				for _, m := range ruleRe.FindAllStringSubmatch(rule, -1) {
					col, ok := spec.Column(m[1])
					if !ok {
						t.Errorf("%s %s: rule %q names undeclared column %s", d.name, rs.where, rule, m[1])
						continue
					}
					if col.Required || m[2] == "=" {
						continue
					}
					tolerant := strings.Contains(rule, `OR (ColumnValues "`+col.Name+`" = NULL)`) ||
						(strings.HasPrefix(m[2], "in [") && strings.HasSuffix(m[2], "NULL]"))
					if !tolerant {
						t.Errorf("%s %s: %q fails every record without the optional column %s", d.name, rs.where, rule, col.Name)
					}
				}
			}
		}
	}
}

// rulesOfRuleset splits `Rules = [ r1, r2 ]` at the top-level commas.
func rulesOfRuleset(text string) []string {
	body := strings.TrimSpace(text)
	body = strings.TrimSuffix(strings.TrimPrefix(body[strings.Index(body, "[")+1:], ""), "]")
	var out []string
	depth, inQuote, start := 0, false, 0
	for i, c := range body {
		switch {
		case c == '"':
			inQuote = !inQuote
		case inQuote:
		case c == '[' || c == '(':
			depth++
		case c == ']' || c == ')':
			depth--
		case c == ',' && depth == 0:
			out = append(out, strings.TrimSpace(body[start:i]))
			start = i + 1
		}
	}
	return append(out, strings.TrimSpace(body[start:]))
}

// API Gateway's mapping templates are Apache Velocity (VTL). In Velocity
// 1.7 a reference name is a letter followed by letters, digits, '-' and
// '_' (Velocity User Guide, "References"), so "$context.requestId-1" reads
// the property "requestId-1", which API Gateway does not have, and renders
// as the literal text. Every reference in every mapping template must name
// a documented $context/$input/$util member (API Gateway Developer Guide,
// api-gateway-mapping-template-reference.html) or a variable the template
// sets itself.
func TestRuleMappingTemplateReferencesAreDefined(t *testing.T) {
	documented := map[string]bool{}
	for _, p := range []string{
		"context.requestId", "context.requestTimeEpoch", "context.requestTime", "context.extendedRequestId",
		"context.httpMethod", "context.resourcePath", "context.stage", "context.apiId", "context.accountId",
		"context.identity", "context.identity.sourceIp", "context.identity.caller", "context.identity.userArn",
		"context.responseOverride.status", "context.responseOverride.header",
		"input.json", "input.path", "input.body", "input.params",
		"util.base64Encode", "util.base64Decode", "util.escapeJavaScript", "util.parseJson", "util.urlEncode", "util.urlDecode",
		"foreach.index", "foreach.hasNext", "foreach.count", "foreach.first", "foreach.last",
	} {
		documented[p] = true
	}
	// A reference: $, optional !, then either {name(.name)*} or name(.name)*,
	// names per Velocity 1.7.
	refRe := regexp.MustCompile(`\$!?(\{[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z][A-Za-z0-9_-]*)*\}|[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z][A-Za-z0-9_-]*)*)`)
	setRe := regexp.MustCompile(`#(?:set\(\s*\$|foreach\(\s*\$)([A-Za-z][A-Za-z0-9_-]*)`)
	checked := 0
	for _, d := range deployments(t) {
		for key, m := range apiMethods(t, d.layer("ingestion")) {
			integ := m["Integration"].(map[string]any)
			templates := []string{flatten(integ["RequestTemplates"].(map[string]any)["application/json"])}
			for _, r := range integ["IntegrationResponses"].([]any) {
				templates = append(templates, flatten(r.(map[string]any)["ResponseTemplates"].(map[string]any)["application/json"]))
			}
			for _, text := range templates {
				// Tokens rendered by flatten ({"Ref":...}) are CloudFormation's, not VTL.
				text = regexp.MustCompile(`\{"(Ref|Fn::[A-Za-z]+)":[^}]*\}+`).ReplaceAllString(text, "TOKEN")
				set := map[string]bool{}
				for _, s := range setRe.FindAllStringSubmatch(text, -1) {
					set[s[1]] = true
				}
				for _, r := range refRe.FindAllStringSubmatch(text, -1) {
					ref := strings.Trim(r[1], "{}")
					checked++
					root := strings.SplitN(ref, ".", 2)[0]
					switch {
					case set[ref] || set[root] && root != "context" && root != "input" && root != "util":
						// a variable of the template, or a member of one (a
						// record of $input.path('$.Records'))
					case documented[ref]:
					case root == "context" || root == "input" || root == "util" || root == "foreach":
						t.Errorf("%s %s: $%s is not a documented API Gateway variable (in VTL '-' continues a name: use ${...})", d.name, key, ref)
					default:
						t.Errorf("%s %s: $%s is used but never set", d.name, key, ref)
					}
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no references checked: the API methods were not found")
	}
}

// timestampCases are the lake's timestamp grammar cases
// (dataset/testdata/timestamps.json, which the validator's and the jobs'
// tests read too): text -> whether it is a valid timestamp.
func timestampCases(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("../dataset/testdata/timestamps.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []struct {
			Text string
			Want *string
		}
	}
	if err := json.Unmarshal(b, &f); err != nil || len(f.Cases) == 0 {
		t.Fatalf("timestamps.json: %v (%d cases)", err, len(f.Cases))
	}
	out := map[string]bool{}
	for _, c := range f.Cases {
		out[c.Text] = c.Want != nil
	}
	return out
}

// The request models must refuse what the validator rejects, so a client
// gets a 400 instead of a 200 and a record under errors/. The model is a
// JSON Schema draft 4 (API Gateway Developer Guide, models-mappings-models);
// the validator's rules are in functions/validator/README.md. What a schema
// cannot express is listed in docs/api.md.
func TestRuleApiModelsRefuseWhatTheValidatorRejects(t *testing.T) {
	// The validator's and the jobs' timestamp cases (dataset/testdata), so
	// the model, the validator and the jobs read one grammar. A regular
	// expression cannot see leap years: February 29 of another year passes
	// the model and the validator rejects it (docs/api.md).
	timestamps := map[string]bool{}
	for text, valid := range timestampCases(t) {
		if y, err := strconv.Atoi(text[:min(4, len(text))]); err == nil && strings.HasPrefix(text[4:], "-02-29") && (y%4 != 0 || (y%100 == 0 && y%400 != 0)) {
			continue
		}
		timestamps[text] = valid
	}
	dates := map[string]bool{"2024-02-29": true, "2025-12-31": true, "2025-02-30": false, "2025-13-01": false, "2025-00-10": false, "2025-06-31": false}
	for _, d := range deployments(t) {
		models := map[string]map[string]any{}
		for _, m := range resources(d.layer("ingestion"), "AWS::ApiGateway::Model") {
			models[props(m)["Name"].(string)] = props(m)["Schema"].(map[string]any)
		}
		for _, s := range d.cfg.Datasets {
			var record map[string]any
			for name, m := range models {
				if strings.HasSuffix(name, "Record") && m["title"] == s.Name+" record" {
					record = m
				}
			}
			if record == nil {
				t.Errorf("%s: no record model for %s", d.name, s.Name)
				continue
			}
			cols := record["properties"].(map[string]any)
			for _, c := range s.Columns {
				schema := cols[c.Name].(map[string]any)
				if alts, ok := schema["anyOf"].([]any); ok {
					schema = alts[1].(map[string]any)
				}
				switch c.Type {
				case dataset.Timestamp, dataset.Date:
					re, err := regexp.Compile(schema["pattern"].(string))
					if err != nil {
						t.Errorf("%s %s.%s: pattern does not compile: %v", d.name, s.Name, c.Name, err)
						continue
					}
					vectors := timestamps
					if c.Type == dataset.Date {
						vectors = dates
					}
					for v, want := range vectors {
						if got := re.MatchString(v); got != want {
							t.Errorf("%s %s.%s (%s): model accepts %q = %v, the validator %v", d.name, s.Name, c.Name, c.Type, v, got, want)
						}
					}
				case dataset.Bigint:
					lo, _ := schema["minimum"].(float64)
					hi, _ := schema["maximum"].(float64)
					if _, ok := schema["maximum"]; !ok || hi > math.MaxInt64 || (c.Max != nil && hi != *c.Max) {
						t.Errorf("%s %s.%s: maximum %v does not refuse integers beyond int64 (or the declared max)", d.name, s.Name, c.Name, schema["maximum"])
					}
					if _, ok := schema["minimum"]; !ok || lo < math.MinInt64 || (c.Min != nil && lo != *c.Min) {
						t.Errorf("%s %s.%s: minimum %v does not refuse integers beyond int64 (or the declared min)", d.name, s.Name, c.Name, schema["minimum"])
					}
				case dataset.Double:
					hi, ok := schema["maximum"].(float64)
					if !ok || hi > math.MaxFloat64 || math.IsInf(hi, 1) || (c.Max != nil && hi != *c.Max) {
						t.Errorf("%s %s.%s: maximum %v does not refuse numbers beyond float64 (1e309)", d.name, s.Name, c.Name, schema["maximum"])
					}
					if lo, ok := schema["minimum"].(float64); !ok || lo < -math.MaxFloat64 || (c.Min != nil && lo != *c.Min) {
						t.Errorf("%s %s.%s: minimum %v does not refuse numbers beyond float64 (-1e309)", d.name, s.Name, c.Name, schema["minimum"])
					}
				}
			}
		}
	}
}

// Gateway response templates are plain variable substitution: "API Gateway
// does not escape" the values (API Gateway Developer Guide,
// api-gateway-gatewayResponse-definition.html: only $context, $stageVariables
// and request parameters are substituted). $context.error.messageString is
// the one documented pre-quoted, escaped value. With every other variable
// set to text holding quotes, a backslash and a newline, every body must
// still be JSON, whatever the client sent.
func TestRuleGatewayResponsesStayJSON(t *testing.T) {
	hostile := "a\"b\\c\nd"
	quoted, _ := json.Marshal(hostile)
	varRe := regexp.MustCompile(`\$(context|stageVariables|method)\.[A-Za-z.]+`)
	for _, d := range deployments(t) {
		n := 0
		for id, r := range resources(d.layer("ingestion"), "AWS::ApiGateway::GatewayResponse") {
			for _, body := range props(r)["ResponseTemplates"].(map[string]any) {
				text := body.(string)
				rendered := varRe.ReplaceAllStringFunc(text, func(v string) string {
					switch v {
					case "$context.error.messageString":
						return string(quoted)
					case "$context.requestId":
						return "c0ffee00-1234-5678-9abc-def012345678" // a UUID by definition
					}
					return hostile
				})
				n++
				if !json.Valid([]byte(rendered)) {
					t.Errorf("%s %s: body is not JSON once its variables are substituted: %s", d.name, id, rendered)
				}
			}
		}
		if n == 0 {
			t.Errorf("%s: no gateway responses", d.name)
		}
	}
}

// A reservation must leave 100 executions of the account unreserved, and a
// new account's quota can be 10 (Lambda Developer Guide,
// configuration-concurrency.html): any default reservation can fail the
// ingestion stack there. Nothing is reserved unless config asks.
func TestRuleValidatorReservesNoConcurrencyUnlessConfigured(t *testing.T) {
	for _, d := range deployments(t) {
		for id, f := range resources(d.layer("ingestion"), "AWS::Lambda::Function") {
			got, has := props(f)["ReservedConcurrentExecutions"]
			want := d.cfg.ValidatorReservedConcurrency
			if (want == 0 && has) || (want > 0 && got != float64(want)) {
				t.Errorf("%s %s: ReservedConcurrentExecutions = %v, config validator_reserved_concurrency = %d", d.name, id, got, want)
			}
		}
	}
	// The custom scenario reserves some: the rule above is not only ever
	// checked on deployments that reserve nothing.
	s := customScenario()
	want := s.Cfg.ValidatorReservedConcurrency
	found := false
	for _, f := range resources(s.json("ingestion"), "AWS::Lambda::Function") {
		found = found || props(f)["ReservedConcurrentExecutions"] == float64(want)
	}
	if want == 0 || !found {
		t.Errorf("validator_reserved_concurrency %d did not reach the validator", want)
	}
}

// A budget without a filter counts the whole account. The environment's
// budget filters on its cost-allocation tag (Budgets API, CostFilters,
// "TagKeyValue": "user:<key>$<value>"), which every resource carries.
func TestRuleBudgetCountsOnlyTheEnvironment(t *testing.T) {
	for _, d := range deployments(t) {
		want := "user:" + stacks.CostAllocationTag + "$" + d.cfg.Prefix()
		for id, b := range resources(d.layer("observability"), "AWS::Budgets::Budget") {
			filters, _ := props(b)["Budget"].(map[string]any)["CostFilters"].(map[string]any)
			if got := fmt.Sprint(filters["TagKeyValue"]); got != "["+want+"]" {
				t.Errorf("%s %s: CostFilters.TagKeyValue = %s, want [%s]", d.name, id, got, want)
			}
		}
		raw := resources(d.layer("storage"), "AWS::S3::Bucket")[logicalIDOf(d.layer("storage"), "AWS::S3::Bucket", "RawBucket")]
		if tags := tagMap(props(raw)); tags[stacks.CostAllocationTag] != d.cfg.Prefix() {
			t.Errorf("%s: the raw bucket does not carry %s=%s: %v", d.name, stacks.CostAllocationTag, d.cfg.Prefix(), tags)
		}
	}
}

// With dynamic partitioning "end-to-end delay of a batch of records might
// be 1.5 times of the configured buffering hint time" (Firehose Developer
// Guide, buffering.html), after the processor's buffer: the smoke test
// must wait at least that long for its record.
func TestRuleSmokeTestWaitsForDynamicPartitioning(t *testing.T) {
	for i, cfg := range pipelineConfigs(t) {
		smoke := actionNamed(stageNamed(t, cfg.Name), "SmokeTest-"+cfg.Name)
		if smoke == nil {
			t.Fatalf("no smoke test for %s", cfg.Name)
		}
		env := props(projectOf(t, smoke))["Environment"].(map[string]any)["EnvironmentVariables"].([]any)
		var wait float64
		for _, v := range env {
			if m := v.(map[string]any); m["Name"] == "TIMEOUT_SECONDS" {
				fmt.Sscan(m["Value"].(string), &wait)
			}
		}
		need := 1.5*float64(cfg.FirehoseBufferSeconds) + stacks.FirehoseProcessorBufferSeconds
		if wait < need {
			t.Errorf("stage %d (%s): smoke test waits %v s, Firehose may take %v s (1.5 x %d s + %d s)", i, cfg.Name, wait, need, cfg.FirehoseBufferSeconds, stacks.FirehoseProcessorBufferSeconds)
		}
	}
}

// Reading a Glue table needs permission on the catalog, the database and
// the table (Glue Developer Guide, glue-specifying-resource-arns.html,
// "Catalog ARN ... database ARN ... table ARN"). Every role allowed
// glue:GetTable on a table must also be allowed it on the catalog and on
// that table's database.
func TestRuleCatalogReadersCanResolveTheirTables(t *testing.T) {
	tableRe := regexp.MustCompile(`:table/([^/"]+)/`)
	checked := 0
	for _, d := range deployments(t) {
		for _, layer := range stacks.Layers {
			byRole := map[string][]string{} // role -> resources allowed glue:GetTable
			for _, p := range resources(d.layer(layer), "AWS::IAM::Policy") {
				roles, _ := json.Marshal(props(p)["Roles"])
				for _, s := range statements(props(p)["PolicyDocument"]) {
					if s["Effect"] != "Allow" || !containsStr(stringsOf(s["Action"]), "glue:GetTable") {
						continue
					}
					byRole[string(roles)] = append(byRole[string(roles)], stringsOf(s["Resource"])...)
				}
			}
			for role, res := range byRole {
				all := strings.Join(res, " ")
				for _, m := range tableRe.FindAllStringSubmatch(all, -1) {
					checked++
					if !strings.Contains(all, ":database/"+m[1]) || !strings.Contains(all, ":catalog") {
						t.Errorf("%s %s: role %s may read tables of %s but not the catalog and database ARNs: %s", d.name, layer, role, m[1], all)
					}
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no table grants found")
	}
}

// A Glue job without a NETWORK connection runs outside the VPC (Glue
// Developer Guide, glue-connections / "Connecting to data in a VPC"), so a
// private network it should use is paid for and unused. Where the
// environment has a VPC, every job runs in it, and the job security group
// sends nothing to the internet but HTTPS.
func TestRuleJobsRunInThePrivateNetwork(t *testing.T) {
	withVPC := 0
	for _, d := range deployments(t) {
		if len(resources(d.layer("storage"), "AWS::EC2::VPC")) == 0 {
			continue
		}
		withVPC++
		conns := resources(d.layer("processing"), "AWS::Glue::Connection")
		if len(conns) != 1 {
			t.Errorf("%s: %d Glue connections, want 1", d.name, len(conns))
		}
		for id, c := range conns {
			in := props(c)["ConnectionInput"].(map[string]any)
			if in["ConnectionType"] != "NETWORK" || in["PhysicalConnectionRequirements"] == nil {
				t.Errorf("%s %s: not a NETWORK connection with a subnet: %v", d.name, id, in)
			}
		}
		for id, j := range resources(d.layer("processing"), "AWS::Glue::Job") {
			c, _ := props(j)["Connections"].(map[string]any)
			if len(stringsOf(c["Connections"])) == 0 {
				t.Errorf("%s: job %s has no connection: it runs outside the VPC", d.name, id)
			}
		}
		for id, g := range resources(d.layer("storage"), "AWS::EC2::SecurityGroup") {
			if !strings.Contains(fmt.Sprint(props(g)["GroupDescription"]), "workers of") { // the job security group
				continue
			}
			for _, e := range props(g)["SecurityGroupEgress"].([]any) {
				rule := e.(map[string]any)
				if rule["CidrIp"] == "0.0.0.0/0" && (rule["FromPort"] != 443.0 || rule["ToPort"] != 443.0) {
					t.Errorf("%s %s: egress to anywhere beyond HTTPS: %v", d.name, id, rule)
				}
			}
		}
	}
	if withVPC == 0 {
		t.Fatal("no deployment with a VPC was checked")
	}
}

// serviceEvents are the events AWS documents for the failure rules, with
// the fields a rule's message may read (EventBridge events reference and
// each service's guide: Glue automating-awsglue-with-cloudwatch-events,
// S3 ev-events, DMS CHAP_EventBridge, EMR Serverless using-eventbridge).
var serviceEvents = map[string]map[string]any{
	"aws.glue/Glue Job State Change":                         {"detail": map[string]any{"jobName": "j", "severity": "ERROR", "state": "FAILED", "jobRunId": "jr_1", "message": "m"}},
	"aws.glue/Glue Job Run Status":                           {"detail": map[string]any{"jobName": "j", "severity": "INFO", "notificationCondition": map[string]any{"NotifyDelayAfter": 1.0}, "state": "RUNNING", "jobRunId": "jr_1", "message": "m", "startedOn": "t"}},
	"aws.glue/Glue Crawler State Change":                     {"detail": map[string]any{"crawlerName": "c", "errorMessage": "e", "accountId": "1", "cloudWatchLogLink": "l", "state": "Failed", "message": "m"}},
	"aws.s3/Object Created":                                  {"detail": map[string]any{"version": "0", "bucket": map[string]any{"name": "b"}, "object": map[string]any{"key": "k", "size": 1.0, "etag": "e", "sequencer": "s"}, "request-id": "r", "requester": "q", "reason": "PutObject"}},
	"aws.dms/DMS Replication Task State Change":              {"detail": map[string]any{"type": "REPLICATION_TASK", "category": "Failure", "eventType": "REPLICATION_TASK_FAILED", "eventId": "DMS-EVENT-0078", "resourceLink": "l", "detailMessage": "d"}},
	"aws.emr-serverless/EMR Serverless Job Run State Change": {"detail": map[string]any{"jobRunId": "r", "applicationId": "a", "arn": "x", "releaseLabel": "emr-7.5.0", "state": "FAILED", "previousState": "RUNNING", "createdBy": "c", "updatedAt": "u", "createdAt": "c"}},
}

// An input transformer path that the event does not have renders as
// nothing (EventBridge User Guide, eb-transform-target-input.html), so a
// failure email says nothing about the failure. Every path a rule's message
// reads must exist in the event the service documents.
func TestRuleFailureMessagesReadFieldsTheEventsHave(t *testing.T) {
	checked := 0
	for _, d := range deployments(t) {
		for id, r := range resources(d.layer("observability"), "AWS::Events::Rule") {
			p := props(r)
			pattern, _ := p["EventPattern"].(map[string]any)
			if pattern == nil {
				continue
			}
			key := fmt.Sprint(stringsOf(pattern["source"])[0], "/", stringsOf(pattern["detail-type"])[0])
			for _, tg := range p["Targets"].([]any) {
				it, _ := tg.(map[string]any)["InputTransformer"].(map[string]any)
				if it == nil {
					continue
				}
				event, ok := serviceEvents[key]
				if !ok {
					t.Errorf("%s %s: no documented sample event for %s: add it to serviceEvents", d.name, id, key)
					continue
				}
				paths, _ := it["InputPathsMap"].(map[string]any)
				for name, path := range paths {
					checked++
					if !hasPath(event, path.(string)) {
						t.Errorf("%s %s: message field %s reads %s, which %s events do not have", d.name, id, name, path, key)
					}
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no input paths checked")
	}
}

func hasPath(event map[string]any, path string) bool {
	var cur any = event
	for _, part := range strings.Split(strings.TrimPrefix(path, "$."), ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}

// CloudTrail and Config files are evidence: in production the audit bucket
// is write-once (S3 Object Lock, S3 User Guide object-lock.html; Control
// Tower CT.S3.PR.9). Object Lock needs versioning and can be turned on for
// an existing bucket, never off.
func TestRuleAuditBucketIsWriteOnceWhereConfigured(t *testing.T) {
	prodChecked := false
	for _, d := range deployments(t) {
		for id, b := range resources(d.layer("observability"), "AWS::S3::Bucket") {
			p := props(b)
			lock, _ := p["ObjectLockConfiguration"].(map[string]any)
			mode := d.cfg.AuditObjectLockMode
			if mode == config.ObjectLockOff {
				if p["ObjectLockEnabled"] != nil {
					t.Errorf("%s %s: Object Lock on although audit_object_lock_mode is off", d.name, id)
				}
				continue
			}
			prodChecked = prodChecked || d.cfg.IsProduction()
			want := fmt.Sprintf(`{"DefaultRetention":{"Days":%d,"Mode":"%s"}}`, d.cfg.AuditObjectLockDays, strings.ToUpper(mode))
			got, _ := json.Marshal(lock["Rule"])
			if p["ObjectLockEnabled"] != true || string(got) != want || props(b)["VersioningConfiguration"] == nil {
				t.Errorf("%s %s: Object Lock %v rule %s, want enabled with %s and versioning", d.name, id, p["ObjectLockEnabled"], got, want)
			}
		}
	}
	if !prodChecked {
		t.Error("no production audit bucket with Object Lock was checked")
	}
}

// The processed and curated tables are Apache Iceberg v2 tables declared
// by the deployment and never updated by it. glue:CreateTable with
// OpenTableFormatInput.IcebergInput {MetadataOperation: CREATE, Version: 2}
// creates the table and its first metadata file (Glue API, API_IcebergInput.html).
// An AWS::Glue::Table carrying the same input loses table_type and
// metadata_location on every stack update, after which Athena fails with
// HIVE_UNSUPPORTED_FORMAT (cloudformation-coverage-roadmap issues 1919 and
// 2495): so no AWS::Glue::Table may carry OpenTableFormatInput, and the
// custom resource that creates the table must have no update call. An
// Iceberg table's current metadata pointer lives in its one catalog entry,
// so each table is declared once, in the catalog database, where its job
// commits: a second entry over the same files would fall behind.
func TestRuleIcebergTablesAreCreatedOnce(t *testing.T) {
	for _, d := range deployments(t) {
		type want struct{ columns, location string }
		wants := map[string]want{}
		cols := func(tc []dataset.TableColumn) string {
			var out []string
			for _, c := range tc {
				out = append(out, c.Name+" "+c.Type)
			}
			return strings.Join(append(out, "dt string"), ",")
		}
		for _, ds := range d.cfg.Datasets {
			wants[ds.Name] = want{cols(dataset.ProcessedColumns(ds)), "ProcessedBucket/" + ds.Name + "/"}
			wants[dataset.DailyTable(ds)] = want{cols(dataset.DailyColumns(ds)), "CuratedBucket/" + dataset.DailyTable(ds) + "/"}
		}
		for _, j := range d.cfg.Joins {
			jc, err := dataset.JoinColumns(j, d.cfg.Datasets)
			if err != nil {
				t.Fatal(err)
			}
			wants[j.Name] = want{cols(jc), "CuratedBucket/" + j.Name + "/"}
		}
		created := map[string]map[string]any{}
		for _, layer := range stacks.Layers {
			tpl := d.layer(layer)
			for id, r := range resources(tpl, "AWS::Glue::Table") {
				if _, ok := props(r)["OpenTableFormatInput"]; ok {
					t.Errorf("%s: %s is an AWS::Glue::Table with OpenTableFormatInput (stack updates break it)", d.name, id)
				}
				if name, _ := props(r)["TableInput"].(map[string]any)["Name"].(string); wants[name].columns != "" {
					t.Errorf("%s %s: %s declares %s a second time, as a plain Glue table", d.name, layer, id, name)
				}
			}
			for id, r := range resources(tpl, "Custom::IcebergTable") {
				p := props(r)
				if _, ok := p["Update"]; ok {
					t.Errorf("%s: %s has an update call: a stack update would rewrite the table", d.name, id)
				}
				var call struct {
					Service, Action string
					Parameters      struct {
						DatabaseName         string
						TableInput           map[string]any
						OpenTableFormatInput map[string]map[string]string
					}
				}
				// A token (the bucket's import) as its JSON without quotes.
				token := func(m map[string]any) string { return strings.ReplaceAll(asJSON(m), `"`, "") }
				if err := json.Unmarshal([]byte(joinText(p["Create"], token)), &call); err != nil {
					t.Fatalf("%s: %s Create is not JSON: %v", d.name, id, err)
				}
				in := call.Parameters.TableInput
				if layer != "processing" || call.Service != "Glue" || call.Action != "CreateTable" || call.Parameters.DatabaseName != d.cfg.DataCatalogDatabaseName {
					t.Errorf("%s: %s (%s stack) creates with %s.%s in %q", d.name, id, layer, call.Service, call.Action, call.Parameters.DatabaseName)
				}
				if ice := call.Parameters.OpenTableFormatInput["IcebergInput"]; ice["MetadataOperation"] != "CREATE" || ice["Version"] != "2" {
					t.Errorf("%s: %s IcebergInput = %v, want CREATE version 2", d.name, id, ice)
				}
				if in["TableType"] != "EXTERNAL_TABLE" {
					t.Errorf("%s: %s TableType = %v", d.name, id, in["TableType"])
				}
				if _, twice := created[in["Name"].(string)]; twice {
					t.Errorf("%s: Iceberg table %s is declared twice", d.name, in["Name"])
				}
				created[in["Name"].(string)] = in
			}
		}
		for name, w := range wants {
			in, ok := created[name]
			if !ok {
				t.Errorf("%s: no Iceberg table %s", d.name, name)
				continue
			}
			sd := in["StorageDescriptor"].(map[string]any)
			var got []string
			for _, c := range sd["Columns"].([]any) {
				got = append(got, c.(map[string]any)["Name"].(string)+" "+c.(map[string]any)["Type"].(string))
			}
			if strings.Join(got, ",") != w.columns {
				t.Errorf("%s: %s columns = %v, want %v", d.name, name, got, w.columns)
			}
			// The bucket of its zone (its import names the storage
			// stack's construct), the table's folder in it.
			bucket, folder, _ := strings.Cut(w.location, "/")
			if loc := sd["Location"].(string); !strings.HasPrefix(loc, "s3://") || !strings.Contains(loc, bucket) || !strings.HasSuffix(loc, "}/"+folder) {
				t.Errorf("%s: %s location = %s, want the %s's %s", d.name, name, loc, bucket, folder)
			}
		}
		if len(created) != len(wants) {
			t.Errorf("%s: %d Iceberg tables, want %d (processed and daily per dataset, one per join)", d.name, len(created), len(wants))
		}
	}
}
