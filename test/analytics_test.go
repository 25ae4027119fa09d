package test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/config"
	"github.com/example/datalake/constructs/icebergtable"
	"github.com/example/datalake/dataset"
	"github.com/example/datalake/queries"
	"github.com/example/datalake/stacks"
)

const qsPrincipal = "arn:aws:quicksight:us-west-2:123456789012:user/default/analyst"

// withBI turns QuickSight and Redshift Spectrum on (one synthesis, shared
// by every test that needs the optional analytics features).
func withBI() *scenario {
	return scenarioWith("quicksight", "dev", map[string]any{
		"quicksight": map[string]any{"principal_arn": qsPrincipal},
		"redshift":   map[string]any{"enabled": true, "name": "lake"},
	}, stacks.Options{})
}

// asJSON renders a template fragment as compact JSON, for assertions on
// values that mix literals and cross-stack references (Fn::Join).
func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestWorkGroupEnforcedEncryptedLimited(t *testing.T) {
	for _, s := range []*scenario{dev, prod} {
		check(t, s.Cfg.Name+" workgroup", func() {
			s.tpl("analytics").HasResourceProperties(jsii.String("AWS::Athena::WorkGroup"), map[string]any{
				"Name":  s.Cfg.AthenaWorkgroupName,
				"State": "ENABLED",
				"WorkGroupConfiguration": map[string]any{
					"EnforceWorkGroupConfiguration":   true,
					"PublishCloudWatchMetricsEnabled": true,
					"RequesterPaysEnabled":            false,
					"BytesScannedCutoffPerQuery":      float64(s.Cfg.AthenaBytesScannedCutoffMB) * 1024 * 1024,
					"EngineVersion":                   map[string]any{"SelectedEngineVersion": "Athena engine version 3"},
					"ResultConfiguration": map[string]any{
						"EncryptionConfiguration": map[string]any{
							"EncryptionOption": "SSE_KMS",
							"KmsKey":           map[string]any{"Fn::ImportValue": assertions.Match_StringLikeRegexp(jsii.String(".*storage:ExportsOutput.*LakeKey.*Arn.*"))},
						},
					},
				},
			})
		})
		for _, wg := range resources(s.json("analytics"), "AWS::Athena::WorkGroup") {
			loc := asJSON(props(wg)["WorkGroupConfiguration"].(map[string]any)["ResultConfiguration"].(map[string]any)["OutputLocation"])
			if !strings.Contains(loc, "AthenaResultsBucket") || !strings.Contains(loc, `/results/`) {
				t.Errorf("%s: results location %s is not the storage stack's results bucket under results/", s.Cfg.Name, loc)
			}
		}
	}
	if got := dev.Cfg.AthenaBytesScannedCutoffMB; got != config.DefaultAthenaCutoffMB {
		t.Errorf("dev cutoff = %d MB, want the default %d", got, config.DefaultAthenaCutoffMB)
	}
}

func TestAnalyticsNamesFromConfig(t *testing.T) {
	want := map[string][3]string{
		"dev":  {"data-pipeline-dev-workgroup", "data_pipeline_dev_athena", "data_pipeline_dev_catalog"},
		"prod": {"data-pipeline-prod-workgroup", "data_pipeline_prod_athena", "data_pipeline_prod_catalog"},
	}
	for _, s := range []*scenario{dev, prod} {
		w := want[s.Cfg.Name]
		tpl := s.json("analytics")
		var wgs, dbs []string
		for _, r := range resources(tpl, "AWS::Athena::WorkGroup") {
			wgs = append(wgs, props(r)["Name"].(string))
		}
		for _, r := range resources(tpl, "AWS::Glue::Database") {
			dbs = append(dbs, props(r)["DatabaseInput"].(map[string]any)["Name"].(string))
		}
		if asJSON(wgs) != asJSON([]string{w[0]}) || asJSON(dbs) != asJSON([]string{w[1]}) {
			t.Errorf("%s: workgroups %v, databases %v; want [%s] and [%s]", s.Cfg.Name, wgs, dbs, w[0], w[1])
		}
		outputs := tpl["Outputs"].(map[string]any)
		out := func(id string) string { return asJSON(outputs[id].(map[string]any)["Value"]) }
		if got := out("WorkGroupName"); !strings.Contains(got, `"Ref":"WorkGroup"`) {
			t.Errorf("%s: WorkGroupName output = %s", s.Cfg.Name, got)
		}
		if got := out("AthenaDatabaseName"); got != `"`+w[1]+`"` {
			t.Errorf("%s: AthenaDatabaseName output = %s, want %s", s.Cfg.Name, got, w[1])
		}
		if got := out("CatalogDatabaseName"); got != `"`+w[2]+`"` {
			t.Errorf("%s: CatalogDatabaseName output = %s, want %s", s.Cfg.Name, got, w[2])
		}
	}
}

