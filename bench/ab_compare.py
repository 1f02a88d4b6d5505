#!/usr/bin/env python3
"""Interleaved A/B runs of two jamjet_bench builds: median hop p50 and fan-out
nodes/s of each, and their ratios. Runs alternate (ABBA...) so drift of the
machine hits both alike.

  bench/ab_compare.py PAIRS [jamjet_bench options...]

with BASE_BENCH and AFTER_BENCH naming the two binaries; both workloads run
(the default), in memory unless the options say `--store ...`.
"""
import json, os, subprocess, statistics, sys
B={'base': os.environ['BASE_BENCH'], 'after': os.environ['AFTER_BENCH']}
res={k:{'hop':[], 'fan':[], 'cpu':[]} for k in B}
pairs=int(sys.argv[1]) if len(sys.argv)>1 else 8
for i in range(pairs):
    order = ['base','after'] if i%2==0 else ['after','base']
    for k in order:
        out=subprocess.run([B[k],'--threads','0']+sys.argv[2:],capture_output=True,text=True).stdout
        j=json.loads(out)
        w1=[r for r in j['results'] if r['workload']=='w1'][0]
        w2=[r for r in j['results'] if r['workload']=='w2'][0]
        res[k]['hop'].append(w1['hop_latency_us']['p50'])
        res[k]['fan'].append(w2['nodes_per_s'])
        res[k]['cpu'].append(w2.get('cpu_us_per_node', 0))
for k in B:
    r=res[k]
    print(k, 'hop p50 med %.1f'%statistics.median(r['hop']), sorted(r['hop']), 'fan med %.0f'%statistics.median(r['fan']), 'cpu/node med %.1f'%statistics.median(r['cpu']))
print('ratio after/base hop %.3f fan %.3f'%(statistics.median(res['after']['hop'])/statistics.median(res['base']['hop']), statistics.median(res['after']['fan'])/statistics.median(res['base']['fan'])))
