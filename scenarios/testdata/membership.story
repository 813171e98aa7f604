# membership, seed 1: under load, an operator adds a learner to 3 members, promotes it once it has caught up (by snapshot), removes an old member, then the leader; one step meets a partition
# go run ./cmd/etcdlab replay membership --seed 1
   0.641378s n2   raft: 2 became leader at term 2
   2.468000s nemesis begin fault 1: member-add at=2.468s for=5s who=leader learner=true on n2
   2.551000s nemesis begin fault 2: member-promote at=2.551s for=5s who=learner on n4
  11.176000s nemesis begin fault 3: member-remove at=11.176s for=5s who=follower on n1
  11.191565s n1   crashed: 30 unsynced bytes lost
  11.191565s net  n2->n1 lost: n1 was down or restarted since it was sent
  11.191565s net  n2->n1 lost: n1 was down or restarted since it was sent
  11.191981s net  c1->n1 lost: n1 was down or restarted since it was sent
  16.198000s nemesis begin fault 4: member-remove at=16.198s for=5s who=leader on n2
  16.219085s n2   crashed: 5 unsynced bytes lost
  16.219120s net  n3->n2 lost: n2 was down or restarted since it was sent
  16.219120s net  n3->n2 lost: n2 was down or restarted since it was sent
  16.219130s net  n4->n2 lost: n2 was down or restarted since it was sent
  16.631000s nemesis begin fault 5: isolate at=16.631s for=1.762s who=follower on n3
  18.393000s nemesis end fault 5: isolate
  18.931920s n4   raft: 4 became leader at term 3
  32.000000s run  verdict linearizable ok=true: 5906 operations on 5 keys checked (5896 ok, 10 with unknown outcome)
  32.000000s run  verdict raft safety ok=true: one leader per term (2 terms had one); commit indexes never went back; applied entries agree at all 3215 indexes compared; logs match at all 3214 (index, term) pairs two members held; new leaders held every committed entry (2 elections checked)
  32.000000s run  verdict members converged ok=true: live members applied index 3215, revision 3105, store 402896a05e16c0a4
  32.000000s run  verdict no member panicked ok=true: no member panicked unless a fault made it
  32.000000s run  verdict fault 1 done (member-add) ok=true: member add n4 --learner; done by n1 after 1 attempt
  32.000000s run  verdict fault 2 done (member-promote) ok=true: member promote n4; done by n2 after 1 attempt
  32.000000s run  verdict fault 3 done (member-remove) ok=true: member remove n1; done by n3 after 1 attempt
  32.000000s run  verdict fault 4 done (member-remove) ok=true: member remove n2; done by n4 after 1 attempt
  32.000000s run  verdict liveness after faults ok=true: faults healed at 21.198s; within 6s: leader n4 +0s, first write +15ms, all members applied index 2211 +0s
