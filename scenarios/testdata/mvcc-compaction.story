# mvcc-compaction, seed 1: 3 members compact their history every second (periodic auto-compaction) in small batches while members crash inside a compaction (etcd's compaction failpoints); a restarted member resumes the compaction it had scheduled, and watchers re-watch past the crashes without losing an event
# go run ./cmd/etcdlab replay mvcc-compaction --seed 1
   0.642066s n2   raft: 2 became leader at term 2
   4.937000s nemesis begin fault 1: failpoint at=4.937s for=3s who=any name=compactAfterCommitScheduledCompact action=panic hit=1 restart-after=764ms on n2
   5.436870s nemesis failpoint compactAfterCommitScheduledCompact panics n2
   5.436870s n2   died: failpoint compactAfterCommitScheduledCompact: panic (fault 1)
   5.437889s net  n3->n2 lost: n2 was down or restarted since it was sent
   6.200870s nemesis restart n2
   6.200870s n2   restarted: snapshot 0, backend consistent index 1217, 1221 WAL entries after the snapshot, Term:2 Vote:2 Commit:1218, 13 torn bytes cut
   6.539691s n2   raft: 2 became leader at term 3
   7.333000s nemesis begin fault 2: failpoint at=7.333s for=3s who=any name=compactAfterCommitBatch action=panic hit=1 restart-after=1.149s on n1
   7.937000s nemesis end fault 1: failpoint
   8.342279s nemesis failpoint compactAfterCommitBatch panics n1
   8.342279s n1   died: failpoint compactAfterCommitBatch: panic (fault 2)
   8.342549s net  n2->n1 lost: n1 was down or restarted since it was sent
   9.491279s nemesis restart n1
   9.491279s n1   restarted: snapshot 0, backend consistent index 1606, 1618 WAL entries after the snapshot, Term:3 Vote:2 Commit:1613, 0 torn bytes cut
  10.333000s nemesis end fault 2: failpoint
  10.857000s nemesis begin fault 3: failpoint at=10.857s for=3s who=any name=compactBeforeCommitBatch action=panic hit=1 restart-after=584ms on n1
  11.641978s nemesis failpoint compactBeforeCommitBatch panics n1
  11.641978s n1   died: failpoint compactBeforeCommitBatch: panic (fault 3)
  11.643508s net  n2->n1 lost: n1 was down or restarted since it was sent
  11.643508s net  n2->n1 lost: n1 was down or restarted since it was sent
  12.225978s nemesis restart n1
  12.225978s n1   restarted: snapshot 0, backend consistent index 2440, 2445 WAL entries after the snapshot, Term:3 Vote:2 Commit:2442, 0 torn bytes cut
  12.226195s net  n2->n1 lost: n1 was down or restarted since it was sent
  13.857000s nemesis end fault 3: failpoint
  28.000000s run  verdict linearizable ok=true: 10598 operations on 5 keys checked (10598 ok, 0 with unknown outcome); 9 unknown writes settled from the applied log
  28.000000s run  verdict raft safety ok=true: one leader per term (2 terms had one); commit indexes never went back; applied entries agree at all 5808 indexes compared; logs match at all 5807 (index, term) pairs two members held; new leaders held every committed entry (2 elections checked)
  28.000000s run  verdict members converged ok=true: live members applied index 5808, revision 5589, store f9a6f9ea5861a779
  28.000000s run  verdict no member panicked ok=true: no member panicked unless a fault made it
  28.000000s run  verdict watch ok=true: 3 watchers, 1 re-watch, 16,712 events checked against 5,588 revisions; 81 progress notifications
  28.000000s run  verdict members restart from their disks ok=true: 3 restarts, each from the member's own disk (backend, snapshot, WAL)
  28.000000s run  verdict liveness after faults ok=true: faults healed at 14.441s; within 6s: leader n2 +0s, first write +16ms, all members applied index 3139 +10ms
