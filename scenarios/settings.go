package scenarios

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/etcdlab/etcdlab/disk"
	"github.com/etcdlab/etcdlab/network"
	"github.com/etcdlab/etcdlab/node"
	"github.com/etcdlab/etcdlab/node/lease"
)

// Settings are a run's concrete parameters. Every one has a key, the same
// in an experiment file and as a command-line flag (settingsTable), and
// all of them are printed at the top of a run, so a reader sees exactly
// what was simulated.
type Settings struct {
	Nodes    int           // cluster size
	Duration time.Duration // virtual time the run lasts
	// Settle is the quiet end of the run: no faults, no new client
	// operations, so members can catch up and be compared.
	Settle time.Duration

	Clients       int           // closed-loop clients, one operation at a time each
	Keys          int           // size of the key space, k0..k{Keys-1}
	Workload      Workload      // the operation mix
	ThinkTime     time.Duration // a client waits up to this long between operations
	ClientTimeout time.Duration // a client gives up on an operation after this long, retries included
	Watchers      int           // clients that watch every workload key, with prev_kv and progress notifications
	LeaseHolders  int           // clients that hold leases with keys on them, keep them alive, then let go
	LeaseTTL      time.Duration // the TTL lease holders ask for (whole seconds, as etcd's)

	Link   network.Link // every link without a route of its own
	Routes []Route      // links that differ from Link
	Disk   disk.Config  // every member's disk
	Member node.Config  // every member's config; ID and Peers are filled in per member
}

// Workload is the operation mix in percent. CAS is Jepsen's
// compare-and-set on a register: a Txn that puts a new value if the key
// holds the value the client last saw. Update is kube-apiserver's
// optimistic write (GuaranteedUpdate): a Txn that puts if the key's
// mod_revision is still the one the client last saw (0: it must not
// exist yet, a create), and reads the key otherwise.
//
// Txn is a Txn that puts two keys at once: both must get one revision.
// SGet is a serializable get, served by the member from its own store.
type Workload struct{ Get, SGet, Put, Delete, CAS, Update, Txn int }

// workloads are the mixes --workload knows by name.
var workloads = []struct {
	name string
	mix  Workload
}{
	{"mixed", Workload{Get: 45, Put: 45, Delete: 10}},
	{"write-only", Workload{Put: 100}},
	{"read-heavy", Workload{Get: 90, Put: 10}},
	{"register", Workload{Get: 40, Put: 20, CAS: 40}},
	{"txn", Workload{Get: 40, Put: 20, Delete: 10, Txn: 30}},
	{"kubernetes", Workload{Get: 40, Update: 50, Delete: 10}},
}

func (w Workload) String() string {
	s := fmt.Sprintf("get=%d put=%d delete=%d", w.Get, w.Put, w.Delete)
	if w.SGet != 0 {
		s = fmt.Sprintf("get=%d sget=%d put=%d delete=%d", w.Get, w.SGet, w.Put, w.Delete)
	}
	if w.CAS != 0 {
		s += fmt.Sprintf(" cas=%d", w.CAS)
	}
	if w.Update != 0 {
		s += fmt.Sprintf(" update=%d", w.Update)
	}
	if w.Txn != 0 {
		s += fmt.Sprintf(" txn=%d", w.Txn)
	}
	return s
}

func parseWorkload(s string) (Workload, error) {
	for _, named := range workloads {
		if s == named.name {
			return named.mix, nil
		}
	}
	var w Workload
	args, err := parseArgs(strings.Fields(s), []string{"get", "sget", "put", "delete", "cas", "update", "txn"})
	if err != nil {
		return w, err
	}
	for _, a := range args {
		n, err := strconv.Atoi(a.Value)
		if err != nil || n < 0 || n > 100 {
			return w, fmt.Errorf("%s=%q is not a percentage", a.Key, a.Value)
		}
		switch a.Key {
		case "get":
			w.Get = n
		case "put":
			w.Put = n
		case "cas":
			w.CAS = n
		case "update":
			w.Update = n
		case "txn":
			w.Txn = n
		case "sget":
			w.SGet = n
		default:
			w.Delete = n
		}
	}
	if sum := w.Get + w.SGet + w.Put + w.Delete + w.CAS + w.Update + w.Txn; sum != 100 {
		return w, fmt.Errorf("%q adds up to %d%%, not 100%%", s, sum)
	}
	return w, nil
}

