# serializable-reads, seed 1: a follower of 5 is cut off; it goes on serving serializable reads from its own store, stale but real, while its linearizable reads wait for a leader they cannot reach and fail
# go run ./cmd/etcdlab replay serializable-reads --seed 1
   0.548600s n4   raft: 4 became leader at term 2
   3.468000s nemesis begin fault 1: isolate at=3.468s for=4.394s who=follower on n5
   7.862000s nemesis end fault 1: isolate
  14.000000s run  verdict linearizable ok=true: 1094 operations on 5 keys checked (1094 ok, 0 with unknown outcome); 12 unknown writes settled from the applied log
  14.000000s run  verdict raft safety ok=true: one leader per term (1 term had one); commit indexes never went back; applied entries agree at all 747 indexes compared; logs match at all 746 (index, term) pairs two members held; new leaders held every committed entry (1 election checked)
  14.000000s run  verdict members converged ok=true: live members applied index 747, revision 727, store bb4c0c984f3dee3a
  14.000000s run  verdict no member panicked ok=true: no member panicked unless a fault made it
  14.000000s run  verdict serializable reads ok=true: 746 serializable reads checked against the applied history, 28 of them stale (served below the newest revision applied when they were sent)
  14.000000s run  verdict stale serializable reads during fault 1 ok=true: n5 served 18 serializable reads while cut off, 18 of them stale; 0 linearizable reads
