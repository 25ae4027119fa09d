// Command datalake is the CDK app: it reads the context, loads and
// validates the configuration, builds the sandbox stacks or the pipeline,
// and synthesizes. It is the only place that reads context or the process
// environment.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/assets"
	"github.com/example/datalake/config"
	"github.com/example/datalake/stacks"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	if err := build(app); err != nil {
		fmt.Fprintln(os.Stderr, err)
		jsii.Close()
		os.Exit(1)
	}
	app.Synth(nil)
}

func build(app awscdk.App) error {
	ctx := config.Context{}
	for _, k := range []string{config.KeyEnvironments, config.KeyDatasets, config.KeyJoins, config.KeyPipeline} {
		ctx[k] = app.Node().TryGetContext(jsii.String(k))
	}
	// The CDK runs the app from the project folder (cdk.json).
	files, err := assets.Load(".")
	if err != nil {
		return err
	}
	if contextString(app, "pipeline") == "true" {
		p, err := config.LoadPipeline(ctx)
		if err != nil {
			return err
		}
		stacks.NewPipeline(app, p, files)
		return nil
	}
	name := contextString(app, "env")
	if name == "" {
		name = config.DefaultEnvironment
	}
	cfg, err := config.Load(ctx, name)
	if err != nil {
		return err
	}
	stacks.NewDataLake(app, cfg, stacks.Options{
		DefaultAccount:   os.Getenv("CDK_DEFAULT_ACCOUNT"),
		DestroyConfirmed: contextString(app, "confirm_destroy") == cfg.Environment.Environment,
		Files:            files,
	})
	return nil
}

// contextString reads a context value given with -c (always a string) or
// in cdk.json (any JSON value; non-strings are printed).
func contextString(app awscdk.App, key string) string {
	v := app.Node().TryGetContext(jsii.String(key))
	if v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}
