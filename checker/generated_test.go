package checker

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// genKV is a key in the generator's store.
type genKV struct {
	value                string
	mod, create, version int64
}

// genOp is an operation and the instant it takes effect.
type genOp struct {
	op   Operation
	at   time.Duration
	lost bool // an unknown write that never took effect
}

// etcdHistory is a history a correct etcd could give: each client calls
// one operation at a time, every operation takes effect at one instant
// between its call and its return, in a store that keeps etcd's revisions,
// and some writes never get a reply (half of those never took effect).
// Without revisions it is the history of a harness that records none:
// gets, puts and deletes, values only.
func etcdHistory(seed uint64, clients, keys, perClient int, revisions bool) []Operation {
	rng := rand.New(rand.NewPCG(seed, 1))
	key := func() string { return fmt.Sprintf("k%d", rng.IntN(keys)) }
	var gen []genOp
	for c := 1; c <= clients; c++ {
		now := time.Duration(rng.IntN(5)) * time.Microsecond
		for i := 0; i < perClient; i++ {
			op := Operation{Client: c, Key: key(), Call: now, Value: fmt.Sprintf("c%d-%d", c, i)}
			p := rng.IntN(100)
			if !revisions {
				p = p * 75 / 100
			}
			switch {
			case p < 40:
				op.Kind, op.Value = Get, ""
			case p < 65:
				op.Kind = Put
			case p < 75:
				op.Kind, op.Value = Delete, ""
			case p < 90:
				op.Kind = CASRev // its expected revision is filled in when it takes effect
			default:
				op.Kind, op.Key = TxnPuts, ""
				op.Keys = []string{key(), key()}
				if op.Keys[0] == op.Keys[1] {
					op.Keys = op.Keys[:1] // etcd refuses a Txn that puts one key twice
				}
				for j := range op.Keys {
					op.Values = append(op.Values, fmt.Sprintf("%s.%d", op.Value, j))
				}
				op.Value = ""
			}
			at := now + time.Duration(1+rng.IntN(5))*time.Microsecond
			op.Return = at + time.Duration(1+rng.IntN(5))*time.Microsecond
			op.Outcome = OK
			g := genOp{op: op, at: at}
			if op.Kind != Get && rng.IntN(100) < 8 {
				g.op.Outcome, g.op.Return = Unknown, time.Hour
				g.lost = rng.IntN(2) == 0
			}
			gen = append(gen, g)
			now = op.Return + time.Duration(rng.IntN(3))*time.Microsecond
		}
	}
	slices.SortStableFunc(gen, func(a, b genOp) int { return cmp.Compare(a.at, b.at) })

	rev := int64(1)
	store := map[string]genKV{}
	lastMod := map[int]map[string]int64{} // what each client last read of each key
	var ops []Operation
	for _, g := range gen {
		op := g.op
		if lastMod[op.Client] == nil {
			lastMod[op.Client] = map[string]int64{}
		}
		put := func(k, v string) {
			kv, ok := store[k]
			if ok {
				store[k] = genKV{value: v, mod: rev, create: kv.create, version: kv.version + 1}
			} else {
				store[k] = genKV{value: v, mod: rev, create: rev, version: 1}
			}
		}
		switch op.Kind {
		case Get:
			kv, ok := store[op.Key]
			op.Found = ok
			if ok {
				op.Result, op.ModRev, op.CreateRev, op.Version = kv.value, kv.mod, kv.create, kv.version
			}
			lastMod[op.Client][op.Key] = kv.mod
		case CASRev:
			op.ExpectModRev = lastMod[op.Client][op.Key]
		}
		if g.lost {
			ops = append(ops, op)
			continue
		}
		switch op.Kind {
		case Put:
			rev++
			put(op.Key, op.Value)
		case TxnPuts:
			rev++
			for i, k := range op.Keys {
				put(k, op.Values[i])
			}
		case Delete:
			if _, ok := store[op.Key]; ok {
				rev++
				delete(store, op.Key)
				op.Found = true
			}
		case CASRev:
			if store[op.Key].mod == op.ExpectModRev {
				rev++
				put(op.Key, op.Value)
				op.Found = true
			}
		}
		op.Rev = rev
		if op.Outcome == Unknown {
			op.Found, op.Rev = false, 0
		}
		if !revisions {
			op.Rev, op.ModRev, op.CreateRev, op.Version = 0, 0, 0, 0
		}
		ops = append(ops, op)
	}
	slices.SortStableFunc(ops, func(a, b Operation) int { return cmp.Compare(a.Return, b.Return) })
	return ops
}

// Histories a correct etcd gives, with open writes, compare-and-set by
// revision and multi-key Txns, all pass, quickly.
func TestGeneratedEtcdHistoriesPass(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		ops := etcdHistory(seed, 8, 4, 50, true)
		v := check(t, ops...)
		require.True(t, v.OK, "seed %d: %s", seed, v.Detail)
	}
}

// The same histories with one read's version off by one fail.
func TestGeneratedEtcdHistoriesWithAWrongVersionFail(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		ops := etcdHistory(seed, 8, 4, 50, true)
		i := slices.IndexFunc(ops, func(op Operation) bool { return op.Kind == Get && op.Found && op.Version > 1 })
		require.GreaterOrEqual(t, i, 0)
		ops[i].Version++
		v := check(t, ops...)
		require.False(t, v.OK, "seed %d", seed)
		require.False(t, v.Undecided, "seed %d", seed)
	}
}

// A history with no revisions recorded is checked on values alone, as
// before the harness recorded them.
func TestGeneratedHistoriesWithoutRevisionsPass(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		ops := etcdHistory(seed, 8, 4, 50, false)
		v := check(t, ops...)
		require.True(t, v.OK, "seed %d: %s", seed, v.Detail)
	}
}