// Route is the link from one member to another, where it differs from the
// cluster's.
type Route struct {
	From, To uint64
	Link     network.Link
}

func (r Route) String() string {
	return fmt.Sprintf("n%d->n%d %s", r.From, r.To, linkArgs(r.Link))
}

func linkArgs(l network.Link) string {
	return fmt.Sprintf("latency=%v jitter=%v drop=%s duplicate=%s", l.Latency, l.Jitter, ratio(l.DropRate), ratio(l.DuplicateRate))
}

func ratio(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// DefaultSettings is a healthy LAN cluster of nodes members with etcd's
// default flags and transports: the base a scenario changes.
func DefaultSettings(nodes int) Settings {
	return Settings{
		Nodes:         nodes,
		Duration:      10 * time.Second,
		Settle:        3 * time.Second,
		Clients:       5,
		Keys:          5,
		Workload:      workloads[0].mix,
		ThinkTime:     20 * time.Millisecond,
		ClientTimeout: 1 * time.Second,
		LeaseTTL:      5 * time.Second,
		Link:          network.Link{Latency: 1 * time.Millisecond, Jitter: 1 * time.Millisecond, BytesPerSec: 125 << 20},
		Disk:          disk.Config{FsyncLatency: 2 * time.Millisecond, FsyncJitter: 2 * time.Millisecond, TornWrites: true},
		Member:        node.DefaultConfig(0, nil),
	}
}

// MaxDuration bounds a run's virtual time: everything a run records stays
// in memory until it ends.
const MaxDuration = 30 * time.Minute

// Validate rejects settings that cannot run, with the reason.
func (s Settings) Validate() error {
	switch {
	case s.Nodes < 1 || s.Nodes > 7:
		return fmt.Errorf("nodes: %d is not between 1 and 7", s.Nodes)
	case s.Duration <= 0:
		return fmt.Errorf("duration: %v must be positive", s.Duration)
	case s.Duration > MaxDuration:
		return fmt.Errorf("duration: %v is longer than the %v a run may last: a run keeps the clients' history (the linearizability check reads it whole), the store's revisions and each member's WAL in memory, about 1 MB a simulated second under load", s.Duration, MaxDuration)
	case s.Settle <= 0:
		return fmt.Errorf("settle: %v must be positive: members are compared after a quiet tail in which they catch up", s.Settle)
	case s.Settle >= s.Duration:
		return fmt.Errorf("duration: %v is too short: the run ends with %v of quiet for members to settle (settle); use more than %v", s.Duration, s.Settle, s.Settle)
	case s.Clients < 0 || s.Clients > 1000:
		return fmt.Errorf("clients: %d is not between 0 and 1000", s.Clients)
	case s.Keys < 1:
		return fmt.Errorf("keys: %d must be at least 1", s.Keys)
	case s.ThinkTime < 0:
		return fmt.Errorf("think-time: %v must not be negative", s.ThinkTime)
	case s.ClientTimeout <= 0:
		return fmt.Errorf("client-timeout: %v must be positive", s.ClientTimeout)
	case s.Watchers < 0 || s.Watchers > 100:
		return fmt.Errorf("watchers: %d is not between 0 and 100", s.Watchers)
	case s.LeaseHolders < 0 || s.LeaseHolders > 100:
		return fmt.Errorf("lease-holders: %d is not between 0 and 100", s.LeaseHolders)
	case s.LeaseTTL < time.Second || s.LeaseTTL%time.Second != 0:
		return fmt.Errorf("lease-ttl: %v must be a whole number of seconds, at least 1s (etcd's TTLs are in seconds)", s.LeaseTTL)
	case int64(s.LeaseTTL/time.Second) > lease.MaxLeaseTTL:
		return fmt.Errorf("lease-ttl: %v is more than etcd's largest TTL, %ds", s.LeaseTTL, lease.MaxLeaseTTL)
	case s.Workload.CAS > 0 && s.Workload.Put+s.Workload.Update+s.Workload.Txn == 0:
		return fmt.Errorf("workload: cas=%d with no put, update or txn: a compare-and-set on a key nobody wrote always fails, so nothing would ever be written", s.Workload.CAS)
	case s.Workload.Txn > 0 && s.Keys < 2:
		return fmt.Errorf("workload: txn=%d puts two keys in one Txn, but keys is %d; use keys 2 or more", s.Workload.Txn, s.Keys)
	case s.Disk.FsyncLatency < 0 || s.Disk.FsyncJitter < 0:
		return fmt.Errorf("fsync: %v and fsync-jitter %v must not be negative", s.Disk.FsyncLatency, s.Disk.FsyncJitter)
	}
	if err := checkLink(s.Link); err != nil {
		return err
	}
	if err := checkTiming(s); err != nil {
		return err
	}
	for _, r := range s.Routes {
		if r.From < 1 || r.To < 1 || r.From > uint64(s.Nodes) || r.To > uint64(s.Nodes) || r.From == r.To {
			return fmt.Errorf("route n%d->n%d: members are n1..n%d, and a route joins two of them", r.From, r.To, s.Nodes)
		}
		l := r.Link
		l.Mode = s.Link.Mode
		if err := checkLink(l); err != nil {
			return fmt.Errorf("route n%d->n%d: %w", r.From, r.To, err)
		}
	}
	m := s.Member
	m.ID, m.Peers = 1, []uint64{1}
	return m.Validate()
}

// checkTiming refuses settings under which time barely moves, which would
// run for hours, or forever, doing millions of operations a virtual second.
func checkTiming(s Settings) error {
	m := s.Member
	switch {
	case m.HeartbeatInterval%time.Millisecond != 0 || m.ElectionTimeout%time.Millisecond != 0:
		return fmt.Errorf("heartbeat-interval %v and election-timeout %v must be whole milliseconds, as etcd's flags are", m.HeartbeatInterval, m.ElectionTimeout)
	case s.Link.Latency < 50*time.Microsecond:
		return fmt.Errorf("link-latency: %v is less than 50µs, faster than a loopback round trip; every operation would take almost no time, and a run would do millions of them", s.Link.Latency)
	case m.BackendBatchInterval < time.Millisecond:
		return fmt.Errorf("backend-batch-interval: %v is less than 1ms; the backend would commit thousands of times a virtual second", m.BackendBatchInterval)
	case s.Disk.FsyncLatency < 10*time.Microsecond:
		return fmt.Errorf("fsync: %v is less than 10µs, faster than any disk's flush", s.Disk.FsyncLatency)
	}
	return nil
}

// checkLink refuses a link that cannot be simulated, or that would hold
// messages past any run: over 10s of latency or jitter, or more than half
// the packets lost on a TCP stream.
func checkLink(l network.Link) error {
	if err := l.Validate(); err != nil {
		return err
	}
	switch {
	case l.Latency > 10*time.Second || l.Jitter > 10*time.Second:
		return fmt.Errorf("latency %v and jitter %v must be at most 10s", l.Latency, l.Jitter)
	case l.Mode == network.Stream && l.DropRate > 0.5:
		return fmt.Errorf("drop %v on the stream transport: TCP repairs loss by retransmitting, and a link losing more than half its packets is as good as cut; use a partition or isolate fault, or transport datagram", l.DropRate)
	}
	return nil
}

// setting is one key of Settings: how to print it and how to set it from
// text, the same for an experiment file's line and a command-line flag.
type setting struct {
	key, doc string
	get      func(*Settings) string
	set      func(*Settings, string) error
}

// settingsTable lists every setting in the order files print them.
var settingsTable = []setting{
	intSetting("nodes", "cluster size (1-7)", func(s *Settings) *int { return &s.Nodes }),
	durSetting("duration", "virtual time the run lasts", func(s *Settings) *time.Duration { return &s.Duration }),
	durSetting("settle", "the quiet end of the run: no faults, no new operations", func(s *Settings) *time.Duration { return &s.Settle }),
	intSetting("clients", "closed-loop clients, one operation at a time each", func(s *Settings) *int { return &s.Clients }),
	intSetting("keys", "size of the key space", func(s *Settings) *int { return &s.Keys }),
	{key: "workload", doc: "operation mix in percent of get, sget (serializable), put, delete, cas, update (kube-apiserver's), txn (two puts); or mixed, write-only, read-heavy, register, kubernetes, txn",
		get: func(s *Settings) string { return s.Workload.String() },
		set: func(s *Settings, v string) (err error) { s.Workload, err = parseWorkload(v); return err }},
	durSetting("think-time", "a client waits up to this long between operations", func(s *Settings) *time.Duration { return &s.ThinkTime }),
	durSetting("client-timeout", "a client gives up on an operation after this long, retries included", func(s *Settings) *time.Duration { return &s.ClientTimeout }),
	intSetting("watchers", "clients that watch every workload key (prev_kv, progress notifications), re-watching from the next revision when their member dies", func(s *Settings) *int { return &s.Watchers }),
	intSetting("lease-holders", "clients that take a lease, put keys on it, keep it alive a while, then revoke it or let it expire", func(s *Settings) *int { return &s.LeaseHolders }),
	durSetting("lease-ttl", "the TTL lease holders grant (etcd raises one below its minimum, 2s with default timing)", func(s *Settings) *time.Duration { return &s.LeaseTTL }),
	{key: "transport", doc: "stream (TCP, as etcd's rafthttp and gRPC: ordered, never duplicated) or datagram (per-message drop, duplicate, reorder: for stress)",
		get: func(s *Settings) string { return s.Link.Mode.String() },
		set: func(s *Settings, v string) (err error) { s.Link.Mode, err = network.ParseMode(v); return err }},
	durSetting("link-latency", "one-way latency of every link", func(s *Settings) *time.Duration { return &s.Link.Latency }),
	durSetting("link-jitter", "extra one-way delay drawn from [0, jitter)", func(s *Settings) *time.Duration { return &s.Link.Jitter }),
	ratioSetting("drop", "probability a packet is lost (datagram: the message is lost; stream: TCP retransmits it)", func(s *Settings) *float64 { return &s.Link.DropRate }),
	ratioSetting("duplicate", "probability a message arrives twice (datagram only; TCP discards duplicates)", func(s *Settings) *float64 { return &s.Link.DuplicateRate }),
	{key: "bandwidth", doc: "bytes per second of every link, e.g. 125MiB/s; 0 for unlimited",
		get: func(s *Settings) string { return formatBandwidth(s.Link.BytesPerSec) },
		set: func(s *Settings, v string) (err error) { s.Link.BytesPerSec, err = parseBandwidth(v); return err }},
	durSetting("fsync", "time an fsync takes", func(s *Settings) *time.Duration { return &s.Disk.FsyncLatency }),
	durSetting("fsync-jitter", "extra fsync time drawn from [0, jitter)", func(s *Settings) *time.Duration { return &s.Disk.FsyncJitter }),
	boolSetting("torn-writes", "a crash may leave part of an unsynced write behind", func(s *Settings) *bool { return &s.Disk.TornWrites }),
	durSetting("heartbeat-interval", "etcd --heartbeat-interval: the member's tick", func(s *Settings) *time.Duration { return &s.Member.HeartbeatInterval }),
	durSetting("election-timeout", "etcd --election-timeout; the server's request timeout follows it (5s + 2 election timeouts)", func(s *Settings) *time.Duration { return &s.Member.ElectionTimeout }),
	boolSetting("pre-vote", "etcd --pre-vote", func(s *Settings) *bool { return &s.Member.PreVote }),
	boolSetting("check-quorum", "raft CheckQuorum (always on in etcd)", func(s *Settings) *bool { return &s.Member.CheckQuorum }),
	boolSetting("initial-election-tick-advance", "etcd --initial-election-tick-advance", func(s *Settings) *bool { return &s.Member.InitialElectionTickAdvance }),
	uintSetting("snapshot-count", "etcd --snapshot-count: applied entries between snapshots to disk, which release the WAL behind them", func(s *Settings) *uint64 { return &s.Member.SnapshotCount }),
	uintSetting("snapshot-catchup-entries", "etcd --snapshot-catchup-entries (--experimental-snapshot-catchup-entries before v3.6): entries raft's log keeps behind a snapshot for slow followers", func(s *Settings) *uint64 { return &s.Member.SnapshotCatchUpEntries }),
	durSetting("backend-batch-interval", "etcd --backend-batch-interval: how often applied writes are committed to the backend file", func(s *Settings) *time.Duration { return &s.Member.BackendBatchInterval }),
	intSetting("backend-batch-limit", "etcd --backend-batch-limit: uncommitted writes that force a backend commit", func(s *Settings) *int { return &s.Member.BackendBatchLimit }),
	intSetting("max-wals", "etcd --max-wals: released WAL segments kept on disk (0 keeps all)", func(s *Settings) *int { return &s.Member.MaxWALs }),
	intSetting("max-snapshots", "etcd --max-snapshots: snapshot files kept on disk (0 keeps all)", func(s *Settings) *int { return &s.Member.MaxSnapshots }),
	intSetting("max-txn-ops", "etcd --max-txn-ops: the most operations in one Txn", func(s *Settings) *int { return &s.Member.MaxTxnOps }),
	uintSetting("max-request-bytes", "etcd --max-request-bytes: the largest request the server proposes", func(s *Settings) *uint64 { return &s.Member.MaxRequestBytes }),
	int64Setting("quota-backend-bytes", "etcd --quota-backend-bytes: backend size past which writes raise the NOSPACE alarm (0: 2 GiB)", func(s *Settings) *int64 { return &s.Member.QuotaBackendBytes }),
	{key: "auto-compaction-mode", doc: "etcd --auto-compaction-mode: periodic or revision",
		get: func(s *Settings) string { return s.Member.AutoCompactionMode },
		set: func(s *Settings, v string) error {
			if v != node.CompactionPeriodic && v != node.CompactionRevision {
				return fmt.Errorf("%q is not periodic or revision", v)
			}
			s.Member.AutoCompactionMode = v
			return nil
		}},
	{key: "auto-compaction-retention", doc: "etcd --auto-compaction-retention: for periodic a duration (1h; a bare number is hours), for revision a number of revisions; 0 is off",
		get: func(s *Settings) string { return s.Member.AutoCompactionRetention },
		set: func(s *Settings, v string) error { s.Member.AutoCompactionRetention = v; return nil }},
	intSetting("compaction-batch-limit", "etcd --compaction-batch-limit (--experimental-compaction-batch-limit before v3.6): revisions one compaction batch removes before it commits", func(s *Settings) *int { return &s.Member.CompactionBatchLimit }),
	intSetting("wal-segment-size", "bytes (at least 1024) after which the WAL starts a new segment file (etcd's wal.SegmentSizeBytes, 64000000)", func(s *Settings) *int { return &s.Member.WALSegmentSize }),
	{key: "bug", doc: "deliberate bugs in every member, comma-separated, or none: " + strings.Join(node.BugNames(), ", "),
		get: func(s *Settings) string {
			if on := s.Member.Bugs.On(); len(on) > 0 {
				return strings.Join(on, ",")
			}
			return "none"
		},
		set: func(s *Settings, v string) error {
			s.Member.Bugs = node.Bugs{}
			if v == "none" {
				return nil
			}
			return s.Member.Bugs.Set(v)
		}},
}

// SettingKeys lists the keys of every setting, in file order.
func SettingKeys() []string {
	keys := make([]string, len(settingsTable))
	for i, s := range settingsTable {
		keys[i] = s.key
	}
	return keys
}

// SettingDoc says what the setting key means, or "" if there is none.
func SettingDoc(key string) string {
	if s, ok := lookupSetting(key); ok {
		return s.doc
	}
	return ""
}

// Set sets one setting from text, as a file line or a flag gives it.
func (s *Settings) Set(key, value string) error {
	st, ok := lookupSetting(key)
	if !ok {
		return fmt.Errorf("unknown setting %q (known: %s)", key, strings.Join(SettingKeys(), ", "))
	}
	if err := st.set(s, strings.TrimSpace(value)); err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	return nil
}

// Get is one setting as text, in the form a file line takes: two
// spellings of one value (1s, 1000ms) get the same text. "" for an
// unknown key.
func (s *Settings) Get(key string) string {
	st, ok := lookupSetting(key)
	if !ok {
		return ""
	}
	return st.get(s)
}

func lookupSetting(key string) (setting, bool) {
	i := slices.IndexFunc(settingsTable, func(s setting) bool { return s.key == key })
	if i < 0 {
		return setting{}, false
	}
	return settingsTable[i], true
}

func uintSetting(key, doc string, field func(*Settings) *uint64) setting {
	return setting{key: key, doc: doc,
		get: func(s *Settings) string { return strconv.FormatUint(*field(s), 10) },
		set: func(s *Settings, v string) error {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return fmt.Errorf("%q is not a whole number from 1 to %d", v, uint64(math.MaxUint64))
			}
			*field(s) = n
			return nil
		}}
}

