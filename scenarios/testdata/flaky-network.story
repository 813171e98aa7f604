# flaky-network, seed 1: 5 members under client load on a datagram network that drops 10% of messages, duplicates 5% and jitters up to 20ms
# go run ./cmd/etcdlab replay flaky-network --seed 1
   0.548920s n4   raft: 4 became leader at term 2
   2.468000s nemesis begin fault 1: link at=2.468s for=6.394s who=all jitter=20ms drop=0.1 duplicate=0.05 on n1,n2,n3,n4,n5
   8.862000s nemesis end fault 1: link
  14.000000s run  verdict linearizable ok=true: 1067 operations on 5 keys checked (1067 ok, 0 with unknown outcome); 10 unknown writes settled from the applied log
  14.000000s run  verdict raft safety ok=true: one leader per term (1 term had one); commit indexes never went back; applied entries agree at all 568 indexes compared; logs match at all 567 (index, term) pairs two members held; new leaders held every committed entry (1 election checked)
  14.000000s run  verdict members converged ok=true: live members applied index 568, revision 541, store 62cb1f5228bfdbc2
  14.000000s run  verdict no member panicked ok=true: no member panicked unless a fault made it
  14.000000s run  verdict writes succeed during fault ok=true: 87 writes completed between 2.468s and 8.862s