// glueTables returns the Glue tables of a template by table name.
func glueTables(tpl map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, r := range resources(tpl, "AWS::Glue::Table") {
		in := props(r)["TableInput"].(map[string]any)
		out[in["Name"].(string)] = props(r)
	}
	return out
}

// The Athena database holds each dataset's quarantine table, partitioned
// by run day with projection. The curated tables are Apache Iceberg tables
// of the catalog database (TestRuleIcebergTablesAreCreatedOnce): one
// catalog entry per table, so none of them is declared here.
func TestAnalystTablesWithProjection(t *testing.T) {
	type want struct {
		cols          []dataset.TableColumn
		bucket, where string
		serde         string
	}
	cfg := dev.Cfg
	wants := map[string]want{}
	for _, d := range cfg.Datasets {
		wants[queries.QuarantineTable(d)] = want{queries.QuarantineColumns(d), "ProcessedBucket", "/_quarantine/" + d.Name + "/", "org.openx.data.jsonserde.JsonSerDe"}
	}
	tables := glueTables(dev.json("analytics"))
	if len(tables) != len(wants) {
		t.Errorf("analytics has %d Glue tables, want %d (one quarantine table per dataset)", len(tables), len(wants))
	}
	if n := len(resources(dev.json("analytics"), icebergtable.ResourceType)); n != 0 {
		t.Errorf("analytics declares %d Iceberg tables: the curated tables belong to the catalog database only", n)
	}
	for name, w := range wants {
		p, ok := tables[name]
		if !ok {
			t.Errorf("no table %s in the Athena database", name)
			continue
		}
		if db := asJSON(p["DatabaseName"]); !strings.Contains(db, "AthenaDatabase") {
			t.Errorf("%s: database %s, want the Athena database", name, db)
		}
		in := p["TableInput"].(map[string]any)
		params := in["Parameters"].(map[string]any)
		for k, v := range map[string]string{
			"projection.enabled": "true", "projection.dt.type": "date", "projection.dt.format": "yyyy-MM-dd",
			"projection.dt.range": stacks.ProjectionStart + ",NOW", "projection.dt.interval": "1",
			"projection.dt.interval.unit": "DAYS", "has_encrypted_data": "true",
		} {
			if fmt.Sprint(params[k]) != v {
				t.Errorf("%s: parameter %s = %v, want %s", name, k, params[k], v)
			}
		}
		sd := in["StorageDescriptor"].(map[string]any)
		loc, tmpl := asJSON(sd["Location"]), asJSON(params["storage.location.template"])
		if !strings.Contains(loc, w.bucket) || !strings.HasSuffix(loc, w.where+`"]]}`) {
			t.Errorf("%s: location %s, want the %s under %s", name, loc, w.bucket, w.where)
		}
		if !strings.Contains(tmpl, w.bucket) || !strings.HasSuffix(tmpl, w.where+`dt=${dt}/"]]}`) {
			t.Errorf("%s: storage.location.template %s, want %s%sdt=${dt}/", name, tmpl, w.bucket, w.where)
		}
		if serde := asJSON(sd["SerdeInfo"]); !strings.Contains(serde, w.serde) {
			t.Errorf("%s: serde %s, want %s", name, serde, w.serde)
		}
		var got, exp []string
		for _, c := range sd["Columns"].([]any) {
			m := c.(map[string]any)
			got = append(got, m["Name"].(string)+" "+m["Type"].(string))
		}
		for _, c := range w.cols {
			exp = append(exp, c.Name+" "+c.Type)
		}
		if asJSON(got) != asJSON(exp) {
			t.Errorf("%s: columns %v, want %v", name, got, exp)
		}
		if pk := asJSON(in["PartitionKeys"]); pk != `[{"Name":"dt","Type":"string"}]` {
			t.Errorf("%s: partition keys %s, want dt string", name, pk)
		}
	}
	// Quarantine is gzip JSON lines; every declared column is readable.
	q := tables["orders_quarantine"]["TableInput"].(map[string]any)["StorageDescriptor"].(map[string]any)
	if q["Compressed"] != true {
		t.Errorf("quarantine table not marked compressed")
	}
}

