# compaction-snapshot, seed 1: a follower of 3 is blackholed until the others are --snapshot-count + catch-up entries ahead, so the leader has compacted what it lacks; the leader sends it a snapshot with the backend, and it catches up under load
# go run ./cmd/etcdlab replay compaction-snapshot --seed 1
   0.642122s n2   raft: 2 became leader at term 2
   2.468000s nemesis begin fault 1: blackhole at=2.468s for=10s who=follower on n3
  10.868000s nemesis end fault 1: blackhole: the others are at revision 659, n3 at 538, more than 120 behind
  12.468000s nemesis end fault 1: blackhole
  20.000000s run  verdict linearizable ok=true: 4947 operations on 20 keys checked (4891 ok, 56 with unknown outcome)
  20.000000s run  verdict raft safety ok=true: one leader per term (1 term had one); commit indexes never went back; applied entries agree at all 2712 indexes compared; logs match at all 2709 (index, term) pairs two members held; no new leader after a commit to check
  20.000000s run  verdict members converged ok=true: live members applied index 2712, revision 2609, store 1636ff25b3166d34
  20.000000s run  verdict no member panicked ok=true: no member panicked unless a fault made it
  20.000000s run  verdict caught up by snapshot after fault 1 ok=true: n3 restored snapshot 684 at 10.949390179s
