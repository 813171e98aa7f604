# election, seed 1: 3 members boot with no leader; one is elected and serves clients
# go run ./cmd/etcdlab replay election --seed 1
   1.225945s n1   raft: 1 became leader at term 2
   5.000000s run  verdict linearizable ok=true: 371 operations on 5 keys checked (371 ok, 0 with unknown outcome)
   5.000000s run  verdict raft safety ok=true: one leader per term (1 term had one); commit indexes never went back; applied entries agree at all 209 indexes compared
   5.000000s run  verdict members converged ok=true: live members applied index 209, revision 199, store 95dba9bccb13dc3e
   5.000000s run  verdict leader elected ok=true: n1 leads term 2 from 1.226s, 1.226s after 0s (bound 3s)