// namedQueries returns the named queries of a template by name.
func namedQueries(tpl map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, r := range resources(tpl, "AWS::Athena::NamedQuery") {
		out[props(r)["Name"].(string)] = props(r)
	}
	return out
}

func TestNamedQueriesPerDatasetAndJoin(t *testing.T) {
	for _, s := range []*scenario{dev, prod} {
		got := namedQueries(s.json("analytics"))
		rendered, err := queries.Render(s.Cfg.Datasets, s.Cfg.Joins, s.Cfg.DataCatalogDatabaseName)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, d := range s.Cfg.Datasets {
			top := "top values"
			if len(d.GroupBy) == 0 {
				top = "top keys"
			}
			for _, n := range []string{"daily volume", "latest partition", top, "quarantine by reason",
				"table history", "rows now and a day ago", "compact now", "expire snapshots now"} {
				want = append(want, d.Name+": "+n)
			}
		}
		for _, j := range s.Cfg.Joins {
			want = append(want, j.Name+": sample")
		}
		var names []string
		for n := range got {
			names = append(names, n)
		}
		sort.Strings(names)
		sort.Strings(want)
		if asJSON(names) != asJSON(want) {
			t.Errorf("%s: named queries %v, want %v", s.Cfg.Name, names, want)
		}
		for _, q := range rendered {
			p, ok := got[q.Name]
			if !ok {
				continue
			}
			if p["Database"] != s.Cfg.AthenaDatabaseName || asJSON(p["WorkGroup"]) != `{"Ref":"WorkGroup"}` {
				t.Errorf("%s: %s runs in %v / %v, want the Athena database in the workgroup", s.Cfg.Name, q.Name, p["Database"], p["WorkGroup"])
			}
			if p["QueryString"] != q.SQL || p["Description"] != q.Description {
				t.Errorf("%s: %s is not queries/%s.sql rendered", s.Cfg.Name, q.Name, q.Template)
			}
		}
	}
	// The first query keeps its construct id of the earlier inline version.
	if _, ok := dev.json("analytics")["Resources"].(map[string]any)["DailyVolumeclickstream"]; !ok {
		t.Errorf("named query DailyVolume-clickstream changed its logical id")
	}
}

func TestQuickSightAndSpectrumOffByDefault(t *testing.T) {
	for _, s := range []*scenario{dev, prod} {
		tpl := s.json("analytics")
		for _, typ := range []string{"AWS::QuickSight::DataSource", "AWS::QuickSight::DataSet", "AWS::IAM::Role"} {
			if n := len(resources(tpl, typ)); n != 0 {
				t.Errorf("%s: %d %s while QuickSight and Redshift are off", s.Cfg.Name, n, typ)
			}
		}
		if _, ok := tpl["Outputs"].(map[string]any)["SpectrumExternalSchema"]; ok {
			t.Errorf("%s: Spectrum output while Redshift is off", s.Cfg.Name)
		}
	}
	// Synth says QuickSight is off and how to turn it on.
	st := dev.Lake.Analytics.Stack
	var infos []string
	for _, m := range *dev.App.Synth(nil).GetStackArtifact(st.ArtifactId()).Messages() {
		if m.Level == cxapi.SynthesisMessageLevel_INFO {
			infos = append(infos, fmt.Sprint(m.Entry.Data))
		}
	}
	if !slices.ContainsFunc(infos, func(s string) bool {
		return strings.Contains(s, "QuickSight is off") && strings.Contains(s, "quicksight.principal_arn")
	}) {
		t.Errorf("no info note that QuickSight is off; infos: %v", infos)
	}
}

// principals collects the values of every "Principal" key under v.
func principals(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if k == "Principal" {
				out = append(out, asJSON(e))
			} else {
				out = append(out, principals(e)...)
			}
		}
	case []any:
		for _, e := range x {
			out = append(out, principals(e)...)
		}
	}
	return out
}

