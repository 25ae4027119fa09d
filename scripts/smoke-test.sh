#!/usr/bin/env bash
# Pipeline post-deploy smoke test: put one valid record of $DATASET on the
# stream and wait until it lands in the raw zone under source=$DATASET/.
# Inputs come from stack outputs (STREAM_NAME, RAW_BUCKET, SMOKE_TEST_ROLE),
# never from hard-coded names.
set -euo pipefail
: "${STREAM_NAME:?}" "${RAW_BUCKET:?}" "${SMOKE_TEST_ROLE:?}" "${DATASET:?}"
timeout="${TIMEOUT_SECONDS:-1200}"

creds="$(aws sts assume-role --role-arn "$SMOKE_TEST_ROLE" --role-session-name smoke-test \
  --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)"
read -r AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN <<<"$creds"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN

id="smoke-$(date +%s)-$RANDOM"
now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
dt="$(date -u +%Y-%m-%d)"
# A record valid for the first example dataset (clickstream); for another
# first dataset, adjust the fields to its declaration.
record="{\"dataset\":\"$DATASET\",\"data\":{\"event_id\":\"$id\",\"session_id\":\"smoke\",\"customer_id\":\"smoke\",\"event_type\":\"page_view\",\"event_time\":\"$now\"}}"
aws kinesis put-record --stream-name "$STREAM_NAME" --partition-key "$id" \
  --data "$(printf '%s' "$record" | base64 -w0)" >/dev/null
echo "put $id; waiting up to ${timeout}s for s3://$RAW_BUCKET/source=$DATASET/dt=$dt/"

deadline=$(( $(date +%s) + timeout ))
while (( $(date +%s) < deadline )); do
  for key in $(aws s3api list-objects-v2 --bucket "$RAW_BUCKET" --prefix "source=$DATASET/dt=$dt/" \
      --query 'Contents[].Key' --output text 2>/dev/null | tr '\t' '\n' | grep -v '^None$' || true); do
    if aws s3 cp "s3://$RAW_BUCKET/$key" - | gunzip -c | grep -q "$id"; then
      echo "found $id in s3://$RAW_BUCKET/$key"; exit 0
    fi
  done
  sleep 30
done
echo "record $id did not reach the raw zone within ${timeout}s: check the Firehose and validator alarms" >&2
exit 1
