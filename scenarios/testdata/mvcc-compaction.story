# mvcc-compaction, seed 1: 3 members compact their history every second (periodic auto-compaction) in small batches while members crash inside a compaction (etcd's compaction failpoints); a restarted member resumes the compaction it had scheduled, and watchers re-watch past the crashes without losing an event
# go run ./cmd/etcdlab replay mvcc-compaction --seed 1
   0.641665s n2   raft: 2 became leader at term 2
   4.937000s nemesis begin fault 1: failpoint at=4.937s for=3s who=any name=compactAfterCommitScheduledCompact action=panic hit=1 restart-after=764ms on n2
   5.435040s nemesis failpoint compactAfterCommitScheduledCompact panics n2
   5.435040s n2   died: failpoint compactAfterCommitScheduledCompact: panic (fault 1)
   5.436352s net  n3->n2 lost: n2 was down or restarted since it was sent
   5.436876s net  n3->n2 lost: n2 was down or restarted since it was sent
   6.199040s nemesis restart n2
   6.199040s n2   restarted: snapshot 0, backend consistent index 1209, 1211 WAL entries after the snapshot, Term:2 Vote:2 Commit:1209, 13 torn bytes cut
   6.539194s n2   raft: 2 became leader at term 3
   7.333000s nemesis begin fault 2: failpoint at=7.333s for=3s who=any name=compactAfterCommitBatch action=panic hit=1 restart-after=1.149s on n1
   7.937000s nemesis end fault 1: failpoint
   8.337837s nemesis failpoint compactAfterCommitBatch panics n1
   8.337837s n1   died: failpoint compactAfterCommitBatch: panic (fault 2)
   8.337837s net  n2->n1 lost: n1 was down or restarted since it was sent
   9.486837s nemesis restart n1
   9.486837s n1   restarted: snapshot 0, backend consistent index 1558, 1560 WAL entries after the snapshot, Term:3 Vote:2 Commit:1558, 3 torn bytes cut
   9.487561s net  n2->n1 lost: n1 was down or restarted since it was sent
   9.487561s net  n2->n1 lost: n1 was down or restarted since it was sent
  10.333000s nemesis end fault 2: failpoint
  10.857000s nemesis begin fault 3: failpoint at=10.857s for=3s who=any name=compactBeforeCommitBatch action=panic hit=1 restart-after=584ms on n1
  11.640598s nemesis failpoint compactBeforeCommitBatch panics n1
  11.640598s n1   died: failpoint compactBeforeCommitBatch: panic (fault 3)
  11.642228s net  n2->n1 lost: n1 was down or restarted since it was sent
  11.642228s net  n2->n1 lost: n1 was down or restarted since it was sent
  11.642228s net  n2->n1 lost: n1 was down or restarted since it was sent
  12.224598s nemesis restart n1
  12.224598s n1   restarted: snapshot 0, backend consistent index 2399, 2404 WAL entries after the snapshot, Term:3 Vote:2 Commit:2401, 0 torn bytes cut
  13.857000s nemesis end fault 3: failpoint
  28.000000s run  verdict linearizable ok=true: 10577 operations on 5 keys checked (10577 ok, 0 with unknown outcome); 9 unknown writes settled from the applied log
  28.000000s run  verdict raft safety ok=true: one leader per term (2 terms had one); commit indexes never went back; applied entries agree at all 5757 indexes compared; logs match at all 5756 (index, term) pairs two members held; new leaders held every committed entry (2 elections checked)
  28.000000s run  verdict members converged ok=true: live members applied index 5757, revision 5529, store 7da391d73c80c294
  28.000000s run  verdict no member panicked ok=true: no member panicked unless a fault made it
  28.000000s run  verdict watch ok=true: 3 watchers, 2 re-watches, 16,584 events checked against 5,528 revisions; 80 progress notifications
  28.000000s run  verdict members restart from their disks ok=true: 3 restarts, each from the member's own disk (backend, snapshot, WAL)
  28.000000s run  verdict liveness after faults ok=true: faults healed at 14.441s; within 6s: leader n2 +0s, first write +17ms, all members applied index 3098 +10ms
