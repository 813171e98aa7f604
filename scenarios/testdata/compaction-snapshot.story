# compaction-snapshot, seed 1: a follower of 3 is blackholed until the others are --snapshot-count + catch-up entries ahead, so the leader has compacted what it lacks; the leader sends it a snapshot with the backend, and it catches up under load
# go run ./cmd/etcdlab replay compaction-snapshot --seed 1
   0.642122s n2   raft: 2 became leader at term 2
   2.468000s nemesis begin fault 1: blackhole at=2.468s for=16s who=follower on n3
   2.468000s nemesis begin fault 2: failpoint at=2.468s for=16s who=all name=raftAfterSaveSnap action=panic hit=1 restart-after=500ms on n1,n2,n3
  11.768000s nemesis end fault 1: blackhole: the others are at revision 651, n3 at 526, more than 120 behind
  11.785393s nemesis failpoint raftAfterSaveSnap panics n3
  11.785393s n3   died: failpoint raftAfterSaveSnap: panic (fault 2)
  12.285393s nemesis restart n3
  12.285393s n3   restarted: snapshot 506, backend consistent index 552, 47 WAL entries after the snapshot, Term:2 Vote:2 Commit:552, 0 torn bytes cut
  18.468000s nemesis end fault 1: blackhole
  18.468000s nemesis end fault 2: failpoint
  24.000000s run  verdict linearizable ok=true: 6805 operations on 20 keys checked (6805 ok, 0 with unknown outcome); 69 unknown writes settled from the applied log
  24.000000s run  verdict raft safety ok=true: one leader per term (1 term had one); commit indexes never went back; applied entries agree at all 3722 indexes compared; logs match at all 3721 (index, term) pairs two members held; new leaders held every committed entry (1 election checked)
  24.000000s run  verdict members converged ok=true: live members applied index 3722, revision 3595, store f2e5a284412fe580
  24.000000s run  verdict no member panicked ok=true: no member panicked unless a fault made it
  24.000000s run  verdict members restart from their disks ok=true: 1 restart, from the member's own disk (backend, snapshot, WAL)
  24.000000s run  verdict caught up by snapshot after fault 1 ok=true: n3 restored snapshot 890 at 12.311454238s
