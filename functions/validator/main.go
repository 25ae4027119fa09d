// Command validator is the record validator of the data lake: the
// data-transformation Lambda of the Firehose delivery stream that moves
// records from the Kinesis data stream to the S3 raw zone.
//
// Every record is checked against the dataset declarations (package
// dataset) bundled as datasets.json. Valid records pass unchanged with the
// dynamic-partitioning keys source and dt; invalid ones are marked
// ProcessingFailed, so Firehose writes them under the error prefix, and a
// log line says why. See README.md.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	h, err := newHandler(os.Getenv, os.Executable, os.Stdout)
	if err != nil {
		// Fail init loudly: a validator without its declarations must not
		// run (it could only reject or wrongly accept everything).
		line, _ := json.Marshal(map[string]string{"level": "error", "msg": "validator init failed", "error": err.Error()})
		fmt.Fprintln(os.Stderr, string(line))
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
