#!/usr/bin/env bash
# Runs the fleet benchmark for murmur and, when its harness is built, for hashicorp/memberlist,
# one right after the other for each configuration, so the two are compared in one session on
# this shared machine (see BENCHMARKS.md). Prints one JSON line per run.
#
#   scripts/bench-compare.sh [sizes] [losses]       e.g. scripts/bench-compare.sh "16 64 128" "0 0.1 0.3"
#
# The memberlist harness (shared/bench/memberlist) is built with:
#   apt-get install -y golang-go golang-github-hashicorp-memberlist-dev
#   cd ../shared/bench/memberlist && GO111MODULE=off GOPATH=/usr/share/gocode:/tmp/gopath go build -o /tmp/ml-bench .
# It runs on the loopback of a private namespace, as murmur's benchmark does.
set -euo pipefail
sizes=${1:-"16 64 128"}
losses=${2:-"0 0.1 0.3"}
workload=${WORKLOAD:-5}
steady=${STEADY:-30}
ml=${ML_BENCH:-/tmp/ml-bench}
ns="murmur-ml-$$"
cleanup() { ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT INT TERM
cd "$(dirname "$0")/.."
for n in $sizes; do
  for loss in $losses; do
    npm run -s bench:fleet -- --nodes "$n" --loss "$loss" --workload "$workload" --steady "$steady" || echo "{\"system\":\"murmur\",\"n\":$n,\"loss\":$loss,\"error\":\"run failed\"}"
    if [[ -x "$ml" ]]; then
      ip netns add "$ns" && ip -n "$ns" link set lo up
      ip netns exec "$ns" "$ml" -n "$n" -loss "$loss" -workload "${workload}s" -steady "${steady}s" -port 42000 -deadline 120s || true
      cleanup
    fi
  done
done
