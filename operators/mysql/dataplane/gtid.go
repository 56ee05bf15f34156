package dataplane

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Position is a MariaDB GTID position: per replication domain, the last sequence
// number applied ("0-1000-42,1-1001-7"). MariaDB numbers transactions per domain, so one
// position is at least as advanced as another when it is in every domain.
type Position map[uint32]GTID

// GTID is one MariaDB global transaction id.
type GTID struct {
	Domain   uint32
	ServerID uint32
	Seq      uint64
}

// ParsePosition parses a MariaDB GTID position; the empty string is the empty position.
func ParsePosition(s string) (Position, error) {
	p := Position{}
	for _, part := range strings.Split(strings.TrimSpace(s), ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		f := strings.Split(part, "-")
		if len(f) != 3 {
			return nil, fmt.Errorf("GTID %q is not domain-server-sequence", part)
		}
		d, err1 := strconv.ParseUint(f[0], 10, 32)
		srv, err2 := strconv.ParseUint(f[1], 10, 32)
		seq, err3 := strconv.ParseUint(f[2], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("GTID %q has a field that is not a number", part)
		}
		if _, dup := p[uint32(d)]; dup {
			return nil, fmt.Errorf("GTID position %q names domain %d twice", s, d)
		}
		p[uint32(d)] = GTID{Domain: uint32(d), ServerID: uint32(srv), Seq: seq}
	}
	return p, nil
}

// Contains reports whether p has applied everything q has.
func (p Position) Contains(q Position) bool {
	for d, g := range q {
		if p[d].Seq < g.Seq {
			return false
		}
	}
	return true
}

// Behind returns how many transactions p misses of q, summed over domains.
func (p Position) Behind(q Position) uint64 {
	var n uint64
	for d, g := range q {
		if have := p[d].Seq; have < g.Seq {
			n += g.Seq - have
		}
	}
	return n
}

// String renders the position in MariaDB's format, domains in order.
func (p Position) String() string {
	domains := make([]int, 0, len(p))
	for d := range p {
		domains = append(domains, int(d))
	}
	sort.Ints(domains)
	parts := make([]string, len(domains))
	for i, d := range domains {
		g := p[uint32(d)]
		parts[i] = fmt.Sprintf("%d-%d-%d", g.Domain, g.ServerID, g.Seq)
	}
	return strings.Join(parts, ",")
}
