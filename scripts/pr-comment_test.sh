#!/usr/bin/env bash
# Tests scripts/pr-comment.sh against a stub `gh` (no network): it edits
# the one comment carrying its marker and posts a new one otherwise.
# scripts/test.sh runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# The stub prints $COMMENTS for the list call and logs every write.
cat > "$tmp/gh" <<'STUB'
#!/usr/bin/env bash
if [[ "$*" == *"--paginate"* ]]; then printf '%s' "$COMMENTS"; exit 0; fi
echo "$*" >> "$GH_LOG"
STUB
chmod +x "$tmp/gh"
export PATH="$tmp:$PATH" GH_LOG="$tmp/log" GITHUB_REPOSITORY=o/r PR_NUMBER=7
printf '%s\n%s\n' '<!-- datalake:cdk-diff env=dev -->' 'body' > "$tmp/body.md"
fail=0
expect() { # name, want-in-log
  if ! grep -qF -- "$2" "$GH_LOG"; then echo "FAIL $1: log has: $(cat "$GH_LOG")"; fail=1; else echo "ok   $1"; fi
  rm -f "$GH_LOG"
}

# Two pages; the marked comment (id 22) is on the second; another
# environment's comment (id 11) must be left alone.
export COMMENTS='[{"id":10,"body":"lgtm"},{"id":11,"body":"<!-- datalake:cdk-diff env=prod -->\nx"}][{"id":22,"body":"<!-- datalake:cdk-diff env=dev -->\nold"}]'
bash scripts/pr-comment.sh "$tmp/body.md" >/dev/null
expect "updates the marked comment" "-X PATCH repos/o/r/issues/comments/22 -F body=@$tmp/body.md"

export COMMENTS='[{"id":10,"body":"lgtm"},{"id":11,"body":"<!-- datalake:cdk-diff env=prod -->"}]'
bash scripts/pr-comment.sh "$tmp/body.md" >/dev/null
expect "posts when there is none" "-X POST repos/o/r/issues/7/comments -F body=@$tmp/body.md"

export COMMENTS='[]'
echo "no marker" > "$tmp/bad.md"
if bash scripts/pr-comment.sh "$tmp/bad.md" 2>/dev/null; then echo "FAIL refuses a body without a marker"; fail=1; else echo "ok   refuses a body without a marker"; fi

# The smoke test's request shape, offline (dry run): the API when its URL
# is an output, the stream otherwise.
template='{"day":"__SMOKE_NOW__:date","event_id":"__SMOKE_ID__","event_time":"__SMOKE_NOW__","event_type":"page_view","smoke_test_id":"__SMOKE_ID__"}'
common=(STREAM_NAME=s RAW_BUCKET=b SMOKE_TEST_ROLE=r DATASET=clickstream SMOKE_TEST_DRY_RUN=1 "RECORD_TEMPLATE=$template")
out="$(env "${common[@]}" API_URL=https://abc123.execute-api.eu-west-1.amazonaws.com/v1/ bash scripts/smoke-test.sh)"
if [[ "$out" == "POST https://abc123.execute-api.eu-west-1.amazonaws.com/v1/ingest/clickstream (sigv4 execute-api eu-west-1)"* ]] &&
   head -n 2 <<<"$out" | tail -n 1 | jq -e '(.event_id | startswith("smoke-")) and .smoke_test_id == .event_id and .event_type == "page_view" and (.day | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}$")) and (.event_time | endswith("Z"))' >/dev/null; then
  echo "ok   smoke test posts a record through the API"
else echo "FAIL smoke test through the API: $out"; fail=1; fi
out="$(env "${common[@]}" API_URL=https://abc123.execute-api.eu-west-1.amazonaws.com/v1/ API_KEY_ID=k1 bash scripts/smoke-test.sh)"
if [[ "$out" == *", x-api-key of k1)"* ]]; then echo "ok   smoke test sends the API key when there is one"; else echo "FAIL smoke test API key: $out"; fail=1; fi
out="$(env "${common[@]}" bash scripts/smoke-test.sh)"
if [[ "$out" == "PUT-RECORD s"* ]] && tail -n 1 <<<"$out" | jq -e '.dataset == "clickstream"' >/dev/null; then echo "ok   smoke test falls back to the stream"; else echo "FAIL smoke test stream: $out"; fail=1; fi
exit "$fail"
