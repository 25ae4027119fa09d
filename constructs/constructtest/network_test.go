package constructtest_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/constructtest"
	"github.com/example/datalake/constructs/network"
)

// networkBuilt is what the network tests read.
type networkBuilt struct {
	plain, narrowed map[string]any
	nagErrors       []string
}

// networkFixture synthesizes the two network stacks once, on first use.
var networkFixture = sync.OnceValue(func() (b networkBuilt) {
	b.plain, b.nagErrors = networkBuild(network.Props{})
	b.narrowed, _ = networkBuild(network.Props{S3PrefixListID: "pl-68a54001", Cidr: "10.9.0.0/20"})
	return b
})

func networkBuild(p network.Props) (map[string]any, []string) {
	stack := constructtest.NewStack("Net")
	p.Key = awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	p.LogRetention, p.Name = awslogs.RetentionDays_ONE_WEEK, "t-dev"
	network.New(stack, p)
	return constructtest.Synth(stack)
}

// No route to the internet: no NAT, no internet gateway; the services the
// jobs call are endpoints; flow logs are on.
func TestIsolatedWithEndpointsAndFlowLogs(t *testing.T) {
	plain := networkFixture().plain
	for typ, want := range map[string]int{"AWS::EC2::NatGateway": 0, "AWS::EC2::InternetGateway": 0, "AWS::EC2::FlowLog": 1} {
		if got := len(constructtest.OfType(plain, typ)); got != want {
			t.Errorf("%d %s, want %d", got, typ, want)
		}
	}
	var services []string
	for _, e := range constructtest.OfType(plain, "AWS::EC2::VPCEndpoint") {
		services = append(services, fmt.Sprint(e["ServiceName"]))
	}
	for _, svc := range []string{".s3", ".glue", ".kms", ".logs", ".monitoring", ".sts"} {
		if !strings.Contains(strings.Join(services, " "), svc) {
			t.Errorf("no %s endpoint in %v", svc, services)
		}
	}
}

// The job group sends HTTPS to the VPC's endpoints and to S3, to the
// prefix list when one is given; never anything else outward.
func TestJobSecurityGroupEgress(t *testing.T) {
	plain, narrowed := networkFixture().plain, networkFixture().narrowed
	for name, c := range map[string]struct {
		tpl    map[string]any
		anyS3  bool
		prefix bool
	}{"default": {plain, true, false}, "prefix list": {narrowed, false, true}} {
		var sg map[string]any
		for _, g := range constructtest.OfType(c.tpl, "AWS::EC2::SecurityGroup") {
			if strings.Contains(fmt.Sprint(g["GroupDescription"]), "workers of t-dev") {
				sg = g
			}
		}
		if sg == nil {
			t.Fatalf("%s: no job security group", name)
		}
		// Rules naming a prefix list or a group are separate resources.
		egress := fmt.Sprint(sg["SecurityGroupEgress"], constructtest.OfType(c.tpl, "AWS::EC2::SecurityGroupEgress"))
		if strings.Contains(egress, "0.0.0.0/0") != c.anyS3 || strings.Contains(egress, "pl-68a54001") != c.prefix {
			t.Errorf("%s: egress %s", name, egress)
		}
		for _, e := range sg["SecurityGroupEgress"].([]any) {
			if r := e.(map[string]any); r["CidrIp"] != nil && (r["FromPort"] != 443.0 || r["ToPort"] != 443.0) {
				t.Errorf("%s: egress beyond HTTPS: %v", name, r)
			}
		}
	}
}

func TestNetworkPassesCdkNag(t *testing.T) {
	for _, e := range networkFixture().nagErrors {
		t.Error(e)
	}
}
