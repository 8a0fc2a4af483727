#!/usr/bin/env bash
# Make sure PostgreSQL (127.0.0.1:5432, user postgres) and Redis (127.0.0.1:6379)
# are up for the real test run; start them if they are installed but stopped.
set -u

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! pg_up; then
  echo "PostgreSQL is not running on 127.0.0.1:5432; starting it"
  if [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_up && break; sleep 0.5; done
fi
if ! redis_up; then
  echo "Redis is not running on 127.0.0.1:6379; starting it"
  command -v redis-server >/dev/null && \
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
  for _ in $(seq 1 30); do redis_up && break; sleep 0.5; done
fi

ok=1
pg_up || { echo "ERROR: PostgreSQL is not reachable on 127.0.0.1:5432 (user postgres)."; ok=0; }
redis_up || { echo "ERROR: Redis is not reachable on 127.0.0.1:6379."; ok=0; }
[ $ok = 1 ] || { echo "See DEVELOPERS.md for how to start them."; exit 1; }
