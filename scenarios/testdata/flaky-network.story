# flaky-network, seed 1: 5 members under client load on a network that drops 10% of messages, duplicates 5% and jitters up to 20ms
# go run ./cmd/etcdlab replay flaky-network --seed 1
   1.073622s n5   raft: 5 became leader at term 2
   2.468000s nemesis begin flaky network
   8.862000s nemesis end flaky network
  14.000000s run  verdict linearizable ok=true: 804 operations on 5 keys checked (793 ok, 11 with unknown outcome)
  14.000000s run  verdict raft safety ok=true: one leader per term (1 term had one); commit indexes never went back; applied entries agree at all 458 indexes compared
  14.000000s run  verdict members converged ok=true: live members applied index 458, revision 438, store 7fcbf44ef7b516ed
  14.000000s run  verdict writes succeed during fault ok=true: 46 writes completed between 2.468s and 8.862s
