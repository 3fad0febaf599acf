#!/usr/bin/env bash
# Smoke-test a running inference API: liveness, readiness, one chat answer.
#
#   scripts/smoke-test.sh http://127.0.0.1:8000
#
# Exits 0 when all three pass, 1 when one fails (the message says which and
# why), 2 on wrong usage. Settings, all optional:
#   SMOKE_MODEL        model name sent to /v1/chat/completions
#                      (default: $MODEL_NAME, else yonca-agri)
#   SMOKE_READY_WAIT   seconds to wait for /ready to turn 200 (default 60)
#   SMOKE_TIMEOUT      seconds allowed for the chat answer (default 120)
#   SMOKE_TOKEN        bearer token sent with every request, when set
set -euo pipefail

usage() {
    echo "usage: $0 URL   (for example http://127.0.0.1:8000)" >&2
    exit 2
}

[ $# -eq 1 ] || usage
base_url="${1%/}"
case "$base_url" in
    http://* | https://*) ;;
    *) usage ;;
esac

model="${SMOKE_MODEL:-${MODEL_NAME:-yonca-agri}}"
ready_wait="${SMOKE_READY_WAIT:-60}"
chat_timeout="${SMOKE_TIMEOUT:-120}"
body_file="$(mktemp)"
trap 'rm -f "$body_file"' EXIT

curl_args=(--silent --show-error --output "$body_file" --write-out '%{http_code}')
if [ -n "${SMOKE_TOKEN:-}" ]; then
    curl_args+=(--header "Authorization: Bearer ${SMOKE_TOKEN}")
fi

fail() {
    echo "FAIL $1" >&2
    if [ -s "$body_file" ]; then
        echo "     response: $(head -c 500 "$body_file")" >&2
    fi
    exit 1
}

# request METHOD PATH MAX_SECONDS [JSON_BODY]: prints the status code, or
# 000 when no HTTP answer came (refused, timed out, DNS, TLS).
request() {
    local method="$1" path="$2" max_seconds="$3" data="${4:-}"
    local extra=()
    if [ -n "$data" ]; then
        extra=(--header 'Content-Type: application/json' --data "$data")
    fi
    : > "$body_file"
    curl "${curl_args[@]}" --max-time "$max_seconds" --request "$method" \
        "${extra[@]}" "${base_url}${path}" 2>/dev/null || true
}

# 1. Liveness: the process answers.
status="$(request GET /health 10)"
if [ "$status" = "000" ]; then
    fail "GET ${base_url}/health: no answer (connection refused, timed out or \
name not resolved); check that the service runs and the URL is right."
fi
[ "$status" = "200" ] || fail "GET ${base_url}/health answered ${status}, expected 200."
echo "ok   GET /health"

# 2. Readiness: a vetted model is loaded. A fresh pod may still be loading.
deadline=$((SECONDS + ready_wait))
while :; do
    status="$(request GET /ready 10)"
    [ "$status" = "200" ] && break
    if [ "$SECONDS" -ge "$deadline" ]; then
        fail "GET ${base_url}/ready answered ${status} for ${ready_wait}s: no vetted \
model is loaded; see the response and docs/runbooks/inference-slow-or-failing.md."
    fi
    sleep 2
done
echo "ok   GET /ready"

# 3. One short chat answer from the served model.
payload="$(printf '{"model": "%s", "max_tokens": 16, "temperature": 0, %s}' \
    "$model" '"messages": [{"role": "user", "content": "When should I water wheat?"}]')"
status="$(request POST /v1/chat/completions "$chat_timeout" "$payload")"
[ "$status" = "200" ] \
    || fail "POST ${base_url}/v1/chat/completions answered ${status}, expected 200."
if ! python3 - "$body_file" <<'PY'
import json
import sys

with open(sys.argv[1], encoding="utf-8") as answer:
    content = json.load(answer)["choices"][0]["message"]["content"]
sys.exit(0 if isinstance(content, str) and content.strip() else 1)
PY
then
    fail "POST ${base_url}/v1/chat/completions answered 200 without a non-empty \
choices[0].message.content."
fi
echo "ok   POST /v1/chat/completions (model ${model})"
echo "smoke test passed: ${base_url}"
