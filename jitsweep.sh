#!/usr/bin/env bash
cd /work/main
export JAR=/tmp/new22a.jar BENCH_JAR=/tmp/bench22.jar
declare -A F=([A]="-Xmx256m" [B]="-Xmx256m -XX:FreqInlineSize=100 -XX:MaxInlineLevel=9" [C]="-Xmx256m -XX:CompileThresholdScaling=0.5")
for run in 1 2; do
  for k in A B C; do
    echo "== run $run $k storm"; bench/run-storm.sh -n 1 -t flock -m memory -j "${F[$k]}" -- --conns 5000 --connect-rate 1000 --users 10 --rounds 3 2>&1 | grep "^RESULT" | python3 -c "
import sys,json
for l in sys.stdin:
    r=json.loads(l.split('RESULT ',1)[1]); print('$k', r['round'], 'life', r.get('serverCpuMsPerLifecycle'), 'p99', r['joinAckP99Ms'], 'other', r['otherProcessesCores'])"
    echo "== run $run $k fanout"; bench/run-fanout.sh -n 1 -f 16 -t flock -j "${F[$k]}" 2>&1 | grep "^RESULT" | python3 -c "
import sys,json
for l in sys.stdin:
    r=json.loads(l.split('RESULT ',1)[1]); print('$k fanout', r['serverCpuSPerMillionDeliveries'], 'p99', r['deliveryP99Ms'], 'other', r['otherProcessesCores'])"
  done
done
