# membership, seed 1: under load, an operator adds a learner to 3 members, promotes it once it has caught up (by snapshot), removes an old member, then the leader; one step meets a partition
# go run ./cmd/etcdlab replay membership --seed 1
   0.641378s n2   raft: 2 became leader at term 2
   2.468000s nemesis begin fault 1: member-add at=2.468s for=8s learner=true
   2.551000s nemesis begin fault 2: member-promote at=2.551s for=8s who=learner on n4
  11.176000s nemesis begin fault 3: member-remove at=11.176s for=8s who=follower on n1
  11.192992s net  n2->n1 lost: n1 was down or restarted since it was sent
  11.193322s net  c4->n1 lost: n1 was down or restarted since it was sent
  16.198000s nemesis begin fault 4: member-remove at=16.198s for=8s who=leader on n2
  16.216241s net  n4->n2 lost: n2 was down or restarted since it was sent
  16.217476s net  n4->n2 lost: n2 was down or restarted since it was sent
  16.631000s nemesis begin fault 5: isolate at=16.631s for=1.762s who=follower on n3
  18.393000s nemesis end fault 5: isolate
  18.933247s n4   raft: 4 became leader at term 3
  36.000000s run  verdict linearizable ok=true: 6828 operations on 5 keys checked (6828 ok, 0 with unknown outcome); 9 unknown writes settled from the applied log
  36.000000s run  verdict raft safety ok=true: one leader per term (2 terms had one); commit indexes never went back; applied entries agree at all 3725 indexes compared; logs match at all 3724 (index, term) pairs two members held; new leaders held every committed entry (2 elections checked)
  36.000000s run  verdict members converged ok=true: live members applied index 3725, revision 3597, store 2ab7cccefb216507
  36.000000s run  verdict no member panicked ok=true: no member panicked unless a fault made it
  36.000000s run  verdict fault 1 done (member-add) ok=true: member add n4 --learner; done by n1 after 1 attempt
  36.000000s run  verdict fault 2 done (member-promote) ok=true: member promote n4; done by n2 after 1 attempt
  36.000000s run  verdict fault 3 done (member-remove) ok=true: member remove n1; done by n3 after 1 attempt
  36.000000s run  verdict fault 4 done (member-remove) ok=true: member remove n2; done by n4 after 1 attempt
  36.000000s run  verdict liveness after faults ok=true: faults healed at 24.198s; within 6s: leader n4 +0s, first write +14ms, all members applied index 2595 +10ms
