# nemesis, seed 1: swarm testing: each seed switches some fault families on (crash, failpoint, network, pause, clock, disk), draws a schedule of them, then heals everything and checks liveness
# go run ./cmd/etcdlab replay nemesis --seed 1
   0.548901s n4   raft: 4 became leader at term 2
   4.861000s nemesis begin fault 1: failpoint at=4.861s for=3.668s who=leader name=raftBeforeFollowerSend action=sleep(871ms) hit=12 restart-after=999ms on n4
   8.529000s nemesis end fault 1: failpoint
  10.883000s nemesis begin fault 2: clock at=10.883s for=3.292s who=leader rate=0.8 offset=221ms on n4
  14.175000s nemesis end fault 2: clock
  27.000000s run  verdict linearizable ok=true: 5386 operations on 5 keys checked (5386 ok, 0 with unknown outcome)
  27.000000s run  verdict raft safety ok=true: one leader per term (1 term had one); commit indexes never went back; applied entries agree at all 2902 indexes compared
  27.000000s run  verdict members converged ok=true: live members applied index 2902, revision 2794, store db9ad45d1341cdf4
  27.000000s run  verdict no member panicked ok=true: no member panicked unless a fault made it
  27.000000s run  verdict liveness after faults ok=true: faults healed at 14.175s; within 6s: leader n4 +0s, first write +14ms, all members applied index 1664 +0s
