# quota, seed 1: 3 members with a small --quota-backend-bytes fill their backend: a write past the quota raises the NOSPACE alarm, and every member then refuses writes but serves reads and deletes, until an operator compacts, defragments and disarms
# go run ./cmd/etcdlab replay quota --seed 1
   0.641378s n2   raft: 2 became leader at term 2
  12.937000s nemesis begin fault 1: recover-space at=12.937s for=6s
  24.000000s run  verdict linearizable ok=true: 4070 operations on 5 keys checked (4070 ok, 0 with unknown outcome); 1139 unknown writes settled from the applied log
  24.000000s run  verdict raft safety ok=true: one leader per term (1 term had one); commit indexes never went back; applied entries agree at all 2839 indexes compared; logs match at all 2838 (index, term) pairs two members held; new leaders held every committed entry (1 election checked)
  24.000000s run  verdict members converged ok=true: live members applied index 2839, revision 1442, store e37215223509eabf
  24.000000s run  verdict no member panicked ok=true: no member panicked unless a fault made it
  24.000000s run  verdict NOSPACE refuses writes until fault 1 recovers ok=true: 802 writes refused with NOSPACE from 6.596973077s; 833 reads served after; recovery done at 13.021479394s; 598 puts succeeded after it
