# election, seed 1: 3 members boot with no leader; one is elected and serves clients
# go run ./cmd/etcdlab replay election --seed 1
   0.641378s n2   raft: 2 became leader at term 2
   5.000000s run  verdict linearizable ok=true: 548 operations on 5 keys checked (548 ok, 0 with unknown outcome)
   5.000000s run  verdict raft safety ok=true: one leader per term (1 term had one); commit indexes never went back; applied entries agree at all 310 indexes compared; logs match at all 309 (index, term) pairs two members held; new leaders held every committed entry (1 election checked)
   5.000000s run  verdict members converged ok=true: live members applied index 310, revision 294, store 132d4df8620d8971
   5.000000s run  verdict no member panicked ok=true: no member panicked unless a fault made it
   5.000000s run  verdict leader elected ok=true: n2 leads term 2 from 641ms, 641ms after 0s (bound 5s)
