# nemesis, seed 1: swarm testing: each seed switches some fault families on (crash, failpoint, network, pause, clock, disk, membership), draws a schedule of them, then heals everything and checks liveness
# go run ./cmd/etcdlab replay nemesis --seed 1
   0.549231s n4   raft: 4 became leader at term 2
   2.586000s nemesis begin fault 1: one-way at=2.586s for=1.738s who=leader to=follower on n4
   2.848000s nemesis begin fault 2: bridge at=2.848s for=3.999s who=any on n1
   4.324000s nemesis end fault 1: one-way
   6.847000s nemesis end fault 2: bridge
   7.162000s nemesis begin fault 3: partition at=7.162s for=2.748s who=leader on n4
   7.993000s nemesis begin fault 4: bridge at=7.993s for=2.474s who=leader on n4
   8.536377s n4   raft warning: 4 stepped down to follower since quorum is not active
   9.910000s nemesis end fault 3: partition
  10.467000s nemesis end fault 4: bridge
  10.685426s n3   raft: 3 became leader at term 3
  27.000000s run  verdict linearizable ok=true: 3574 operations on 5 keys checked (3574 ok, 0 with unknown outcome); 18 unknown writes settled from the applied log
  27.000000s run  verdict raft safety ok=true: one leader per term (2 terms had one); commit indexes never went back; applied entries agree at all 1936 indexes compared; logs match at all 1935 (index, term) pairs two members held; new leaders held every committed entry (2 elections checked)
  27.000000s run  verdict members converged ok=true: live members applied index 1936, revision 1857, store ccb1c318d5cb43f3
  27.000000s run  verdict no member panicked ok=true: no member panicked unless a fault made it
  27.000000s run  verdict liveness after faults ok=true: faults healed at 10.467s; within 6s: leader n3 +220ms, first write +258ms, all members applied index 299 +0s
