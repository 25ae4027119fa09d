package constructtest_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/catalog"
	"github.com/example/datalake/constructs/constructtest"
	"github.com/example/datalake/dataset"
)

var catalogCols = []dataset.TableColumn{{Name: "order_id", Type: "string"}, {Name: "amount", Type: "double"}, {Name: "meta", Type: "struct<a:int>"}}

// catalogBuilt is what the catalog tests read.
type catalogBuilt struct {
	tpl       map[string]any
	nagErrors []string
	misuse    []string
}

// catalogFixture synthesizes the catalog stack once, on first use.
var catalogFixture = sync.OnceValue(func() (b catalogBuilt) {
	stack := constructtest.NewStack("Catalog")
	bucket := awss3.NewBucket(stack, jsii.String("Data"), &awss3.BucketProps{EnforceSSL: jsii.Bool(true)})
	db := catalog.NewDatabase(stack, "Db", catalog.DatabaseProps{Name: "t_lake", Description: "test"})
	catalog.NewDatabase(stack, "Scratch", catalog.DatabaseProps{Name: "t_scratch", Destroy: true})
	catalog.NewTable(stack, "Orders", catalog.TableProps{Database: db, Name: "orders_daily", Columns: catalogCols, Bucket: bucket, Prefix: "orders_daily/", Format: awsglue.DataFormat_PARQUET()})
	catalog.NewTable(stack, "Late", catalog.TableProps{Database: db, Name: "late", Columns: catalogCols[:1], Bucket: bucket, Prefix: "q/late/", Format: awsglue.DataFormat_JSON(), Compressed: true, ProjectionStart: "2024-06-01"})
	key := awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	sec := awsglue.NewSecurityConfiguration(stack, jsii.String("Sec"), &awsglue.SecurityConfigurationProps{
		SecurityConfigurationName: jsii.String("t-glue"), CloudWatchEncryption: awsglue.CloudWatchEncryption_Kms(key),
		JobBookmarksEncryption: awsglue.JobBookmarksEncryption_ClientSideKms(key), S3Encryption: awsglue.S3Encryption_Kms(key)})
	catalog.NewCrawler(stack, "Uploads", catalog.CrawlerProps{Name: "t-uploads", Database: db, TablePrefix: "landing_", Bucket: bucket,
		Prefix: "landing/", Schedule: "cron(0 1 * * ? *)", SecurityConfiguration: sec})
	reader := awsiam.NewRole(stack, jsii.String("Reader"), &awsiam.RoleProps{AssumedBy: awsiam.NewAccountRootPrincipal()})
	catalog.GrantRead(reader, "t_lake", "orders_daily", "late")
	for _, bad := range []catalog.TableProps{
		{Database: db, Name: "noslash", Columns: catalogCols, Bucket: bucket, Prefix: "x", Format: awsglue.DataFormat_JSON()},
		{Database: db, Name: "dtcol", Columns: []dataset.TableColumn{{Name: "dt", Type: "string"}}, Bucket: bucket, Prefix: "x/", Format: awsglue.DataFormat_JSON()},
	} {
		func() {
			defer func() { b.misuse = append(b.misuse, fmt.Sprint(recover())) }()
			catalog.NewTable(stack, "Bad"+bad.Name, bad)
		}()
	}
	b.tpl, b.nagErrors = constructtest.Synth(stack, "/Data/", "/Reader/", "/Key/", "/Sec/")
	return b
})

func catalogTable(t *testing.T, name string) map[string]any {
	t.Helper()
	for _, tb := range constructtest.OfType(catalogFixture().tpl, "AWS::Glue::Table") {
		if ti := tb["TableInput"].(map[string]any); ti["Name"] == name {
			return ti
		}
	}
	t.Fatalf("no table %s", name)
	return nil
}

