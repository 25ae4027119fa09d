package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/config"
	"github.com/example/datalake/constructs/compliance"
)

// days turns a validated day count from config into a Duration.
func days(n *int) awscdk.Duration {
	return awscdk.Duration_Days(jsii.Number(float64(config.Int(n))))
}

// retentionByDays maps each retention config accepts (config.LogRetentionValues)
// onto the CDK enum, whose Go values are names, not day counts.
var retentionByDays = map[int]awslogs.RetentionDays{
	1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS, 5: awslogs.RetentionDays_FIVE_DAYS,
	7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
	60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS, 120: awslogs.RetentionDays_FOUR_MONTHS,
	150: awslogs.RetentionDays_FIVE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
	400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS, 731: awslogs.RetentionDays_TWO_YEARS,
	1096: awslogs.RetentionDays_THREE_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
	2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS, 3288: awslogs.RetentionDays_NINE_YEARS,
	3653: awslogs.RetentionDays_TEN_YEARS,
}

// retention returns the CDK value of a validated day count.
func retention(d int) awslogs.RetentionDays {
	r, ok := retentionByDays[d]
	if !ok {
		panic("stacks: log retention not validated by config")
	}
	return r
}

// output adds a stack output a user needs after deploy.
func output(stack awscdk.Stack, id string, value *string, description string) awscdk.CfnOutput {
	return awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{
		Value:       value,
		Description: jsii.String(description),
	})
}

// removalPolicy is the policy of every stateful resource: RETAIN unless the
// environment's destroy opt-in is complete (see Destroyable).
func removalPolicy(destroy bool) awscdk.RemovalPolicy { return compliance.Removal(destroy) }
