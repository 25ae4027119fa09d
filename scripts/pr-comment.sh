#!/usr/bin/env bash
# Post or update ONE comment on a pull request: the comment whose body
# starts with the same hidden marker as BODY_FILE's first line
# (cmd/prcomment writes it) is edited; without one, a new comment is posted.
#   GITHUB_REPOSITORY=owner/name PR_NUMBER=12 GH_TOKEN=... scripts/pr-comment.sh BODY_FILE
# Uses the GitHub CLI (gh) and jq, both on GitHub's runners.
set -euo pipefail
body_file="${1:?usage: pr-comment.sh BODY_FILE}"
: "${GITHUB_REPOSITORY:?}" "${PR_NUMBER:?}"
marker="$(head -n 1 "$body_file")"
if [[ "$marker" != "<!--"*"-->" ]]; then
  echo "pr-comment: the first line of $body_file is not a hidden marker (<!-- ... -->)" >&2
  exit 1
fi
# --paginate prints one JSON array per page; jq reads them all.
id="$(gh api --paginate "repos/$GITHUB_REPOSITORY/issues/$PR_NUMBER/comments" |
  jq -r --arg m "$marker" '.[] | select(.body | startswith($m)) | .id' | head -n 1)"
if [[ -n "$id" ]]; then
  gh api -X PATCH "repos/$GITHUB_REPOSITORY/issues/comments/$id" -F "body=@$body_file" >/dev/null
  echo "pr-comment: updated comment $id"
else
  gh api -X POST "repos/$GITHUB_REPOSITORY/issues/$PR_NUMBER/comments" -F "body=@$body_file" >/dev/null
  echo "pr-comment: posted a new comment"
fi
