package node

import "fmt"

// raftLogger sends raft's log into the node's Env, and so into the trace
// with virtual time, in place of raft's default logger, which stamps lines
// with the wall clock. Debug lines are dropped: raft logs every message
// at that level, and the trace already shows each one.
type raftLogger struct{ env Env }

func (l raftLogger) Debug(v ...any)                 {}
func (l raftLogger) Debugf(format string, v ...any) {}
func (l raftLogger) Info(v ...any)                  { l.env.Logf("raft: %s", fmt.Sprint(v...)) }
func (l raftLogger) Infof(format string, v ...any)  { l.env.Logf("raft: "+format, v...) }
func (l raftLogger) Warning(v ...any)               { l.env.Logf("raft warning: %s", fmt.Sprint(v...)) }
func (l raftLogger) Warningf(format string, v ...any) {
	l.env.Logf("raft warning: "+format, v...)
}
func (l raftLogger) Error(v ...any)                 { l.env.Logf("raft error: %s", fmt.Sprint(v...)) }
func (l raftLogger) Errorf(format string, v ...any) { l.env.Logf("raft error: "+format, v...) }

// Fatal and Panic mean raft found its own invariants broken: stop the run
// loudly, with the line in the trace first.
func (l raftLogger) Fatal(v ...any) { l.Panic(v...) }
func (l raftLogger) Fatalf(format string, v ...any) {
	l.Panicf(format, v...)
}
func (l raftLogger) Panic(v ...any) {
	msg := fmt.Sprint(v...)
	l.env.Logf("raft panic: %s", msg)
	panic(msg)
}
func (l raftLogger) Panicf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.env.Logf("raft panic: %s", msg)
	panic(msg)
}