// policyOf returns the statements of the inline policies attached to the
// role with the given logical id prefix.
func policyOf(tpl map[string]any, rolePrefix string) string {
	var out []any
	for _, p := range resources(tpl, "AWS::IAM::Policy") {
		if strings.Contains(asJSON(props(p)["Roles"]), `"Ref":"`+rolePrefix) {
			out = append(out, props(p)["PolicyDocument"].(map[string]any)["Statement"])
		}
	}
	return asJSON(out)
}

func TestQuickSightWhenEnabled(t *testing.T) {
	s := withBI()
	tpl := s.json("analytics")
	sources := resources(tpl, "AWS::QuickSight::DataSource")
	if len(sources) != 1 {
		t.Fatalf("%d QuickSight data sources, want 1", len(sources))
	}
	check(t, "data source", func() {
		s.tpl("analytics").HasResourceProperties(jsii.String("AWS::QuickSight::DataSource"), map[string]any{
			"Type": "ATHENA",
			"DataSourceParameters": map[string]any{"AthenaParameters": map[string]any{
				"WorkGroup": map[string]any{"Ref": "WorkGroup"},
				"RoleArn":   map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("QuickSightAthenaRole.*")), "Arn"}},
			}},
		})
	})
	var tables []string
	for _, d := range resources(tpl, "AWS::QuickSight::DataSet") {
		p := props(d)
		if p["ImportMode"] != "DIRECT_QUERY" {
			t.Errorf("dataset %v: import mode %v, want DIRECT_QUERY", p["Name"], p["ImportMode"])
		}
		for _, pt := range p["PhysicalTableMap"].(map[string]any) {
			rt := pt.(map[string]any)["RelationalTable"].(map[string]any)
			// The curated Iceberg tables are in the catalog database.
			if rt["Schema"] != s.Cfg.DataCatalogDatabaseName || rt["Catalog"] != "AwsDataCatalog" || !strings.Contains(asJSON(rt["DataSourceArn"]), "QuickSightDataSource") {
				t.Errorf("dataset %v reads %v.%v.%v through %v", p["Name"], rt["Catalog"], rt["Schema"], rt["Name"], rt["DataSourceArn"])
			}
			tables = append(tables, rt["Name"].(string))
		}
	}
	sort.Strings(tables)
	want := slices.Clone(s.Lake.Analytics.CuratedTables)
	sort.Strings(want)
	if asJSON(tables) != asJSON(want) || len(want) != len(s.Cfg.Datasets)+len(s.Cfg.Joins) {
		t.Errorf("QuickSight datasets over %v, want one per curated table %v", tables, want)
	}
	// Every permission of every QuickSight resource names the configured
	// principal and nobody else.
	for _, typ := range []string{"AWS::QuickSight::DataSource", "AWS::QuickSight::DataSet"} {
		for id, r := range resources(tpl, typ) {
			ps := principals(props(r)["Permissions"])
			if len(ps) == 0 {
				t.Errorf("%s has no permissions", id)
			}
			for _, p := range ps {
				if p != `"`+qsPrincipal+`"` {
					t.Errorf("%s grants %s, want only %s", id, p, qsPrincipal)
				}
			}
		}
	}
	// The role QuickSight queries with: trusted by QuickSight only, Athena on
	// this workgroup, read on the curated tables and the key, results.
	roles := resources(tpl, "AWS::IAM::Role")
	var trust string
	for id, r := range roles {
		if strings.HasPrefix(id, "QuickSightAthenaRole") {
			trust = asJSON(props(r)["AssumeRolePolicyDocument"])
		}
	}
	if trust == "" || !strings.Contains(trust, `"Service":"quicksight.amazonaws.com"`) || strings.Count(trust, `"Service"`) != 1 {
		t.Errorf("QuickSight role trust = %s", trust)
	}
	pol := policyOf(tpl, "QuickSightAthenaRole")
	for _, wantStr := range []string{
		`"athena:StartQueryExecution"`, `:workgroup/` + s.Cfg.AthenaWorkgroupName + `"`,
		`"glue:GetTable"`, `"s3:GetObject*"`, `"kms:Decrypt"`, `"s3:PutObject"`, `/results/*"`,
		`CuratedBucket`, `AthenaResultsBucket`, `/clickstream_daily/*"`, `/customer_activity/*"`,
	} {
		if !strings.Contains(pol, wantStr) {
			t.Errorf("QuickSight role policy lacks %s: %s", wantStr, pol)
		}
	}
	for _, name := range s.Lake.Analytics.CuratedTables {
		if !strings.Contains(pol, `:table/`+s.Cfg.DataCatalogDatabaseName+`/`+name+`"`) || !strings.Contains(pol, `/`+name+`/*"`) {
			t.Errorf("QuickSight role cannot read the definition and files of curated table %s: %s", name, pol)
		}
	}
	if strings.Contains(pol, "ProcessedBucket") || strings.Contains(pol, "RawBucket") {
		t.Errorf("QuickSight role reaches beyond the curated zone: %s", pol)
	}
	for stack, msgs := range s.errors {
		for _, m := range msgs {
			t.Errorf("%s: %s", stack, m)
		}
	}
}

