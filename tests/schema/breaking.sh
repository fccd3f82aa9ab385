#!/usr/bin/env bash
# Fails when schema.graphqls changed in a way that can break clients since
# the previous commit on main (on main itself: since HEAD~1; on a branch:
# since where it left main), unless a commit message in that range carries
# the line
#
#   Breaking-Schema-Change: intended
#
# Needs `npm ci --prefix tests/schema`. SCHEMA_BASE=<commit> picks the base.
set -euo pipefail
cd "$(dirname "$0")/../.."
marker='Breaking-Schema-Change: intended'

base=${SCHEMA_BASE:-}
if [ -z "$base" ]; then
  main=""
  for ref in refs/heads/main refs/remotes/origin/main; do
    if git rev-parse -q --verify "$ref^{commit}" >/dev/null; then main=$ref; break; fi
  done
  if [ -z "$main" ]; then
    echo "no main branch here: nothing to compare schema.graphqls with" >&2
    exit 0
  fi
  if [ "$(git rev-parse HEAD)" = "$(git rev-parse "$main")" ]; then
    base=$(git rev-parse -q --verify HEAD~1 || true)
  else
    base=$(git merge-base HEAD "$main" || true)
  fi
fi
if [ -z "$base" ] || ! git cat-file -e "$base:schema.graphqls" 2>/dev/null; then
  echo "schema.graphqls has no earlier version to compare with"
  exit 0
fi

old=$(mktemp)
trap 'rm -f "$old"' EXIT
git show "$base:schema.graphqls" >"$old"
echo "schema.graphqls against $(git rev-parse --short "$base"):"
if node tests/schema/check.mjs "$old" schema.graphqls; then
  exit 0
else
  status=$?
fi
if [ "$status" -eq 1 ] && git log --format=%B "$base..HEAD" | grep -qxF "$marker"; then
  echo "breaking changes accepted: a commit says '$marker'"
  exit 0
fi
if [ "$status" -eq 1 ]; then
  echo "schema.graphqls has breaking changes; if they are intended, say '$marker' on a line of the commit message" >&2
fi
exit "$status"
