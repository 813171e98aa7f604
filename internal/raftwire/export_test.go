package raftwire

import "go.etcd.io/raft/v3/raftpb"

// RecordAppends has f see every message AppendMessage encodes, until the
// returned stop is called.
func RecordAppends(f func(m *raftpb.Message, b []byte)) (stop func()) {
	onAppend = f
	return func() { onAppend = nil }
}
