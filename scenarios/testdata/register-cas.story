# register-cas, seed 1: Jepsen's etcd register test: clients read, write and compare-and-set a few keys (Txn comparing the value) while the leader is partitioned away and a member crashes; every cas's succeeded flag and revision must fit one order
# go run ./cmd/etcdlab replay register-cas --seed 1
   0.548997s n4   raft: 4 became leader at term 2
   3.937000s nemesis begin fault 1: isolate at=3.937s for=3.394s who=leader on n4
   5.286625s n3   raft: 3 became leader at term 3
   5.536377s n4   raft warning: 4 stepped down to follower since quorum is not active
   7.331000s nemesis end fault 1: isolate
   9.528000s nemesis begin fault 2: crash at=9.528s for=1.396s who=any on n3
   9.529519s net  n5->n3 lost: n3 was down or restarted since it was sent
  10.474664s n5   raft: 5 became leader at term 4
  10.924000s nemesis restart n3
  10.924000s n3   restarted: snapshot 0, backend consistent index 1334, 1350 WAL entries after the snapshot, Term:3 Vote:3 Commit:1348, 3 torn bytes cut
  24.000000s run  verdict linearizable ok=true: 6458 operations on 3 keys checked (6458 ok, 0 with unknown outcome); 23 unknown writes settled from the applied log
  24.000000s run  verdict raft safety ok=true: one leader per term (3 terms had one); commit indexes never went back; applied entries agree at all 3837 indexes compared; logs match at all 3836 (index, term) pairs two members held; new leaders held every committed entry (3 elections checked)
  24.000000s run  verdict members converged ok=true: live members applied index 3837, revision 1663, store 338de378cecb86a8
  24.000000s run  verdict no member panicked ok=true: no member panicked unless a fault made it
  24.000000s run  verdict members restart from their disks ok=true: 1 restart, from the member's own disk (backend, snapshot, WAL)
  24.000000s run  verdict new leader after fault 1 ok=true: n3 leads term 3 from 5.287s, 1.35s after 3.937s (bound 5s)
  24.000000s run  verdict liveness after faults ok=true: faults healed at 10.924s; within 6s: leader n5 +0s, first write +22ms, all members applied index 1443 +20ms
