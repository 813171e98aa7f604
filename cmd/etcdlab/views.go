package main

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/etcdlab/etcdlab/checker"
	"github.com/etcdlab/etcdlab/scenarios"
)

// Views of a run for replay: a filter on the streamed trace, a Mermaid
// sequence diagram of a time window, and Chrome trace-event JSON for
// Perfetto.

// traceLine is a trace line taken apart: "  7.878752s net  n3->n5 ...".
var traceLine = regexp.MustCompile(`^ *([0-9]+\.[0-9]{6})s (\S+) +(.*)$`)

// netLine is a message on the network: "n3->n5 +1.972ms: 3->5 MsgApp ...",
// "n3->n1 blocked (isolate): ...", "n1->n2 lost: ...".
// entryLine is one entry of a many-entry message, or the ] that closes
// it: indented under the message's line.
var entryLine = regexp.MustCompile(`^ *[0-9]+\.[0-9]{6}s net {4}(\]|[0-9]+/[0-9]+ )`)

var netLine = regexp.MustCompile(`^(\S+)->(\S+) (\+\S+|blocked[^:]*|lost[^:]*?|refused)(?: and duplicate \+\S+)?(?: \([^)]*\))?: (.*)$`)

// filter keeps the lines of a replay that --node, --type, --from and
// --to ask for.
type filter struct {
	node     string // a member or client: lines it logged, and messages to or from it
	typ      string // a raft message type (MsgApp), or client, fault, verdict
	from, to time.Duration
	// kept is whether the last message line was kept: a message of many
	// entries goes on over lines of its own, which follow it.
	kept bool
}

func (f filter) empty() bool { return f.node == "" && f.typ == "" && f.from == 0 && f.to == 0 }

func (f *filter) keep(line string) bool {
	m := traceLine.FindStringSubmatch(line)
	if m == nil {
		return f.empty()
	}
	if entryLine.MatchString(line) {
		return f.kept // an entry of the message above, or its closing ]
	}
	f.kept = f.decide(m)
	return f.kept
}

func (f *filter) decide(m []string) bool {
	at, _ := strconv.ParseFloat(m[1], 64)
	t := time.Duration(at * float64(time.Second))
	if t < f.from || (f.to > 0 && t > f.to) {
		return false
	}
	who, msg := m[2], m[3]
	if f.node != "" && who != f.node {
		n := netLine.FindStringSubmatch(msg)
		if who != "net" || n == nil || (n[1] != f.node && n[2] != f.node) {
			return false
		}
	}
	switch f.typ {
	case "":
		return true
	case "client":
		return strings.HasPrefix(who, "c")
	case "fault":
		return who == "nemesis"
	case "verdict":
		return who == "run" && strings.HasPrefix(msg, "verdict ")
	}
	return strings.Contains(msg, " "+f.typ+" ")
}

// mermaid writes a sequence diagram of the messages in [from, to]: one
// participant per member and client, an arrow per message sent (a
// crossed one for a message blocked or lost), the nemesis as notes.
func mermaid(w io.Writer, trace []string, f filter) error {
	var body []string
	var who []string
	add := func(p string) {
		if !slices.Contains(who, p) {
			who = append(who, p)
		}
	}
	for _, line := range trace {
		if !f.keep(line) {
			continue
		}
		m := traceLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		switch src, msg := m[2], m[3]; {
		case src == "net":
			n := netLine.FindStringSubmatch(msg)
			if n == nil {
				continue
			}
			add(n[1])
			add(n[2])
			arrow := "->>"
			if !strings.HasPrefix(n[3], "+") {
				arrow = "-x"
			}
			body = append(body, fmt.Sprintf("    %s%s%s: %s %s", n[1], arrow, n[2], m[1], mermaidText(n[4])))
		case src == "nemesis":
			if len(who) > 0 {
				body = append(body, fmt.Sprintf("    Note over %s,%s: %s %s", who[0], who[len(who)-1], m[1], mermaidText(msg)))
			}
		}
	}
	if len(body) == 0 {
		return fmt.Errorf("no message in the window: widen --from/--to or drop --node/--type")
	}
	fmt.Fprintln(w, "sequenceDiagram")
	for _, p := range who {
		fmt.Fprintf(w, "    participant %s\n", p)
	}
	for _, l := range body {
		fmt.Fprintln(w, l)
	}
	return nil
}

// mermaidText keeps a label short and free of what Mermaid reads as
// syntax.
func mermaidText(s string) string {
	s = strings.NewReplacer(";", ",", "#", "no.", ":", " ", "\"", "'", "<-", "←", "<", "‹", ">>", "»").Replace(s)
	if len(s) > 80 {
		s = s[:79] + "…"
	}
	return s
}

