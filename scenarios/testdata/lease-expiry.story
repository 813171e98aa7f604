# lease-expiry, seed 1: lease holders keep leases alive on 3 members, then revoke them or go quiet; the leader expires the quiet ones on its own clock and deletes their keys in one revision, across a leader crash, an isolated leader and a holder cut off from the cluster
# go run ./cmd/etcdlab replay lease-expiry --seed 1
   0.642084s n2   raft: 2 became leader at term 2
   6.937000s nemesis begin fault 1: crash at=6.937s for=2.394s who=leader on n2
   6.938180s net  n1->n2 lost: n2 was down or restarted since it was sent
   8.286039s n3   raft: 3 became leader at term 3
   9.331000s nemesis restart n2
   9.331000s n2   restarted: snapshot 0, backend consistent index 386, 387 WAL entries after the snapshot, Term:2 Vote:2 Commit:386, 4 torn bytes cut
  14.352000s nemesis begin fault 2: isolate at=14.352s for=2.396s who=leader on n3
  15.426798s n1   raft: 1 became leader at term 4
  16.273696s n3   raft warning: 3 stepped down to follower since quorum is not active
  16.748000s nemesis end fault 2: isolate
  18.006000s nemesis begin fault 3: cut-client at=18.006s for=3.866s client=l5
  21.872000s nemesis end fault 3: cut-client
  40.000000s run  verdict linearizable ok=true: 2043 operations on 5 keys checked (2043 ok, 0 with unknown outcome); 5 unknown writes settled from the applied log
  40.000000s run  verdict raft safety ok=true: one leader per term (3 terms had one); commit indexes never went back; applied entries agree at all 1232 indexes compared; logs match at all 1231 (index, term) pairs two members held; new leaders held every committed entry (3 elections checked)
  40.000000s run  verdict members converged ok=true: live members applied index 1232, revision 1174, store 79e49da9518ec990
  40.000000s run  verdict no member panicked ok=true: no member panicked unless a fault made it
  40.000000s run  verdict lease ok=true: 25 leases with keys: 12 expiries, none early, and 13 client revokes, each in one revision; keys of 25 leases gone in time
  40.000000s run  verdict members restart from their disks ok=true: 1 restart, from the member's own disk (backend, snapshot, WAL)
  40.000000s run  verdict new leader after fault 1 ok=true: n3 leads term 3 from 8.286s, 1.349s after 6.937s (bound 5s)
