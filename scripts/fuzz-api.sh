#!/usr/bin/env bash
# Fuzzes a running kafka-archive HTTP API with schemathesis, from the OpenAPI document it serves.
#   scripts/fuzz-api.sh <base URL> [token] [max examples per operation, default 40]
# Passes when no response is a 5xx, every response (status, content type, body, headers) is the
# documented one, and every request outside the document's schemas gets a 4xx. Bounded: a fixed
# number of examples per operation, a fixed seed (FUZZ_SEED), no shrinking, one request timeout.
# Not checked: positive_data_acceptance (the document cannot say that `to` must follow `from`,
# that a calendar date exists, or that a topic is archived: such schema-valid requests get 4xx),
# ignored_auth (the token is sent on every request; the auth tests cover missing/bad tokens).
set -euo pipefail
cd "$(dirname "$0")/.."
url=${1:?usage: fuzz-api.sh <base URL> [token] [max examples]}
token=${2:-}
examples=${3:-40}
bash scripts/ensure-schemathesis.sh >&2
args=(run "$url/openapi.json" --url "$url" --checks all
  --exclude-checks positive_data_acceptance,ignored_auth
  --max-examples "$examples" --seed "${FUZZ_SEED:-20261201}" --no-shrink
  --request-timeout 30 --workers 1 --no-color --warnings off)
[ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
# From .cache/: schemathesis keeps its own cache (.schemathesis/) in the working directory.
cd .cache
exec schemathesis/bin/st "${args[@]}"
