# crash-during-load, seed 1: members of 3 crash under heavy writes, between and inside backend commits (etcd's backend failpoints); each restarts from its backend, snapshot and WAL, and applies nothing twice
# go run ./cmd/etcdlab replay crash-during-load --seed 1
   0.642122s n2   raft: 2 became leader at term 2
   4.203000s nemesis begin fault 1: failpoint at=4.203s for=3s who=any name=commitBeforePreCommitHook action=panic hit=1 restart-after=500ms on n2
   4.209884s nemesis failpoint commitBeforePreCommitHook panics n2
   4.209884s n2   died: failpoint commitBeforePreCommitHook: panic (fault 1)
   4.209884s n2   crashed: 0 unsynced bytes lost
   4.210434s net  n3->n2 lost: n2 was down or restarted since it was sent
   4.210957s net  n1->n2 lost: n2 was down or restarted since it was sent
   4.709884s nemesis restart n2
   4.709884s n2   restarted: snapshot 1507, backend consistent index 1763, 267 WAL entries after the snapshot, Term:2 Vote:2 Commit:1767, 0 torn bytes cut
   5.529278s n1   raft: 1 became leader at term 3
   6.000000s nemesis begin fault 2: crash at=6s for=652ms who=any on n1
   6.000000s n1   crashed: 116 unsynced bytes lost
   6.000038s net  n3->n1 lost: n1 was down or restarted since it was sent
   6.000038s net  n3->n1 lost: n1 was down or restarted since it was sent
   6.000831s net  c3->n1 lost: n1 was down or restarted since it was sent
   6.001611s net  n2->n1 lost: n1 was down or restarted since it was sent
   6.652000s nemesis restart n1
   6.652000s n1   restarted: snapshot 1808, backend consistent index 1928, 125 WAL entries after the snapshot, Term:3 Vote:1 Commit:1931, 29 torn bytes cut
   7.203000s nemesis end fault 1: failpoint
   7.452605s n2   raft: 2 became leader at term 4
   8.149000s nemesis begin fault 3: failpoint at=8.149s for=3s who=any name=commitBeforePreCommitHook action=panic hit=3 restart-after=500ms on n1
   8.201585s nemesis failpoint commitBeforePreCommitHook panics n1
   8.201585s n1   died: failpoint commitBeforePreCommitHook: panic (fault 3)
   8.201585s n1   crashed: 6 unsynced bytes lost
   8.201915s net  c7->n1 lost: n1 was down or restarted since it was sent
   8.202242s net  n2->n1 lost: n1 was down or restarted since it was sent
   8.701585s nemesis restart n1
   8.701585s n1   restarted: snapshot 2110, backend consistent index 2110, 14 WAL entries after the snapshot, Term:4 Vote:2 Commit:2117, 10 torn bytes cut
   9.733000s nemesis begin fault 4: crash at=9.733s for=950ms who=any on n2
   9.733000s n2   crashed: 31 unsynced bytes lost
   9.733010s net  n3->n2 lost: n2 was down or restarted since it was sent
   9.733010s net  n3->n2 lost: n2 was down or restarted since it was sent
   9.733010s net  n3->n2 lost: n2 was down or restarted since it was sent
   9.733134s net  n1->n2 lost: n2 was down or restarted since it was sent
   9.733460s net  n1->n2 lost: n2 was down or restarted since it was sent
   9.733460s net  n1->n2 lost: n2 was down or restarted since it was sent
  10.683000s nemesis restart n2
  10.683000s n2   restarted: snapshot 2712, backend consistent index 2881, 184 WAL entries after the snapshot, Term:4 Vote:2 Commit:2891, 27 torn bytes cut
  11.149000s nemesis end fault 3: failpoint
  11.386010s n3   raft: 3 became leader at term 5
  26.000000s run  verdict linearizable ok=true: 10976 operations on 5 keys checked (10927 ok, 49 with unknown outcome)
  26.000000s run  verdict raft safety ok=true: one leader per term (4 terms had one); commit indexes never went back; applied entries agree at all 8795 indexes compared; logs match at all 8792 (index, term) pairs two members held; new leaders held every committed entry (3 elections checked)
  26.000000s run  verdict members converged ok=true: live members applied index 8795, revision 8653, store 866a1e625c3e4cc2
  26.000000s run  verdict no member panicked ok=true: no member panicked unless a fault made it
  26.000000s run  verdict members restart from their logs ok=true: 4 restarts, each from the member's own WAL
  26.000000s run  verdict liveness after faults ok=true: faults healed at 11.649s; within 6s: leader n3 +0s, first write +12ms, all members applied index 3026 +0s
