# leader-crash, seed 1: the leader of 3 members crashes; the others elect a new one; it restarts from its WAL and catches up
# go run ./cmd/etcdlab replay leader-crash --seed 1
   0.641378s n2   raft: 2 became leader at term 2
   3.468000s nemesis begin fault 1: crash at=3.468s for=3.394s who=leader on n2
   3.468194s net  n1->n2 lost: n2 was down or restarted since it was sent
   4.784803s n3   raft: 3 became leader at term 3
   6.862000s nemesis restart n2
   6.862000s n2   restarted: snapshot 0, backend consistent index 364, 369 WAL entries after the snapshot, Term:2 Vote:2 Commit:368, 11 torn bytes cut
  14.000000s run  verdict linearizable ok=true: 2107 operations on 5 keys checked (2107 ok, 0 with unknown outcome); 2 unknown writes settled from the applied log
  14.000000s run  verdict raft safety ok=true: one leader per term (2 terms had one); commit indexes never went back; applied entries agree at all 1161 indexes compared; logs match at all 1160 (index, term) pairs two members held; new leaders held every committed entry (2 elections checked)
  14.000000s run  verdict members converged ok=true: live members applied index 1161, revision 1120, store e08dd96cab37533c
  14.000000s run  verdict no member panicked ok=true: no member panicked unless a fault made it
  14.000000s run  verdict members restart from their disks ok=true: 1 restart, from the member's own disk (backend, snapshot, WAL)
  14.000000s run  verdict new leader after fault 1 ok=true: n3 leads term 3 from 4.785s, 1.317s after 3.468s (bound 5s)
