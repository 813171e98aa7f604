# partition, seed 1: the leader and one follower are cut off from the rest of 5; the majority elects a new leader, the old one commits nothing; after healing, logs converge
# go run ./cmd/etcdlab replay partition --seed 1
   0.549231s n4   raft: 4 became leader at term 2
   3.468000s nemesis begin fault 1: partition at=3.468s for=4.394s who=leader,follower on n4,n5
   4.536377s n4   raft warning: 4 stepped down to follower since quorum is not active
   4.787534s n3   raft: 3 became leader at term 3
   7.862000s nemesis end fault 1: partition
  16.000000s run  verdict linearizable ok=true: 1869 operations on 5 keys checked (1869 ok, 0 with unknown outcome); 14 unknown writes settled from the applied log
  16.000000s run  verdict raft safety ok=true: one leader per term (2 terms had one); commit indexes never went back; applied entries agree at all 994 indexes compared; logs match at all 997 (index, term) pairs two members held; new leaders held every committed entry (2 elections checked)
  16.000000s run  verdict members converged ok=true: live members applied index 994, revision 962, store 4c25ea9e64ae3729
  16.000000s run  verdict no member panicked ok=true: no member panicked unless a fault made it
  16.000000s run  verdict new leader after fault 1 ok=true: n3 leads term 3 from 4.788s, 1.32s after 3.468s (bound 5s)
  16.000000s run  verdict cut-off leader commits nothing (fault 1) ok=true: n4 commit index 360 at 3.568s, 360 at 7.862s