func TestSpectrumRoleWhenEnabled(t *testing.T) {
	s := withBI()
	tpl := s.json("analytics")
	var services []string
	for id, r := range resources(tpl, "AWS::IAM::Role") {
		if !strings.HasPrefix(id, "SpectrumRole") {
			continue
		}
		for _, st := range props(r)["AssumeRolePolicyDocument"].(map[string]any)["Statement"].([]any) {
			m := st.(map[string]any)
			if cond := asJSON(m["Condition"]); cond != `{"StringEquals":{"aws:SourceAccount":{"Ref":"AWS::AccountId"}}}` {
				t.Errorf("Spectrum trust statement not scoped to this account: %s", asJSON(m))
			}
			switch svc := m["Principal"].(map[string]any)["Service"].(type) {
			case string:
				services = append(services, svc)
			case []any:
				for _, x := range svc {
					services = append(services, x.(string))
				}
			}
		}
	}
	sort.Strings(services)
	if asJSON(services) != `["redshift-serverless.amazonaws.com","redshift.amazonaws.com"]` {
		t.Errorf("Spectrum role trusts %v, want redshift and (serverless) redshift-serverless", services)
	}
	pol := policyOf(tpl, "SpectrumRole")
	for _, wantStr := range []string{
		`"glue:GetTable"`, `"glue:GetDatabase"`, `:table/` + s.Cfg.DataCatalogDatabaseName + `/orders_daily"`,
		`:table/` + s.Cfg.DataCatalogDatabaseName + `/customer_activity"`, `:database/` + s.Cfg.DataCatalogDatabaseName + `"`, `:catalog"`,
		`"s3:GetObject*"`, `CuratedBucket`, `"kms:Decrypt"`,
	} {
		if !strings.Contains(pol, wantStr) {
			t.Errorf("Spectrum role policy lacks %s: %s", wantStr, pol)
		}
	}
	for _, never := range []string{"ProcessedBucket", "RawBucket", `"s3:PutObject"`, `:table/` + s.Cfg.DataCatalogDatabaseName + `/*`,
		`:database/` + s.Cfg.AthenaDatabaseName + `"`} {
		if strings.Contains(pol, never) {
			t.Errorf("Spectrum role policy has %s: %s", never, pol)
		}
	}
	out := asJSON(tpl["Outputs"].(map[string]any)["SpectrumExternalSchema"])
	// The external schema maps the catalog database, where the curated
	// Iceberg tables are (Redshift reads Iceberg tables of the Glue Data
	// Catalog through an external schema).
	if !strings.Contains(out, "CREATE EXTERNAL SCHEMA IF NOT EXISTS "+s.Cfg.DataCatalogDatabaseName+" FROM DATA CATALOG DATABASE '"+s.Cfg.DataCatalogDatabaseName+"' IAM_ROLE '") ||
		!strings.Contains(out, "SpectrumRole") {
		t.Errorf("SpectrumExternalSchema output = %s", out)
	}
	if a := asJSON(tpl["Outputs"].(map[string]any)["SpectrumAssociateRole"]); !strings.Contains(a, "--namespace-name lake") {
		t.Errorf("SpectrumAssociateRole output = %s", a)
	}
}

// ---- the SQL column check ----

