# watch, seed 1: watchers follow every write of 3 members across a leader change, a member crash and compactions every 2s, re-watching from the next revision; each must see every revision once, in order, with its prev_kv, and progress notifications never ahead
# go run ./cmd/etcdlab replay watch --seed 1
   0.642166s n2   raft: 2 became leader at term 2
   3.468000s nemesis begin fault 1: crash at=3.468s for=2.197s who=leader on n2
   3.468573s net  n1->n2 lost: n2 was down or restarted since it was sent
   3.468734s net  n1->n2 lost: n2 was down or restarted since it was sent
   4.786212s n3   raft: 3 became leader at term 3
   5.665000s nemesis restart n2
   5.665000s n2   restarted: snapshot 0, backend consistent index 400, 409 WAL entries after the snapshot, Term:2 Vote:2 Commit:408, 1 torn bytes cut
   8.352000s nemesis begin fault 2: crash at=8.352s for=1.198s who=follower on n2
   9.550000s nemesis restart n2
   9.550000s n2   restarted: snapshot 0, backend consistent index 818, 825 WAL entries after the snapshot, Term:3 Commit:824, 12 torn bytes cut
  16.000000s run  verdict linearizable ok=true: 2449 operations on 5 keys checked (2449 ok, 0 with unknown outcome); 7 unknown writes settled from the applied log
  16.000000s run  verdict raft safety ok=true: one leader per term (2 terms had one); commit indexes never went back; applied entries agree at all 1472 indexes compared; logs match at all 1471 (index, term) pairs two members held; new leaders held every committed entry (2 elections checked)
  16.000000s run  verdict members converged ok=true: live members applied index 1472, revision 1429, store d6db782cd17f0dad
  16.000000s run  verdict no member panicked ok=true: no member panicked unless a fault made it
  16.000000s run  verdict watch ok=true: 4 watchers, 2 re-watches, 8,598 events checked against 1,428 revisions; 59 progress notifications
  16.000000s run  verdict members restart from their disks ok=true: 2 restarts, each from the member's own disk (backend, snapshot, WAL)
  16.000000s run  verdict new leader after fault 1 ok=true: n3 leads term 3 from 4.786s, 1.318s after 3.468s (bound 5s)
