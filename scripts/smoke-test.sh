#!/usr/bin/env bash
# Pipeline post-deploy smoke test: send one valid record of $DATASET and
# wait until it lands in the raw zone under source=$DATASET/dt=<today>/.
# Inputs come from stack outputs (STREAM_NAME, RAW_BUCKET, SMOKE_TEST_ROLE;
# API_URL and API_KEY_ID when the ingestion stack has them), never
# hard-coded names.
#
# With API_URL the record goes the producers' way: a SigV4-signed POST of
# the record to ${API_URL}ingest/$DATASET (API_URL ends in the stage, v1/;
# the API wraps the record in the envelope), with the x-api-key from
# API_KEY_ID when the API has a usage plan. The smoke-test role then needs
# execute-api:Invoke on that method (and apigateway:GET on the key).
# Without API_URL the envelope is put straight onto the stream.
#
#   SMOKE_TEST_DRY_RUN=1 prints the request instead of sending anything
#   (used by scripts/test.sh to check the request shape offline).
set -euo pipefail
: "${STREAM_NAME:?}" "${RAW_BUCKET:?}" "${SMOKE_TEST_ROLE:?}" "${DATASET:?}"
timeout="${TIMEOUT_SECONDS:-1200}"
dry="${SMOKE_TEST_DRY_RUN:-}"

id="smoke-$(date +%s)-$RANDOM"
now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
dt="$(date -u +%Y-%m-%d)"
# RECORD_TEMPLATE is a record valid for $DATASET's declaration (the pipeline
# builds it with dataset.SampleRecord): fill in this run's id (string keys
# and the smoke_test_id field) and the time.
: "${RECORD_TEMPLATE:?a record of $DATASET with __SMOKE_ID__ and __SMOKE_NOW__ placeholders}"
data="${RECORD_TEMPLATE//__SMOKE_NOW__:date/$dt}"
data="${data//__SMOKE_NOW__/$now}"
data="${data//__SMOKE_ID__/$id}"
record="{\"dataset\":\"$DATASET\",\"data\":$data}"

if [[ -n "${API_URL:-}" ]]; then
  url="${API_URL%/}/ingest/$DATASET"
  # https://ID.execute-api.REGION.amazonaws.com/stage -> REGION
  region="$(sed -E 's#^https://[^.]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com.*#\1#' <<<"$API_URL")"
  if [[ -n "$dry" ]]; then
    echo "POST $url (sigv4 execute-api $region${API_KEY_ID:+, x-api-key of $API_KEY_ID})"; echo "$data"; exit 0
  fi
else
  if [[ -n "$dry" ]]; then
    echo "PUT-RECORD $STREAM_NAME"; echo "$record"; exit 0
  fi
fi

creds="$(aws sts assume-role --role-arn "$SMOKE_TEST_ROLE" --role-session-name smoke-test \
  --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)"
read -r AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN <<<"$creds"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN

if [[ -n "${API_URL:-}" ]]; then
  headers=(-H "x-amz-security-token: $AWS_SESSION_TOKEN" -H 'Content-Type: application/json')
  if [[ -n "${API_KEY_ID:-}" ]]; then
    headers+=(-H "x-api-key: $(aws apigateway get-api-key --api-key "$API_KEY_ID" --include-value --query value --output text)")
  fi
  # curl signs the request itself (--aws-sigv4, curl >= 7.75; the
  # CodeBuild standard 7.0 image has 7.81).
  status="$(curl -sS -o /tmp/smoke-response -w '%{http_code}' -X POST "$url" \
    --aws-sigv4 "aws:amz:$region:execute-api" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
    "${headers[@]}" --data "$data")"
  if [[ "$status" != 2* ]]; then
    echo "the API answered $status: $(cat /tmp/smoke-response)" >&2; exit 1
  fi
  echo "posted $id to $url ($status)"
else
  aws kinesis put-record --stream-name "$STREAM_NAME" --partition-key "$id" \
    --data "$(printf '%s' "$record" | base64 -w0)" >/dev/null
  echo "put $id on $STREAM_NAME"
fi
echo "waiting up to ${timeout}s for s3://$RAW_BUCKET/source=$DATASET/dt=$dt/"

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
