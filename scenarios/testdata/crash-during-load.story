# crash-during-load, seed 1: members of 3 crash under heavy writes, between and inside backend commits (etcd's backend failpoints); each restarts from its backend, snapshot and WAL, and applies nothing twice
# go run ./cmd/etcdlab replay crash-during-load --seed 1
   0.642122s n2   raft: 2 became leader at term 2
   4.203000s nemesis begin fault 1: failpoint at=4.203s for=3s who=any name=commitBeforePreCommitHook action=panic hit=1 restart-after=500ms on n2
   4.210050s nemesis failpoint commitBeforePreCommitHook panics n2
   4.210050s n2   died: failpoint commitBeforePreCommitHook: panic (fault 1)
   4.210293s net  n3->n2 lost: n2 was down or restarted since it was sent
   4.710050s nemesis restart n2
   4.710050s n2   restarted: snapshot 1508, backend consistent index 1728, 230 WAL entries after the snapshot, Term:2 Vote:2 Commit:1732, 0 torn bytes cut
   5.526675s n1   raft: 1 became leader at term 3
   6.000000s nemesis begin fault 2: crash at=6s for=652ms who=any on n1
   6.000119s net  n2->n1 lost: n1 was down or restarted since it was sent
   6.000544s net  n2->n1 lost: n1 was down or restarted since it was sent
   6.000544s net  n2->n1 lost: n1 was down or restarted since it was sent
   6.001057s net  n2->n1 lost: n1 was down or restarted since it was sent
   6.001057s net  n2->n1 lost: n1 was down or restarted since it was sent
   6.001587s net  n3->n1 lost: n1 was down or restarted since it was sent
   6.001587s net  n3->n1 lost: n1 was down or restarted since it was sent
   6.001587s net  n3->n1 lost: n1 was down or restarted since it was sent
   6.001587s net  n3->n1 lost: n1 was down or restarted since it was sent
   6.652000s nemesis restart n1
   6.652000s n1   restarted: snapshot 1809, backend consistent index 1900, 99 WAL entries after the snapshot, Term:3 Vote:1 Commit:1904, 34 torn bytes cut
   7.203000s nemesis end fault 1: failpoint
   7.450991s n2   raft: 2 became leader at term 4
   8.149000s nemesis begin fault 3: failpoint at=8.149s for=3s who=any name=commitBeforePreCommitHook action=panic hit=3 restart-after=500ms on n1
   8.167172s nemesis failpoint commitBeforePreCommitHook panics n1
   8.167172s n1   died: failpoint commitBeforePreCommitHook: panic (fault 3)
   8.167781s net  n2->n1 lost: n1 was down or restarted since it was sent
   8.167781s net  n2->n1 lost: n1 was down or restarted since it was sent
   8.667172s nemesis restart n1
   8.667172s n1   restarted: snapshot 2110, backend consistent index 2134, 32 WAL entries after the snapshot, Term:4 Vote:2 Commit:2141, 0 torn bytes cut
   8.668237s net  n2->n1 lost: n1 was down or restarted since it was sent
   8.668481s net  n2->n1 lost: n1 was down or restarted since it was sent
   8.668616s net  n2->n1 lost: n1 was down or restarted since it was sent
   9.733000s nemesis begin fault 4: crash at=9.733s for=950ms who=any on n2
   9.733257s net  n3->n2 lost: n2 was down or restarted since it was sent
  10.683000s nemesis restart n2
  10.683000s n2   restarted: snapshot 2715, backend consistent index 2916, 208 WAL entries after the snapshot, Term:4 Vote:2 Commit:2920, 14 torn bytes cut
  10.684263s net  n1->n2 lost: n2 was down or restarted since it was sent
  10.694827s n1   raft: 1 became leader at term 5
  11.149000s nemesis end fault 3: failpoint
  26.000000s run  verdict linearizable ok=true: 11302 operations on 5 keys checked (11302 ok, 0 with unknown outcome); 50 unknown writes settled from the applied log
  26.000000s run  verdict raft safety ok=true: one leader per term (4 terms had one); commit indexes never went back; applied entries agree at all 9057 indexes compared; logs match at all 9056 (index, term) pairs two members held; new leaders held every committed entry (4 elections checked)
  26.000000s run  verdict members converged ok=true: live members applied index 9057, revision 8929, store ea886a2fa0cf1709
  26.000000s run  verdict no member panicked ok=true: no member panicked unless a fault made it
  26.000000s run  verdict members restart from their disks ok=true: 4 restarts, each from the member's own disk (backend, snapshot, WAL)
  26.000000s run  verdict liveness after faults ok=true: faults healed at 11.649s; within 6s: leader n1 +0s, first write +12ms, all members applied index 3399 +10ms
