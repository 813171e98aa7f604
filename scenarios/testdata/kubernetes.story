# kubernetes, seed 1: kube-apiserver's traffic on 3 members: gets, optimistic updates (Txn comparing mod_revision), deletes, informers watching every key, events on leases, and compaction every 5s; a leader crash and an isolated follower on the way
# go run ./cmd/etcdlab replay kubernetes --seed 1
   0.641665s n2   raft: 2 became leader at term 2
   4.937000s nemesis begin fault 1: crash at=4.937s for=2.394s who=leader on n2
   4.938026s net  n1->n2 lost: n2 was down or restarted since it was sent
   6.285283s n3   raft: 3 became leader at term 3
   7.331000s nemesis restart n2
   7.331000s n2   restarted: snapshot 0, backend consistent index 899, 903 WAL entries after the snapshot, Term:2 Vote:2 Commit:900, 11 torn bytes cut
  10.352000s nemesis begin fault 2: isolate at=10.352s for=2.396s who=follower on n2
  12.748000s nemesis end fault 2: isolate
  28.000000s run  verdict linearizable ok=true: 6974 operations on 10 keys checked (6974 ok, 0 with unknown outcome); 21 unknown writes settled from the applied log
  28.000000s run  verdict raft safety ok=true: one leader per term (2 terms had one); commit indexes never went back; applied entries agree at all 4205 indexes compared; logs match at all 4204 (index, term) pairs two members held; new leaders held every committed entry (2 elections checked)
  28.000000s run  verdict members converged ok=true: live members applied index 4205, revision 1780, store 9e6c3e7457fe75aa
  28.000000s run  verdict no member panicked ok=true: no member panicked unless a fault made it
  28.000000s run  verdict watch ok=true: 3 watchers, 1 re-watch, 5,223 events checked against 1,779 revisions; 80 progress notifications
  28.000000s run  verdict lease ok=true: 7 leases with keys: 1 expiry, none early, and 6 client revokes, each in one revision; keys of 7 leases gone in time
  28.000000s run  verdict members restart from their disks ok=true: 1 restart, from the member's own disk (backend, snapshot, WAL)
  28.000000s run  verdict new leader after fault 1 ok=true: n3 leads term 3 from 6.285s, 1.348s after 4.937s (bound 5s)
  28.000000s run  verdict liveness after faults ok=true: faults healed at 12.748s; within 6s: leader n3 +0s, first write +53ms, all members applied index 1705 +40ms
