#!/usr/bin/env bash
# Reruns every probe against the broker started by ./broker.sh start; logs go to ./logs/.
set -u
cd "$(dirname "$0")"; export PATH=/work/main/node_modules/.bin:$PATH; mkdir -p logs
for s in pk-reinit.mjs "pk-reinit.mjs workaround" pk-correctness.mjs ck-correctness.mjs; do n=${s// /-}; timeout 300 node $s > logs/${n%.mjs}.log 2>&1; echo "$s exit=$?"; done
for c in pk ck; do for p in eager cooperative consumer; do timeout 120 node rebalance.mjs $c $p > logs/rb-$c-$p.log 2>&1; echo "rebalance $c $p exit=$?"; done; done
for c in kjs pk ck; do timeout 400 node bench.mjs $c > logs/bench-$c.log 2>&1; echo "bench $c exit=$?"; done
