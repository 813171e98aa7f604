# partition, seed 1: the leader and one follower are cut off from the other 3 of 5; the majority elects a new leader, the old one commits nothing; after healing, logs converge
# go run ./cmd/etcdlab replay partition --seed 1
   1.073622s n5   raft: 5 became leader at term 2
   3.468000s nemesis begin leader isolated with a minority
   3.468000s net  partition [[n5 n1] [n2 n3 n4]]
   4.549710s n4   raft: 4 became leader at term 3
   5.062255s n5   raft warning: 5 stepped down to follower since quorum is not active
   7.862000s nemesis end leader isolated with a minority
   7.862000s net  heal
  16.000000s run  verdict linearizable ok=true: 1683 operations on 5 keys checked (1676 ok, 7 with unknown outcome)
  16.000000s run  verdict raft safety ok=true: one leader per term (2 terms had one); commit indexes never went back; applied entries agree at all 939 indexes compared
  16.000000s run  verdict members converged ok=true: live members applied index 939, revision 902, store 6650599bf111e5bb
  16.000000s run  verdict majority elects new leader ok=true: n4 leads term 3 from 4.55s, 1.082s after 3.468s (bound 3s)
  16.000000s run  verdict old leader commits nothing ok=true: n5 commit index 256 at 3.568s, 256 at heal (7.862s)
