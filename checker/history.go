// Package checker judges what clients saw in a run.
//
// Linearizability is etcd's promise for its default reads and for every
// write: each operation appears to take effect at one instant between its
// call and its return, and all clients agree on the order. The checker
// searches for such an order with porcupine; if none exists, some client
// saw something no single-copy store could have shown it (a stale read, a
// lost write), and porcupine's visualization shows the longest orders it
// could find and where they break.
//
// A client often does not learn what happened: the request timed out, the
// reply was lost, the member crashed. Such an operation may or may not
// have taken effect, so the history keeps it with an open end: a write
// with an unknown outcome is free to take effect at any instant after its
// call, or never (porcupine places it after everything else). A read with
// an unknown outcome changed nothing and told nobody anything, so it is
// left out, as is an operation that definitely failed.
//
// # Revisions
//
// etcd answers with more than values: every write that changes the store
// creates the next revision of the whole store, a key carries the
// revision that created it, the one that last modified it and a version
// (the number of puts since its creation), and every reply's header
// names the store's revision when it was served. The model checks all of
// them: a read must see exactly the value, mod and create revisions and
// version the order it is placed in implies, a write must create a
// revision above every one the key was seen at, and a read must be served
// at a revision no lower than the key's last write. A write whose outcome
// is unknown has no revision: the key's revision is then only known to lie
// above the highest the key was seen at, and the first read that reports
// it pins it (see revRange).
//
// # Partitioning by key
//
// porcupine checks each key's operations alone. Revisions are global, so
// is that still sound? Yes: a correct etcd orders every operation by
// revision (a write at the revision it created, a read at the revision
// it was served at, after the write that created it), and that order
// respects real time (see checkRevisions). Its restriction to one key is
// a valid order for that key's model, so every per-key failure is a real
// violation. It is incomplete: an order per key can exist while no
// single global one does. Two things are lost, and checkRevisions, run as
// part of the same "linearizable" verdict, checks them across keys: header
// revisions never go backwards in real time, and no two writes create one
// revision. What stays unchecked: a multi-key Txn whose outcome the
// client never learnt is checked per key, so that its keys share one
// revision, or that it happened on all of its keys or none, is not.
//
// # Segments
//
// porcupine's memory grows with the square of the operations it checks at
// once, so a long run's key is checked in segments, each from the state
// the one before it ended in, cut only where that state is certain: no
// operation open across the cut, and a read, called after every write
// before it had returned, that saw the key whole. segments.go says why
// that is sound; a property test holds it to porcupine's verdict on the
// whole key.
//
// Serializable reads are served from a member's own store and may be
// stale by design: they must not be in a history given to the checker.
package checker

import "time"

// Kind is a KV operation type.
type Kind uint8

// The operations clients issue.
const (
	Put Kind = iota + 1
	Get
	Delete
	// CAS writes Value if the key holds Expect (etcd: a Txn comparing the
	// value, with a Put on success); Found says whether it succeeded, as
	// a Txn's succeeded flag. The cas of Jepsen's etcd register test.
	CAS
	// CASRev writes Value if the key's mod_revision is ExpectModRev, 0
	// meaning the key must not exist (etcd compares a missing key's
	// mod_revision as 0): the Txn kube-apiserver sends for every update
	// and create. Found is its succeeded flag.
	CASRev
	// TxnPuts puts Values[i] at Keys[i] in one Txn: all keys get one
	// revision. It is checked per key, as a put sharing the op's Rev, so
	// a Txn whose writes land in two revisions shows as a key read at a
	// mod_revision that is not the Txn's, and the cross-key check knows
	// the keys' puts are one write, not two creating the same revision.
	TxnPuts
)

func (k Kind) String() string {
	switch k {
	case Put:
		return "put"
	case Get:
		return "get"
	case Delete:
		return "delete"
	case CAS:
		return "cas"
	case CASRev:
		return "cas-rev"
	case TxnPuts:
		return "txn-puts"
	}
	return "unknown kind"
}

// Outcome is what the client learnt.
type Outcome uint8

// The outcomes.
const (
	OK      Outcome = iota + 1 // a reply came with a result
	Failed                     // a reply came with an error that guarantees the operation did not happen
	Unknown                    // no reply, or an error that leaves it open: it may or may not have taken effect
)

func (o Outcome) String() string {
	switch o {
	case OK:
		return "ok"
	case Failed:
		return "failed"
	case Unknown:
		return "unknown"
	}
	return "no outcome"
}

// Operation is one client call as recorded, times in virtual time since
// the run's start.
//
// A revision of 0 means "not recorded": etcd's revisions start at 1 and a
// write creates 2 or more, so a real one is never 0. The checker then
// knows less and checks less, never more.
type Operation struct {
	Client  int
	Kind    Kind
	Key     string
	Value   string        // Put, CAS, CASRev: the value written
	Expect  string        // CAS: the value the key must hold
	Call    time.Duration // when the client sent the request
	Return  time.Duration // when the reply came, or the client gave up
	Outcome Outcome
	Found   bool   // Get: the key existed; Delete: a key was deleted; CAS, CASRev: it succeeded
	Result  string // Get: the value read, when Found
	// The reply's header, when a reply came: the member that answered,
	// its raft term and the store's revision then. For an OK write that
	// changed the store (a Put, a CAS, CASRev or TxnPuts that succeeded, a
	// Delete that deleted) Rev is the revision it created; for any other
	// OK operation the store's revision when it was served. Ignored when
	// the outcome is not OK.
	Member uint64
	Term   uint64
	Rev    int64
	// Get with Found: the key's mod_revision, create_revision and version
	// as read (etcd's mvccpb.KeyValue). All three, or ModRev 0: not recorded.
	ModRev, CreateRev, Version int64
	// CASRev: the mod_revision the key must have, 0 for "must not exist",
	// as kube-apiserver's Txn compares mod_revision.
	ExpectModRev int64
	// TxnPuts: the keys and the values put, one Txn (Key is unused).
	Keys, Values []string
	// Err is the error the client got, "" if none.
	Err string
	// Serializable: a Get served from the member's own store, without
	// ReadIndex. etcd promises it only some state the store went through,
	// so it stays out of the linearizability check (CheckSerializable).
	Serializable bool
}

// Verdict is one check's judgement of a run.
type Verdict struct {
	Name string // what was checked, e.g. "linearizable"
	OK   bool
	// Undecided: the check gave up within its wall-clock limit, so the
	// run was neither passed nor failed (OK is false: nobody vouches for
	// it). It depends on the machine, never on the run.
	Undecided bool
	Detail    string // one readable line
	// At is when the first violation happened, if Timed: a chart marks it.
	// Checks that judge the whole history at the end know no one moment.
	At            time.Duration
	Timed         bool
	Visualization string // path of an HTML explanation of a failure, if one was written
	// VisualizationErr is why the explanation could not be written. It
	// is about the machine, not the run, so it is never in the trace.
	VisualizationErr error
}

// Mark is how reports print a verdict's outcome.
func (v Verdict) Mark() string {
	switch {
	case v.OK:
		return "ok"
	case v.Undecided:
		return "UNDECIDED"
	}
	return "FAIL"
}