// lakeTables maps each table a named query may name to its columns: the
// Athena database's tables unqualified and qualified, the catalog's
// qualified. Every table is partitioned by dt.
func lakeTables(specs []dataset.Spec, joins []dataset.Join, athenaDB, catalogDB string) (map[string]map[string]bool, error) {
	out := map[string]map[string]bool{}
	add := func(db, name string, cols []dataset.TableColumn, unqualified bool) {
		m := map[string]bool{"dt": true}
		for _, c := range cols {
			m[c.Name] = true
		}
		out[db+"."+name] = m
		if unqualified {
			out[name] = m
		}
	}
	for _, d := range specs {
		add(catalogDB, d.Name+"_raw", dataset.RawColumns(d), false)
		add(catalogDB, d.Name, dataset.ProcessedColumns(d), false)
		// Iceberg's metadata table of the processed table (Athena: "<table>$snapshots").
		add(catalogDB, d.Name+"$snapshots", []dataset.TableColumn{{Name: "committed_at"}, {Name: "snapshot_id"},
			{Name: "parent_id"}, {Name: "operation"}, {Name: "manifest_list"}, {Name: "summary"}}, false)
		add(catalogDB, dataset.DailyTable(d), dataset.DailyColumns(d), false)
		add(athenaDB, queries.QuarantineTable(d), queries.QuarantineColumns(d), true)
	}
	for _, j := range joins {
		cols, err := dataset.JoinColumns(j, specs)
		if err != nil {
			return nil, err
		}
		add(catalogDB, j.Name, cols, false)
	}
	return out, nil
}

type sqlToken struct {
	kind byte // 'w' word, 'q' quoted identifier, 's' string, 'n' number, 'p' punctuation
	text string
}

func tokenize(sql string) []sqlToken {
	var out []sqlToken
	isWord := func(c byte) bool {
		return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == ' ' || c == '\n' || c == '\t' || c == '\r':
			i++
		case strings.HasPrefix(sql[i:], "--"):
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(sql) && (sql[j] != c || j+1 < len(sql) && sql[j+1] == c) {
				if sql[j] == c {
					j++ // doubled quote
				}
				j++
			}
			kind := byte('s')
			if c == '"' {
				kind = 'q'
			}
			out = append(out, sqlToken{kind, strings.ToLower(sql[i+1 : min(j, len(sql))])})
			i = j + 1
		case c >= '0' && c <= '9':
			j := i
			for j < len(sql) && (isWord(sql[j]) || sql[j] == '.') {
				j++
			}
			out = append(out, sqlToken{'n', sql[i:j]})
			i = j
		case isWord(c):
			j := i
			for j < len(sql) && isWord(sql[j]) {
				j++
			}
			out = append(out, sqlToken{'w', strings.ToLower(sql[i:j])})
			i = j
		default:
			out = append(out, sqlToken{'p', string(c)})
			i++
		}
	}
	return out
}

// sqlKeywords are words that are never columns in our queries (SQL
// keywords, interval units, niladic functions).
var sqlKeywords = map[string]bool{}

func init() {
	for _, k := range strings.Fields(`select from where group by order asc desc limit offset as and or not in is null
		join cross inner left right full outer on using union all distinct having case when then else end between like
		interval year month week day hour minute second current_date current_timestamp current_time localtimestamp
		true false with over partition rows range unbounded preceding following nulls first last filter exists
		unnest lateral values escape for timestamp version of`) {
		sqlKeywords[k] = true
	}
}

// checkMaintenance checks OPTIMIZE <db.table> REWRITE DATA USING BIN_PACK
// and VACUUM <db.table> (Athena, "Optimizing Iceberg tables"): the table is
// declared and nothing follows but those words.
func checkMaintenance(toks []sqlToken, tables map[string]map[string]bool) []string {
	var name string
	i := 1
	for ; i < len(toks); i++ {
		if toks[i].kind == 'p' && toks[i].text == "." {
			name += "."
			continue
		}
		if toks[i].kind != 'w' && toks[i].kind != 'q' {
			break
		}
		if name != "" && !strings.HasSuffix(name, ".") {
			break
		}
		name += toks[i].text
	}
	var problems []string
	if _, ok := tables[name]; !ok {
		problems = append(problems, "table "+name+" is not a declared table")
	}
	var rest []string
	for ; i < len(toks); i++ {
		rest = append(rest, toks[i].text)
	}
	want := map[string]string{"optimize": "rewrite data using bin_pack", "vacuum": ""}[toks[0].text]
	if strings.Join(rest, " ") != want {
		problems = append(problems, fmt.Sprintf("%s %s is followed by %q, want %q", strings.ToUpper(toks[0].text), name, strings.Join(rest, " "), want))
	}
	return problems
}

