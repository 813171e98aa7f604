# leader-crash, seed 1: the leader of 3 members crashes; the others elect a new one; it restarts from its WAL and catches up
# go run ./cmd/etcdlab replay leader-crash --seed 1
   1.225945s n1   raft: 1 became leader at term 2
   3.468000s nemesis begin leader crashed
   3.468000s n1   crashed: 27 unsynced log bytes lost
   5.086443s n3   raft: 3 became leader at term 3
   6.862000s nemesis end leader crashed
   6.862000s nemesis restart n1
   6.862000s n1   restarted from log: 263 entries, Term:2 Vote:1 Commit:261, 28 torn bytes cut
  14.000000s run  verdict linearizable ok=true: 1330 operations on 5 keys checked (1317 ok, 13 with unknown outcome)
  14.000000s run  verdict raft safety ok=true: one leader per term (2 terms had one); commit indexes never went back; applied entries agree at all 735 indexes compared
  14.000000s run  verdict members converged ok=true: live members applied index 735, revision 702, store 9214f16c07eaa8cf
  14.000000s run  verdict members restart from their logs ok=true: 1 restart, from the member's own WAL
  14.000000s run  verdict new leader after crash ok=true: n3 leads term 3 from 5.086s, 1.618s after 3.468s (bound 3s)