// chromeEvent is one event of Chrome's trace-event format.
type chromeEvent struct {
	Name  string         `json:"name"`
	Phase string         `json:"ph"`
	TS    float64        `json:"ts"` // microseconds
	Dur   float64        `json:"dur,omitempty"`
	PID   int            `json:"pid"`
	TID   int            `json:"tid"`
	Scope string         `json:"s,omitempty"`
	Args  map[string]any `json:"args,omitempty"`
}

// diskFiles are the files whose fsyncs get a track of their own under
// each member (fsyncs of two files run side by side).
var diskFiles = []string{"wal", "db", "snap"}

// diskTID is the track of a member's fsyncs of one kind of file.
func diskTID(member uint64, kind string) int {
	file := 2 // a .snap file, or a received backend
	switch {
	case strings.Contains(kind, "member/wal/"):
		file = 0
	case strings.HasSuffix(kind, "member/snap/db"):
		file = 1
	}
	return 1000 + 10*int(member) + file
}

const (
	membersPID = 1
	clientsPID = 2
	faultsPID  = 3
)

// chromeTrace writes the run as Chrome trace-event JSON (open it in
// Perfetto): a track per member with its terms as leader as spans and its
// applies as instants, a track of its fsyncs under it, a track per client
// with its operations as spans, and the faults as spans on their own
// track and instants over everything.
func chromeTrace(w io.Writer, r *scenarios.Result) error {
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	end := r.Settings.Duration
	var evs []chromeEvent
	meta := func(pid, tid int, kind, name string) {
		evs = append(evs, chromeEvent{Name: kind, Phase: "M", PID: pid, TID: tid, Args: map[string]any{"name": name}})
	}
	meta(membersPID, 0, "process_name", "members")
	meta(clientsPID, 0, "process_name", "clients")
	meta(faultsPID, 0, "process_name", "faults")
	for i := range r.Settings.Nodes {
		meta(membersPID, i+1, "thread_name", fmt.Sprintf("n%d", i+1))
		for f, name := range diskFiles {
			meta(membersPID, 1000+10*(i+1)+f, "thread_name", fmt.Sprintf("n%d fsync %s", i+1, name))
		}
	}
	for _, sp := range r.Spans {
		switch {
		case sp.Kind == "apply":
			evs = append(evs, chromeEvent{Name: fmt.Sprintf("apply %d..%d", sp.Index, sp.Index+uint64(sp.Entries)-1), Phase: "i",
				TS: us(sp.Start), PID: membersPID, TID: int(sp.Member), Scope: "t"})
		default:
			evs = append(evs, chromeEvent{Name: sp.Kind, Phase: "X", TS: us(sp.Start), Dur: max(us(sp.End-sp.Start), 1),
				PID: membersPID, TID: diskTID(sp.Member, sp.Kind)})
		}
	}
	for i, lc := range r.LeaderChanges {
		until := end
		for _, next := range r.LeaderChanges[i+1:] {
			if next.Term > lc.Term {
				until = next.At
				break
			}
		}
		evs = append(evs, chromeEvent{Name: fmt.Sprintf("leader, term %d", lc.Term), Phase: "X", TS: us(lc.At), Dur: us(until - lc.At),
			PID: membersPID, TID: int(lc.Member)})
	}
	for _, f := range r.Faults {
		if !f.Fired {
			continue
		}
		evs = append(evs, chromeEvent{Name: f.Hit(), Phase: "X", TS: us(f.Start), Dur: max(us(f.End-f.Start), 1), PID: faultsPID, TID: f.Index,
			Args: map[string]any{"fault": f.Fault.String(), "note": f.Note}})
		evs = append(evs, chromeEvent{Name: f.Hit(), Phase: "i", TS: us(f.Start), PID: faultsPID, TID: f.Index, Scope: "g"})
	}
	clients := map[int]bool{}
	for _, op := range r.History {
		if !clients[op.Client] {
			clients[op.Client] = true
			meta(clientsPID, op.Client, "thread_name", fmt.Sprintf("c%d", op.Client))
		}
		args := map[string]any{"outcome": op.Outcome.String()}
		if op.Member != 0 {
			args["member"] = fmt.Sprintf("n%d", op.Member)
			args["revision"] = op.Rev
		}
		if op.Err != "" {
			args["error"] = op.Err
		}
		evs = append(evs, chromeEvent{Name: scenarios.OpType(op) + " " + op.Key, Phase: "X", TS: us(op.Call),
			Dur: max(us(op.Return-op.Call), 1), PID: clientsPID, TID: op.Client, Args: args})
	}
	return json.NewEncoder(w).Encode(map[string]any{"traceEvents": evs, "displayTimeUnit": "ms"})
}

