# nemesis, seed 1: swarm testing: each seed switches some fault families on (crash, failpoint, network, pause, clock, disk), draws a schedule of them, then heals everything and checks liveness
# go run ./cmd/etcdlab replay nemesis --seed 1
   0.549231s n4   raft: 4 became leader at term 2
   2.454000s nemesis begin fault 1: one-way at=2.454s for=2.263s who=follower to=any on n5
   3.197000s nemesis begin fault 2: one-way at=3.197s for=3.952s who=leader to=all on n4
   4.525963s n1   raft: 1 became leader at term 3
   4.717000s nemesis end fault 1: one-way
   5.068000s nemesis begin fault 3: link at=5.068s for=2.538s who=all latency=11ms jitter=27ms drop=0.03 on n1,n2,n3,n4,n5
   7.149000s nemesis end fault 2: one-way
   7.305000s nemesis begin fault 4: isolate at=7.305s for=3.373s who=follower on n2
   7.606000s nemesis end fault 3: link
   9.749000s nemesis begin fault 5: bridge at=9.749s for=2.286s who=leader on n1
  10.678000s nemesis end fault 4: isolate
  12.035000s nemesis end fault 5: bridge
  13.030000s nemesis begin fault 6: one-way at=13.03s for=2.917s who=leader to=follower on n1
  15.947000s nemesis end fault 6: one-way
  27.000000s run  verdict linearizable ok=true: 3070 operations on 5 keys checked (3056 ok, 14 with unknown outcome)
  27.000000s run  verdict raft safety ok=true: one leader per term (2 terms had one); commit indexes never went back; applied entries agree at all 1657 indexes compared; logs match at all 1652 (index, term) pairs two members held; new leaders held every committed entry (1 election checked)
  27.000000s run  verdict members converged ok=true: live members applied index 1657, revision 1589, store ca5d6424eee2c902
  27.000000s run  verdict no member panicked ok=true: no member panicked unless a fault made it
  27.000000s run  verdict liveness after faults ok=true: faults healed at 15.947s; within 6s: leader n1 +0s, first write +111ms, all members applied index 671 +90ms
