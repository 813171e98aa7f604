package lease

import (
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
)

// The lease bucket is what etcd keeps in the backend's "lease" bucket: per
// lease its ID, TTL and RemainingTTL (leasepb.Lease), nothing about
// expiry or keys. A restarted member takes the leases from it and the
// keys from the store, where each key names its lease.
//
// Each lease is encoded as a leasepb.Lease message (ID = 1, TTL = 2,
// RemainingTTL = 3, varints), and the bucket as a message with one
// repeated field 1 holding them, in ID order as bbolt keeps them. etcd
// writes the bucket as each Grant, Revoke and Checkpoint applies; here
// the caller writes Marshal's image with the rest of its backend.
//
// etcd persists a checkpoint's RemainingTTL only from cluster version 3.6
// (or with LeaseCheckpointPersist); a v3.7 cluster always does, so here
// it always is.

// Marshal is the lease bucket's image.
func (le *Lessor) Marshal() []byte {
	var b []byte
	for _, l := range le.leasesByID() {
		var m []byte
		m = appendVarintField(m, 1, int64(l.ID))
		m = appendVarintField(m, 2, l.ttl)
		m = appendVarintField(m, 3, l.remainingTTL)
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendBytes(b, m)
	}
	return b
}

// proto3 leaves zero fields out.
func appendVarintField(b []byte, num protowire.Number, v int64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}

// Recover replaces every lease with those of the bucket image b (etcd's
// Recover and initAndRecover) and attaches the store's keys to them
// (mvcc's restore: every key whose value names a lease). Recovered leases
// never expire until Promote; TTLs under MinLeaseTTL are raised to it;
// checkpointed remaining TTLs are kept for Promote. A key naming a lease
// the bucket lacks is left unattached, as etcd logs and goes on.
//
// Whether this lessor is the primary, and what it has queued, stays as it
// was, as in etcd. An image that cannot be read returns ErrCorrupt and
// changes nothing.
func (le *Lessor) Recover(b []byte, attached map[string]LeaseID) error {
	recovered, err := unmarshalBucket(b)
	if err != nil {
		return err
	}
	le.leaseMap = map[LeaseID]*Lease{}
	le.itemMap = map[LeaseItem]LeaseID{}
	for _, lpb := range recovered {
		l := newLease(lpb.ID, lpb.ttl)
		if l.ttl < le.minLeaseTTL {
			l.ttl = le.minLeaseTTL
		}
		// itemSet will be filled in when recover key-value pairs
		// set expiry to forever, refresh when promoted
		l.remainingTTL = lpb.remainingTTL
		le.leaseMap[l.ID] = l
	}

	keys := make([]string, 0, len(attached))
	for k := range attached { //lint:allow maprange sorted below
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		// etcd logs ErrLeaseNotFound and goes on.
		_ = le.Attach(attached[k], []LeaseItem{{Key: k}})
	}
	return nil
}

// unmarshalBucket reads a bucket image strictly: anything but leasepb's
// three varint fields, a lease without an ID, or an ID twice is corrupt.
func unmarshalBucket(b []byte) ([]*Lease, error) {
	var leases []*Lease
	seen := map[LeaseID]bool{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num != 1 || typ != protowire.BytesType {
			return nil, ErrCorrupt
		}
		b = b[n:]
		m, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return nil, ErrCorrupt
		}
		b = b[n:]
		l, err := unmarshalLease(m)
		if err != nil {
			return nil, err
		}
		if seen[l.ID] {
			return nil, ErrCorrupt
		}
		seen[l.ID] = true
		leases = append(leases, l)
	}
	return leases, nil
}

func unmarshalLease(m []byte) (*Lease, error) {
	l := &Lease{}
	for len(m) > 0 {
		num, typ, n := protowire.ConsumeTag(m)
		if n < 0 || typ != protowire.VarintType {
			return nil, ErrCorrupt
		}
		m = m[n:]
		v, n := protowire.ConsumeVarint(m)
		if n < 0 {
			return nil, ErrCorrupt
		}
		m = m[n:]
		switch num {
		case 1:
			l.ID = LeaseID(v)
		case 2:
			l.ttl = int64(v)
		case 3:
			l.remainingTTL = int64(v)
		default:
			return nil, ErrCorrupt
		}
	}
	if l.ID == NoLease {
		return nil, ErrCorrupt
	}
	return l, nil
}
