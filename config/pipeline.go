package config

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
)

// KeyPipeline is the context key of the pipeline settings. It is not
// "pipeline": that key is the `-c pipeline=true` switch.
const KeyPipeline = "delivery"

// Pipeline is the `delivery` block: where the pipeline lives, what it
// watches and which environments it deploys, in order.
type Pipeline struct {
	// Project names the pipeline stack: ${project}-pipeline. Required.
	Project string `json:"project"`
	// Account and Region of the pipeline (the tooling account). Required.
	Account string `json:"account"`
	Region  string `json:"region"`
	// ConnectionArn is the CodeConnections (CodeStar) connection to the
	// repository host. Required.
	ConnectionArn string `json:"connection_arn"`
	// Repository is "owner/name" on the host. Required.
	Repository string `json:"repository"`
	// Branch to release from. Default: main.
	Branch string `json:"branch"`
	// Stages lists the environments to deploy, in order. Required.
	Stages []Stage `json:"stages"`
	// AlarmEmailAddress receives pipeline failure notifications.
	// Required: a failed release must reach someone.
	AlarmEmailAddress string `json:"alarm_email_address"`

	// Envs are the loaded environments of Stages, same order.
	Envs []*Config `json:"-"`
}

// Stage is one environment the pipeline deploys.
type Stage struct {
	// Env names a block of `environments`. Required.
	Env string `json:"env"`
	// Account overrides the block's account for the pipeline. Required
	// unless the block sets `account`.
	Account string `json:"account"`
	// Approval puts the diff review and a manual approval before the stage.
	// Default: true for production environments.
	Approval *bool `json:"approval"`
}

var (
	connectionRe = regexp.MustCompile(`^arn:aws:(codestar-connections|codeconnections):[a-z0-9-]+:[0-9]{12}:connection/[0-9a-f-]{36}$`)
	repoRe       = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)
)

// LoadPipeline reads and validates the `delivery` block and every
// environment it deploys, reporting all problems at once.
func LoadPipeline(ctx Context) (*Pipeline, error) {
	e := &Error{Scope: "context." + KeyPipeline + " in cdk.json (pipeline mode)"}
	raw, ok := ctx[KeyPipeline]
	if !ok || raw == nil {
		e.Problems = append(e.Problems, KeyPipeline+": missing: pipeline mode needs the delivery block (connection, repository, stages)")
		return nil, e
	}
	b, _ := json.Marshal(raw)
	p := &Pipeline{}
	if dp := decodeObject(b, p, KeyPipeline, nil); len(dp) > 0 {
		e.Problems = append(e.Problems, dp...)
		return nil, e
	}
	if p.Branch == "" {
		p.Branch = "main"
	}
	add := func(key, format string, args ...any) {
		e.Problems = append(e.Problems, fmt.Sprintf("%s.%s: "+format, append([]any{KeyPipeline, key}, args...)...))
	}
	if !projectRe.MatchString(p.Project) {
		add("project", "%q is not allowed: use 3-20 lowercase letters, digits and hyphens", p.Project)
	}
	if !accountRe.MatchString(p.Account) {
		add("account", "%q is not an AWS account id: use 12 digits", p.Account)
	}
	if !slices.Contains(Regions, p.Region) {
		add("region", "%q is not an AWS region", p.Region)
	}
	if !connectionRe.MatchString(p.ConnectionArn) {
		add("connection_arn", "%q is not a CodeConnections connection ARN (arn:aws:codeconnections:REGION:ACCOUNT:connection/UUID)", p.ConnectionArn)
	}
	if a, err := mail.ParseAddress(p.AlarmEmailAddress); err != nil || a.Address != p.AlarmEmailAddress {
		add("alarm_email_address", "%q is not an email address like alerts@example.com: pipeline failures are sent there", p.AlarmEmailAddress)
	}
	if !repoRe.MatchString(p.Repository) {
		add("repository", "%q is not owner/name", p.Repository)
	}
	if len(p.Stages) == 0 {
		add("stages", "is empty: list the environments to deploy, in order")
	}
	seen := map[string]bool{}
	for i, s := range p.Stages {
		if seen[s.Env] {
			add(fmt.Sprintf("stages[%d].env", i), "%q is listed twice", s.Env)
		}
		seen[s.Env] = true
		c, err := Load(ctx, s.Env)
		if err != nil {
			e.Problems = append(e.Problems, err.(*Error).Problems...)
			continue
		}
		if s.Account != "" {
			c.Account = s.Account
			c.deriveBucketNames() // the stage's account names the buckets
		}
		if !accountRe.MatchString(c.Account) {
			add(fmt.Sprintf("stages[%d].account", i), "%q is not an AWS account id: the pipeline deploys %s to an explicit account", c.Account, s.Env)
		}
		if s.Approval == nil {
			p.Stages[i].Approval = ptr(c.IsProduction())
		}
		if c.Project != p.Project {
			add(fmt.Sprintf("stages[%d].env", i), "environment %q has project %q, the pipeline %q: one pipeline deploys one project", s.Env, c.Project, p.Project)
		}
		p.Envs = append(p.Envs, c)
	}
	if len(e.Problems) > 0 {
		return nil, e
	}
	return p, nil
}
