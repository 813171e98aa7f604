# mvcc-compaction, seed 1: 3 members compact their history every second (periodic auto-compaction) in small batches while members crash inside a compaction (etcd's compaction failpoints); a restarted member resumes the compaction it had scheduled, and watchers re-watch past the crashes without losing an event
# go run ./cmd/etcdlab replay mvcc-compaction --seed 1
   0.642066s n2   raft: 2 became leader at term 2
   4.937000s nemesis begin fault 1: failpoint at=4.937s for=3s who=any name=compactAfterCommitScheduledCompact action=panic hit=1 restart-after=764ms on n2
   5.443929s nemesis failpoint compactAfterCommitScheduledCompact panics n2
   5.443929s n2   died: failpoint compactAfterCommitScheduledCompact: panic (fault 1)
   5.444188s net  n1->n2 lost: n2 was down or restarted since it was sent
   5.444424s net  n3->n2 lost: n2 was down or restarted since it was sent
   5.444454s net  n1->n2 lost: n2 was down or restarted since it was sent
   5.444761s net  n3->n2 lost: n2 was down or restarted since it was sent
   5.444798s net  n1->n2 lost: n2 was down or restarted since it was sent
   5.444798s net  n1->n2 lost: n2 was down or restarted since it was sent
   5.444798s net  n1->n2 lost: n2 was down or restarted since it was sent
   5.444798s net  n1->n2 lost: n2 was down or restarted since it was sent
   5.444798s net  n1->n2 lost: n2 was down or restarted since it was sent
   5.444927s net  n3->n2 lost: n2 was down or restarted since it was sent
   5.445080s net  n3->n2 lost: n2 was down or restarted since it was sent
   6.207929s nemesis restart n2
   6.207929s n2   restarted: snapshot 0, backend consistent index 1210, 1212 WAL entries after the snapshot, Term:2 Vote:2 Commit:1211, 19 torn bytes cut
   6.784869s n3   raft: 3 became leader at term 3
   7.333000s nemesis begin fault 2: failpoint at=7.333s for=3s who=any name=compactAfterCommitBatch action=panic hit=1 restart-after=1.149s on n1
   7.937000s nemesis end fault 1: failpoint
   8.087268s nemesis failpoint compactAfterCommitBatch panics n1
   8.087268s n1   died: failpoint compactAfterCommitBatch: panic (fault 2)
   8.088313s net  c6->n1 lost: n1 was down or restarted since it was sent
   9.236268s nemesis restart n1
   9.236268s n1   restarted: snapshot 0, backend consistent index 1492, 1493 WAL entries after the snapshot, Term:3 Vote:3 Commit:1492, 13 torn bytes cut
   9.237356s net  c5->n1 lost: n1 was down or restarted since it was sent
  10.333000s nemesis end fault 2: failpoint
  10.857000s nemesis begin fault 3: failpoint at=10.857s for=3s who=any name=compactBeforeCommitBatch action=panic hit=1 restart-after=584ms on n1
  11.386592s nemesis failpoint compactBeforeCommitBatch panics n1
  11.386592s n1   died: failpoint compactBeforeCommitBatch: panic (fault 3)
  11.970592s nemesis restart n1
  11.970592s n1   restarted: snapshot 0, backend consistent index 2310, 2312 WAL entries after the snapshot, Term:3 Vote:3 Commit:2310, 19 torn bytes cut
  11.971144s net  n3->n1 lost: n1 was down or restarted since it was sent
  11.971758s net  n3->n1 lost: n1 was down or restarted since it was sent
  11.971758s net  n3->n1 lost: n1 was down or restarted since it was sent
  13.857000s nemesis end fault 3: failpoint
  28.000000s run  verdict linearizable ok=true: 10461 operations on 5 keys checked (10461 ok, 0 with unknown outcome); 10 unknown writes settled from the applied log
  28.000000s run  verdict raft safety ok=true: one leader per term (2 terms had one); commit indexes never went back; applied entries agree at all 5730 indexes compared; logs match at all 5729 (index, term) pairs two members held; new leaders held every committed entry (2 elections checked)
  28.000000s run  verdict members converged ok=true: live members applied index 5730, revision 5534, store 597a3e6204e67438
  28.000000s run  verdict no member panicked ok=true: no member panicked unless a fault made it
  28.000000s run  verdict watch ok=true: 3 watchers, 1 re-watch, 16,547 events checked against 5,533 revisions; 80 progress notifications
  28.000000s run  verdict members restart from their disks ok=true: 3 restarts, each from the member's own disk (backend, snapshot, WAL)
  28.000000s run  verdict liveness after faults ok=true: faults healed at 14.441s; within 6s: leader n3 +0s, first write +14ms, all members applied index 3079 +10ms
