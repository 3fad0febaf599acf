#!/usr/bin/env bash
# Start PostgreSQL and Redis on this machine when they are not answering.
# The integration tests talk to both for real (127.0.0.1:5432 and :6379).
set -euo pipefail

postgres_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; }

if ! postgres_up && command -v pg_ctlcluster >/dev/null; then
    echo "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
if ! redis_up && command -v redis-server >/dev/null; then
    echo "starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
        --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi

for _ in $(seq 1 20); do
    if postgres_up && redis_up; then exit 0; fi
    sleep 0.5
done
postgres_up || echo "warning: PostgreSQL is not answering on 127.0.0.1:5432" >&2
redis_up || echo "warning: Redis is not answering on 127.0.0.1:6379" >&2