// checkQuery parses one query: identifiers after FROM/JOIN are tables
// (optionally db-qualified, optionally aliased), every other identifier
// that is not a keyword, a function (followed by "("), an alias (after AS,
// including `AS t(a, b)`) or a literal must be a column of one of the
// tables the query names (or of the table its qualifier names). It fails
// closed on what it cannot check (subqueries in FROM).
func checkQuery(sql string, tables map[string]map[string]bool) []string {
	toks := tokenize(sql)
	// Athena's Iceberg maintenance statements: OPTIMIZE <table> REWRITE DATA
	// USING BIN_PACK and VACUUM <table>, on a declared table.
	if len(toks) > 0 && toks[0].kind == 'w' && (toks[0].text == "optimize" || toks[0].text == "vacuum") {
		return checkMaintenance(toks, tables)
	}
	var problems []string
	used := map[int]bool{}            // token positions that are table names or aliases
	aliases := map[string]bool{}      // column and table aliases
	qualifiers := map[string]string{} // alias or table name -> table
	var named []string
	word := func(i int) bool { return i < len(toks) && (toks[i].kind == 'w' || toks[i].kind == 'q') }
	punct := func(i int, p string) bool { return i < len(toks) && toks[i].kind == 'p' && toks[i].text == p }
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind == 'w' && t.text == "as" && word(i+1) {
			aliases[toks[i+1].text] = true
			used[i+1] = true
			if punct(i+2, "(") { // AS t(col, ...)
				for j := i + 3; j < len(toks) && !punct(j, ")"); j++ {
					if word(j) {
						aliases[toks[j].text] = true
						used[j] = true
					}
				}
			}
		}
		if t.kind != 'w' || (t.text != "from" && t.text != "join") {
			continue
		}
		j := i + 1
		if word(j) && toks[j].text == "unnest" {
			continue // a table function: its alias is handled by AS
		}
		if punct(j, "(") {
			problems = append(problems, "subquery after "+strings.ToUpper(t.text)+": the check cannot verify it")
			continue
		}
		if !word(j) {
			continue
		}
		name := toks[j].text
		used[j] = true
		for punct(j+1, ".") && word(j+2) {
			name += "." + toks[j+2].text
			used[j+2] = true
			j += 2
		}
		if _, ok := tables[name]; !ok {
			problems = append(problems, "table "+name+" is not a declared table")
		}
		named = append(named, name)
		qualifiers[name] = name
		if parts := strings.Split(name, "."); len(parts) == 2 {
			qualifiers[parts[1]] = name
		}
		// Optional alias: AS x, or a bare word that is not a keyword.
		k := j + 1
		if word(k) && toks[k].text == "as" {
			k++
		}
		if word(k) && !sqlKeywords[toks[k].text] {
			qualifiers[toks[k].text] = name
			used[k] = true
		}
	}
	inTables := func(col string, names ...string) bool {
		for _, n := range names {
			if tables[n][col] {
				return true
			}
		}
		return false
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if !word(i) || used[i] || (t.kind == 'w' && sqlKeywords[t.text]) || punct(i+1, "(") {
			continue
		}
		if punct(i+1, ".") && word(i+2) { // qualifier.column
			tbl, ok := qualifiers[t.text]
			col := toks[i+2].text
			switch {
			case !ok:
				problems = append(problems, fmt.Sprintf("%s.%s: %s is not a table or alias of the query", t.text, col, t.text))
			case !inTables(col, tbl):
				problems = append(problems, fmt.Sprintf("column %s is not in %s", col, tbl))
			}
			i += 2
			continue
		}
		if aliases[t.text] {
			continue
		}
		if !inTables(t.text, named...) {
			problems = append(problems, fmt.Sprintf("column %s is not in %s", t.text, strings.Join(named, ", ")))
		}
	}
	return problems
}

// checkQueries runs checkQuery on each named query of a template against
// the tables of the given declarations.
func checkQueries(t *testing.T, tpl map[string]any, tables map[string]map[string]bool) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for name, p := range namedQueries(tpl) {
		if probs := checkQuery(p["QueryString"].(string), tables); len(probs) > 0 {
			out[name] = probs
		}
	}
	return out
}

