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
type Operation struct {
	Client  int
	Kind    Kind
	Key     string
	Value   string        // Put, CAS: the value written
	Expect  string        // CAS: the value the key must hold
	Call    time.Duration // when the client sent the request
	Return  time.Duration // when the reply came, or the client gave up
	Outcome Outcome
	Found   bool   // Get: the key existed; Delete: a key was deleted; CAS: it succeeded
	Result  string // Get: the value read, when Found
	// The reply's header, when a reply came: the member that answered,
	// its raft term and the store's revision then.
	Member uint64
	Term   uint64
	Rev    int64
}

// Verdict is one check's judgement of a run.
type Verdict struct {
	Name string // what was checked, e.g. "linearizable"
	OK   bool
	// Undecided: the check gave up within its wall-clock limit, so the
	// run was neither passed nor failed (OK is false: nobody vouches for
	// it). It depends on the machine, never on the run.
	Undecided     bool
	Detail        string // one readable line
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
