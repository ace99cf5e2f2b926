#!/bin/bash
# One node on SQLite, one on PostgreSQL, or two on PostgreSQL + Redis, each under the
# same two short loadgen scenarios (docs/performance.md, "Several nodes").
# usage: compare-nodes.sh sqlite|pg|pg2   (after cargo build --release -p widget-server -p loadgen)
# needs: psql and redis-cli; PostgreSQL on 127.0.0.1:5432 (user postgres, database test), Redis on 127.0.0.1:6379
set -u
T=${CARGO_TARGET_DIR:-target}/release
BIN=$T/widget-server; LG=$T/loadgen
CFG=$1; W=${TMPDIR:-/tmp}/panel-nodes-$CFG; rm -rf $W; mkdir -p $W
PA=$((20000 + RANDOM % 5000)); PB=$((PA+1))
PREFIX=perf$RANDOM
COMMON="--send-rate-limit 0 --event-rate-limit 0 --new-visitors-per-minute 0 --log-level warn"
EXTRA=""
unset PANEL_DATABASE_URL
if [ "$CFG" != sqlite ]; then
  DB=perf_nodes_$RANDOM
  psql -q -h 127.0.0.1 -U postgres -d test -c "CREATE DATABASE $DB" || exit 1
  echo $DB > $W/db
  export PANEL_DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB
fi
if [ "$CFG" = pg2 ]; then EXTRA="--redis-url redis://127.0.0.1:6379/ --redis-prefix $PREFIX"; fi
$BIN serve --data-dir $W/data --bind 127.0.0.1:$PA $COMMON $EXTRA 2>$W/a.log & echo $! > $W/a.pid
URLS="--url http://127.0.0.1:$PA"
sleep 2
if [ "$CFG" = pg2 ]; then
  $BIN serve --data-dir $W/data --bind 127.0.0.1:$PB $COMMON $EXTRA 2>$W/b.log & echo $! > $W/b.pid
  URLS="$URLS --url http://127.0.0.1:$PB"
  sleep 2
fi
SP=$(cat $W/a.pid)
uptime > $W/load
echo "== storage (closed loop)" 
timeout 150 $LG run $URLS --server-pid $SP --create-agents --data-dir $W/data --server-bin $BIN --agents 20 --visitors 200 --layout solo --closed-loop 8 --warmup 2 --duration 10 --reply-share 0 --verify 2>&1 | grep -v "^ *$" | tail -16
echo "== fixed rate 200/s, fan-out to 20 agents"
timeout 150 $LG run $URLS --server-pid $SP --create-agents --data-dir $W/data --server-bin $BIN --agents 20 --visitors 200 --layout shared --rate 200 --warmup 2 --duration 10 --reply-share 0.2 2>&1 | grep -v "^ *$" | tail -16
uptime >> $W/load; cat $W/load
kill $(cat $W/a.pid) 2>/dev/null; [ -f $W/b.pid ] && kill $(cat $W/b.pid) 2>/dev/null
sleep 2
if [ -f $W/db ]; then psql -q -h 127.0.0.1 -U postgres -d test -c "DROP DATABASE $(cat $W/db) WITH (FORCE)"; fi
redis-cli --scan --pattern "$PREFIX:*" | xargs -r redis-cli del > /dev/null