func TestNamedQueriesNameOnlyDeclaredTablesAndColumns(t *testing.T) {
	for _, s := range []*scenario{dev, prod} {
		tables, err := lakeTables(s.Cfg.Datasets, s.Cfg.Joins, s.Cfg.AthenaDatabaseName, s.Cfg.DataCatalogDatabaseName)
		if err != nil {
			t.Fatal(err)
		}
		for name, probs := range checkQueries(t, s.json("analytics"), tables) {
			t.Errorf("%s: %s: %s", s.Cfg.Name, name, strings.Join(probs, "; "))
		}
	}
	// A dataset without group_by gets the top-keys variant (processed table,
	// key and event-time columns): check that branch of the template too.
	specs := slices.Clone(dev.Cfg.Datasets)
	for i := range specs {
		specs[i].GroupBy = nil
	}
	tables, _ := lakeTables(specs, dev.Cfg.Joins, dev.Cfg.AthenaDatabaseName, dev.Cfg.DataCatalogDatabaseName)
	qs, err := queries.Render(specs, dev.Cfg.Joins, dev.Cfg.DataCatalogDatabaseName)
	if err != nil {
		t.Fatal(err)
	}
	variants := 0
	for _, q := range qs {
		if strings.HasSuffix(q.Name, ": top keys") {
			variants++
		}
		if probs := checkQuery(q.SQL, tables); len(probs) > 0 {
			t.Errorf("without group_by, %s: %v", q.Name, probs)
		}
	}
	if variants != len(specs) {
		t.Errorf("%d top-keys queries without group_by, want %d", variants, len(specs))
	}
}

// TestColumnCheckCatchesARename proves the check above: in a copy of the
// declarations, orders.status is renamed (column and group_by) and
// orders.amount becomes total. The deployed queries (rendered from
// cdk.json) then name columns the renamed tables no longer have.
func TestColumnCheckCatchesARename(t *testing.T) {
	cfg := dev.Cfg
	b, _ := json.Marshal(cfg.Datasets)
	var renamed []dataset.Spec
	if err := json.Unmarshal(b, &renamed); err != nil {
		t.Fatal(err)
	}
	for i := range renamed {
		if renamed[i].Name != "orders" {
			continue
		}
		for k := range renamed[i].Columns {
			switch renamed[i].Columns[k].Name {
			case "status":
				renamed[i].Columns[k].Name = "order_status"
			case "amount":
				renamed[i].Columns[k].Name = "total"
			}
		}
		renamed[i].GroupBy = []string{"order_status"}
		if p := renamed[i].Problems("renamed"); len(p) > 0 {
			t.Fatalf("the renamed declaration is invalid: %v", p)
		}
	}
	tables, err := lakeTables(renamed, cfg.Joins, cfg.AthenaDatabaseName, cfg.DataCatalogDatabaseName)
	if err != nil {
		t.Fatal(err)
	}
	got := checkQueries(t, dev.json("analytics"), tables)
	for name, want := range map[string]string{
		"orders: top values":        "column status is not in " + cfg.DataCatalogDatabaseName + ".orders_daily",
		"customer_activity: sample": "column orders_sum_amount is not in " + cfg.DataCatalogDatabaseName + ".customer_activity",
	} {
		if !slices.Contains(got[name], want) {
			t.Errorf("%s: want problem %q, got %v", name, want, got[name])
		}
	}
	// Queries re-rendered from the renamed declarations follow the rename.
	qs, err := queries.Render(renamed, cfg.Joins, cfg.DataCatalogDatabaseName)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		if probs := checkQuery(q.SQL, tables); len(probs) > 0 {
			t.Errorf("re-rendered %s: %v", q.Name, probs)
		}
	}
	// And the checker rejects what it cannot see into, and unknown tables.
	for sql, want := range map[string]string{
		"SELECT x FROM (SELECT 1 AS x)":                                     "subquery after FROM",
		"SELECT record_count FROM orders_weekly":                            "table orders_weekly is not a declared table",
		"SELECT o.nope FROM orders_daily o":                                 "column nope is not in orders_daily",
		"SELECT dt FROM data_pipeline_dev_catalog.orders WHERE _is_deleted": "",
	} {
		probs := checkQuery(sql, tables)
		if want == "" && len(probs) > 0 || want != "" && !slices.ContainsFunc(probs, func(p string) bool { return strings.Contains(p, want) }) {
			t.Errorf("checkQuery(%q) = %v, want %q", sql, probs, want)
		}
	}
}
