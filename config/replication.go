package config

import (
	"fmt"
	"regexp"
	"slices"
)

var (
	bucketArnRe = regexp.MustCompile(`^arn:aws:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	kmsKeyArnRe = regexp.MustCompile(`^arn:aws:kms:([a-z0-9-]+):[0-9]{12}:key/[0-9a-f-]{36}$`)
)

// replicationProblems checks the replication block whenever it is written
// (a disabled block with a typo is still a typo) and what an enabled one
// needs.
func (c *Config) replicationProblems(path string) []string {
	r := c.Replication
	if !r.Enabled && !c.anySet("replication.") {
		return nil
	}
	var p []string
	add := func(key, format string, args ...any) {
		p = append(p, fmt.Sprintf("%s.replication.%s: "+format, append([]any{path, key}, args...)...))
	}
	if r.Enabled || r.DestinationRegion != "" {
		switch {
		case !slices.Contains(Regions, r.DestinationRegion):
			add("destination_region", "%q is not an AWS region: name the region of the copies", r.DestinationRegion)
		case r.DestinationRegion == c.Region:
			add("destination_region", "%q is the lake's own region: cross-region replication needs another region", r.DestinationRegion)
		}
	}
	for _, b := range []struct {
		key, v   string
		required bool
	}{{"raw_destination_bucket_arn", r.RawDestinationBucketArn, true}, {"audit_destination_bucket_arn", r.AuditDestinationBucketArn, false}} {
		if (b.v != "" || (r.Enabled && b.required)) && !bucketArnRe.MatchString(b.v) {
			add(b.key, "%q is not an S3 bucket ARN like arn:aws:s3:::my-lake-raw-replica", b.v)
		}
	}
	if r.Enabled || r.DestinationKmsKeyArn != "" {
		if m := kmsKeyArnRe.FindStringSubmatch(r.DestinationKmsKeyArn); m == nil {
			add("destination_kms_key_arn", "%q is not a KMS key ARN like arn:aws:kms:REGION:ACCOUNT:key/UUID", r.DestinationKmsKeyArn)
		} else if r.DestinationRegion != "" && m[1] != r.DestinationRegion {
			add("destination_kms_key_arn", "%q is a key of %s: the copies are encrypted in destination_region %s", r.DestinationKmsKeyArn, m[1], r.DestinationRegion)
		}
	}
	return p
}
