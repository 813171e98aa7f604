# leader-crash, seed 1: the leader of 3 members crashes; the others elect a new one; it restarts from its WAL and catches up
# go run ./cmd/etcdlab replay leader-crash --seed 1
   0.640170s n2   raft: 2 became leader at term 2
   3.468000s nemesis begin fault 1: crash at=3.468s for=3.394s who=leader on n2
   3.468000s n2   crashed: 48 unsynced log bytes lost
   3.468881s net  n1->n2 lost: n2 was down or restarted since it was sent
   3.469610s net  n3->n2 lost: n2 was down or restarted since it was sent
   4.785135s n3   raft: 3 became leader at term 3
   6.862000s nemesis restart n2
   6.862000s n2   restarted from log: 368 entries, Term:2 Vote:2 Commit:367, 8 torn bytes cut
   6.863209s net  n3->n2 lost: n2 was down or restarted since it was sent
  14.000000s run  verdict linearizable ok=true: 2033 operations on 5 keys checked (2028 ok, 5 with unknown outcome)
  14.000000s run  verdict raft safety ok=true: one leader per term (2 terms had one); commit indexes never went back; applied entries agree at all 1144 indexes compared
  14.000000s run  verdict members converged ok=true: live members applied index 1144, revision 1103, store 1556dd66ba10a95d
  14.000000s run  verdict no member panicked ok=true: no member panicked unless a fault made it
  14.000000s run  verdict members restart from their logs ok=true: 1 restart, from the member's own WAL
  14.000000s run  verdict new leader after fault 1 ok=true: n3 leads term 3 from 4.785s, 1.317s after 3.468s (bound 5s)
