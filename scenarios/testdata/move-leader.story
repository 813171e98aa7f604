# move-leader, seed 1: under load, an operator moves leadership of 3 members to a follower (etcdctl move-leader); raft's leader transfer hands it over without an election timeout
# go run ./cmd/etcdlab replay move-leader --seed 1
   0.641378s n2   raft: 2 became leader at term 2
   2.937000s nemesis begin fault 1: move-leader at=2.937s for=3s who=follower on n3
   2.953218s n3   raft: 3 became leader at term 3
  10.000000s run  verdict linearizable ok=true: 1415 operations on 5 keys checked (1415 ok, 0 with unknown outcome); 2 unknown writes settled from the applied log
  10.000000s run  verdict raft safety ok=true: one leader per term (2 terms had one); commit indexes never went back; applied entries agree at all 763 indexes compared; logs match at all 762 (index, term) pairs two members held; new leaders held every committed entry (2 elections checked)
  10.000000s run  verdict members converged ok=true: live members applied index 763, revision 740, store b9e125bd5a187a6b
  10.000000s run  verdict no member panicked ok=true: no member panicked unless a fault made it
  10.000000s run  verdict fault 1 done (move-leader) ok=true: move-leader n3; done by n2 after 1 attempt
  10.000000s run  verdict fault 1's member leads ok=true: n3 leads term 3 from 2.953219s, 16.219ms after the request