// opLife picks out of a trace the life of one client request, as the
// trace shows it: the client's send (and retries) and the reply, found by
// the request's ID; the raft entry that carries a write — the first one
// with the write's description after the send (a write's value is unique
// to its client and count), then that entry alone, by its term and index;
// and when the entry was committed: the first message of the leader of
// that term whose commit index covers it. A write whose entry was lost
// (a deposed leader's) shows no commit.
func opLife(trace []string, id string) ([]string, error) {
	id = strings.TrimPrefix(id, "#")
	tag := "#" + id
	var desc, client string
	var sent time.Duration
	for _, line := range trace {
		if m := traceLine.FindStringSubmatch(line); m != nil && m[2] == "net" && strings.Contains(line, tag) {
			if n := netLine.FindStringSubmatch(m[3]); n != nil {
				desc, _, _ = strings.Cut(n[4], " "+tag)
				client = n[1]
				sent = lineTime(m[1])
				break
			}
		}
	}
	if desc == "" {
		return nil, fmt.Errorf("no request %s in the trace (IDs are printed after #, e.g. put k3=c1-141 #10000010000008d)", tag)
	}
	write := !strings.HasPrefix(desc, "range ")
	entry := regexp.MustCompile(`(\d+)/(\d+) EntryNormal ` + regexp.QuoteMeta(desc) + `(?:\]|$)`)
	commit := regexp.MustCompile(`^\d+->\d+ \S+ Term:(\d+) .*Commit:(\d+)`)
	var life []string
	var term, index string
	var at uint64
	committed, done := false, false
	for _, line := range trace {
		t := traceLine.FindStringSubmatch(line)
		if t == nil || lineTime(t[1]) < sent {
			continue
		}
		switch {
		case strings.Contains(line, tag):
			life = append(life, line)
		case write && term == "" && strings.Contains(line, "EntryNormal "+desc):
			if m := entry.FindStringSubmatch(line); m != nil && m[1] != "0" {
				term, index = m[1], m[2] // the leader gave it a place in its log
				at, _ = strconv.ParseUint(index, 10, 64)
			}
			life = append(life, line)
		case term != "" && strings.Contains(line, term+"/"+index+" EntryNormal "+desc):
			life = append(life, line)
		case term != "" && !committed && t[2] == "net":
			if n := netLine.FindStringSubmatch(t[3]); n != nil {
				if m := commit.FindStringSubmatch(n[4]); m != nil && m[1] == term {
					if c, _ := strconv.ParseUint(m[2], 10, 64); c >= at {
						committed = true
						life = append(life, line+fmt.Sprintf("   <- entry %s/%s committed by then", term, index))
					}
				}
			}
		}
		// The client's own lines about it, until it is done.
		if !done && t[2] == client && strings.HasPrefix(t[3], clientOpText(desc)) {
			life = append(life, line)
			done = !strings.Contains(t[3], "retrying")
		}
	}
	return life, nil
}

func lineTime(s string) time.Duration {
	f, _ := strconv.ParseFloat(s, 64)
	return time.Duration(f * float64(time.Second))
}

// clientOpText is how a client's own log line begins for a request it
// described as desc: "put k3=c1-141" logs "put k3=c1-141: ok ...".
func clientOpText(desc string) string {
	if k, ok := strings.CutPrefix(desc, "range "); ok {
		return "get " + k
	}
	return desc + ":"
}

// porcupinePage writes porcupine's page of the keys asked for (the key a
// failed linearizability check names, else k0), annotated with the
// run's faults and leader changes.
func porcupinePage(r *scenarios.Result, keys []string, path string) error {
	if len(keys) == 0 {
		keys = []string{"k0"}
		for _, v := range r.Failed() {
			if m := failedKey.FindStringSubmatch(v.Detail); v.Name == "linearizable" && m != nil {
				keys = []string{m[1]}
			}
		}
	}
	var notes []checker.Annotation
	for _, f := range r.Faults {
		if f.Fired {
			notes = append(notes, checker.Annotation{Tag: "faults", Start: f.Start, End: f.End, Text: f.Hit(),
				Details: f.Fault.String() + "; " + f.Note, Color: "#ffd6d6"})
		}
	}
	for _, lc := range r.LeaderChanges {
		notes = append(notes, checker.Annotation{Tag: "leaders", Start: lc.At, End: lc.At,
			Text: fmt.Sprintf("n%d leads term %d", lc.Member, lc.Term), Color: "#e6dcf5"})
	}
	title := fmt.Sprintf("etcdlab: %s, seed %d, %s", r.Source, r.Seed(), strings.Join(keys, ", "))
	return checker.Visualize(r.Checked, keys, notes, title, path)
}

var failedKey = regexp.MustCompile(`key (\S+) \(\d+ operations\) has no valid order`)
