#!/bin/sh
# Starts a scheduler node and two worker processes on this machine, runs a
# workflow through them, shows which worker ran which node, and stops
# everything (the workers drain on SIGTERM).
#
#   examples/distributed/run_local.sh [WORKFLOW.json]
#
# Environment: JAMJET (the CLI, default ./build/jamjet), PORT (default
# 7400), JAMJET_TOKEN (default: a random one for this run).
set -eu

JAMJET=${JAMJET:-./build/jamjet}
PORT=${PORT:-7400}
WORKFLOW=${1:-examples/workflows/pipeline.json}
ENDPOINT=127.0.0.1:$PORT
DIR=$(mktemp -d)
JAMJET_TOKEN=${JAMJET_TOKEN:-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')}
export JAMJET_TOKEN

pids=""
cleanup() {
  # Workers first (they finish what they hold), then the node.
  for pid in $pids; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $pids; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

"$JAMJET" serve --db "$DIR/scheduler.db" --listen "$ENDPOINT" \
  --log-level info >"$DIR/serve.out" 2>"$DIR/serve.log" &
serve_pid=$!

# Wait for the node to answer.
i=0
until "$JAMJET" status --connect "$ENDPOINT" >/dev/null 2>&1; do
  i=$((i + 1))
  if [ $i -gt 200 ] || ! kill -0 $serve_pid 2>/dev/null; then
    echo "the scheduler node did not start:" >&2
    cat "$DIR/serve.log" >&2
    exit 1
  fi
  sleep 0.05
done
echo "scheduler node listening on $ENDPOINT (store $DIR/scheduler.db)" >&2

"$JAMJET" worker --connect "$ENDPOINT" --name worker-a --slots 2 \
  2>"$DIR/worker-a.log" &
pids="$! $pids"
"$JAMJET" worker --connect "$ENDPOINT" --name worker-b --slots 2 \
  2>"$DIR/worker-b.log" &
pids="$! $pids $serve_pid"

echo "submitting $WORKFLOW" >&2
"$JAMJET" submit --connect "$ENDPOINT" "$WORKFLOW" --wait

# Which worker ran which node.
id=$("$JAMJET" status --connect "$ENDPOINT" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["execution_id"])')
"$JAMJET" events "$id" --connect "$ENDPOINT" | python3 -c '
import json, sys
for line in sys.stdin:
    k = json.loads(line)["kind"]
    if k["type"] == "node_started":
        print("  node %-8s ran on %s" % (k["node_id"], k["worker_id"]), file=sys.stderr)
'