func intSetting(key, doc string, field func(*Settings) *int) setting {
	return setting{key: key, doc: doc,
		get: func(s *Settings) string { return strconv.Itoa(*field(s)) },
		set: func(s *Settings, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("%q is not a whole number", v)
			}
			*field(s) = n
			return nil
		}}
}

func int64Setting(key, doc string, field func(*Settings) *int64) setting {
	return setting{key: key, doc: doc,
		get: func(s *Settings) string { return strconv.FormatInt(*field(s), 10) },
		set: func(s *Settings, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return fmt.Errorf("%q is not a whole number", v)
			}
			*field(s) = n
			return nil
		}}
}

func durSetting(key, doc string, field func(*Settings) *time.Duration) setting {
	return setting{key: key, doc: doc,
		get: func(s *Settings) string { return field(s).String() },
		set: func(s *Settings, v string) (err error) { *field(s), err = parseDuration(v); return err }}
}

func boolSetting(key, doc string, field func(*Settings) *bool) setting {
	return setting{key: key, doc: doc,
		get: func(s *Settings) string { return strconv.FormatBool(*field(s)) },
		set: func(s *Settings, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%q is not true or false", v)
			}
			*field(s) = b
			return nil
		}}
}

func ratioSetting(key, doc string, field func(*Settings) *float64) setting {
	return setting{key: key, doc: doc,
		get: func(s *Settings) string { return ratio(*field(s)) },
		set: func(s *Settings, v string) (err error) { *field(s), err = parseRatio(v); return err }}
}

func parseDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 100ms or 1.5s", v)
	}
	return d, nil
}

func parseRatio(v string) (float64, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f >= 0 && f <= 1) { // written so that NaN fails too
		return 0, fmt.Errorf("%q is not a probability between 0 and 1", v)
	}
	return f, nil
}

func formatBandwidth(b int64) string {
	switch {
	case b == 0:
		return "0"
	case b%(1<<20) == 0:
		return fmt.Sprintf("%dMiB/s", b>>20)
	case b%(1<<10) == 0:
		return fmt.Sprintf("%dKiB/s", b>>10)
	}
	return fmt.Sprintf("%dB/s", b)
}

func parseBandwidth(v string) (int64, error) {
	num, unit := v, int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"MiB/s", 1 << 20}, {"KiB/s", 1 << 10}, {"B/s", 1}} {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			num, unit = n, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > (1<<40) {
		return 0, fmt.Errorf("%q is not a bandwidth such as 125MiB/s, 512KiB/s or 0", v)
	}
	return n * unit, nil
}