// Every table is partitioned by dt with projection from the start day to
// NOW, one day per partition, located at <prefix>dt=<day>/: a new day is
// queryable without a crawler. Its columns are the declared ones, in order.
func TestTablesProjectDays(t *testing.T) {
	for name, want := range map[string][2]string{"orders_daily": {catalog.DefaultProjectionStart, "orders_daily/"}, "late": {"2024-06-01", "q/late/"}} {
		ti := catalogTable(t, name)
		p := ti["Parameters"].(map[string]any)
		if p["projection.enabled"] != "true" || p["projection.dt.type"] != "date" || p["projection.dt.range"] != want[0]+",NOW" ||
			p["projection.dt.interval"] != "1" || p["projection.dt.interval.unit"] != "DAYS" || p["projection.dt.format"] != "yyyy-MM-dd" {
			t.Errorf("%s projection = %v", name, p)
		}
		if loc := constructtest.JSON(p["storage.location.template"]); !strings.Contains(loc, "/"+want[1]+"dt=${dt}/") {
			t.Errorf("%s location template = %s", name, loc)
		}
		if pk := constructtest.JSON(ti["PartitionKeys"]); pk != `[{"Name":"dt","Type":"string"}]` {
			t.Errorf("%s partition keys = %s", name, pk)
		}
	}
	got := catalogTable(t, "orders_daily")["StorageDescriptor"].(map[string]any)["Columns"].([]any)
	if len(got) != len(catalogCols) {
		t.Fatalf("columns = %v", got)
	}
	for i, c := range catalogCols {
		if g := got[i].(map[string]any); g["Name"] != c.Name || g["Type"] != c.Type {
			t.Errorf("column %d = %v, want %v", i, g, c)
		}
	}
	if sd := catalogTable(t, "late")["StorageDescriptor"].(map[string]any); sd["Compressed"] != true {
		t.Errorf("compressed table = %v", sd)
	}
}

// Databases are retained unless Destroy says otherwise.
func TestDatabasesRetainedByDefault(t *testing.T) {
	tpl := catalogFixture().tpl
	for id, r := range tpl["Resources"].(map[string]any) {
		r := r.(map[string]any)
		if r["Type"] != "AWS::Glue::Database" {
			continue
		}
		want := "Retain"
		if strings.HasPrefix(id, "Scratch") {
			want = "Delete"
		}
		if r["DeletionPolicy"] != want {
			t.Errorf("%s DeletionPolicy = %v, want %s", id, r["DeletionPolicy"], want)
		}
	}
}

// The read grant names the catalog, the database and each table (Glue
// checks all three), read actions only.
func TestGrantReadNamesCatalogDatabaseTables(t *testing.T) {
	tpl := catalogFixture().tpl
	var pol string
	for id, r := range tpl["Resources"].(map[string]any) {
		if strings.HasPrefix(id, "ReaderDefaultPolicy") {
			pol = constructtest.JSON(r)
		}
	}
	for _, want := range []string{":catalog\"", ":database/t_lake\"", ":table/t_lake/orders_daily\"", ":table/t_lake/late\"", "glue:GetPartitions"} {
		if !strings.Contains(pol, want) {
			t.Errorf("grant lacks %s: %s", want, pol)
		}
	}
	for _, write := range []string{"glue:UpdateTable", "glue:CreateTable", "glue:Delete", "glue:*"} {
		if strings.Contains(pol, write) {
			t.Errorf("read grant has %s", write)
		}
	}
}

// The crawler reads new folders of its prefix only, logs schema changes
// instead of applying them, writes tables with its prefix only, and runs
// under the security configuration.
func TestCrawlerIncrementalAndConfined(t *testing.T) {
	tpl := catalogFixture().tpl
	c := constructtest.OfType(tpl, "AWS::Glue::Crawler")
	if len(c) != 1 {
		t.Fatalf("crawlers = %v", c)
	}
	got := constructtest.JSON(c[0])
	for _, want := range []string{`"RecrawlBehavior":"CRAWL_NEW_FOLDERS_ONLY"`, `"DeleteBehavior":"LOG","UpdateBehavior":"LOG"`,
		`"TablePrefix":"landing_"`, `"CrawlerSecurityConfiguration":{"Ref":"Sec`, `"/landing/"`, `"ScheduleExpression":"cron(0 1 * * ? *)"`} {
		if !strings.Contains(got, want) {
			t.Errorf("crawler lacks %s: %s", want, got)
		}
	}
	pol := constructtest.JSON(constructtest.OfType(tpl, "AWS::IAM::Policy"))
	if !strings.Contains(pol, `/landing_*"`) || !strings.Contains(pol, "glue:CreateTable") || strings.Contains(pol, `table/t_lake/*"`) {
		t.Errorf("crawler may write other tables: %s", pol)
	}
}

func TestCatalogMisuseIsNamed(t *testing.T) {
	misuse := catalogFixture().misuse
	want := []string{`table "noslash" needs Database, Name, Columns, Bucket, Format and a Prefix ending in / (got "x")`, `table "dtcol" declares dt, its partition column`}
	for i, w := range want {
		if i >= len(misuse) || !strings.Contains(misuse[i], w) {
			t.Errorf("panic %d = %v, want %q", i, misuse, w)
		}
	}
}

func TestCatalogPassesCdkNag(t *testing.T) {
	for _, e := range catalogFixture().nagErrors {
		t.Error(e)
	}
}
