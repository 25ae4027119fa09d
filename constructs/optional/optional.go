// Package optional turns a construct's zero-value props into absent CDK
// properties: an empty string means "not set", so the property stays out
// of the template instead of being written as "".
package optional

import "github.com/aws/jsii-runtime-go"

// String is nil for "" and jsii.String(s) otherwise.
func String(s string) *string {
	if s == "" {
		return nil
	}
	return jsii.String(s)
}
