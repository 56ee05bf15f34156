package dataplane

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// GTIDSet is a MySQL GTID set ("uuid:1-5:7,uuid2:1-3"): per source server, the
// transaction numbers it holds, as sorted, non-overlapping intervals. Unlike MariaDB,
// MySQL keeps every transaction's identity, so set arithmetic is exact.
type GTIDSet map[string][]interval

type interval struct{ from, to uint64 }

// ParseGTIDSet parses MySQL's textual GTID set; the empty string is the empty set.
func ParseGTIDSet(s string) (GTIDSet, error) {
	set := GTIDSet{}
	for _, part := range strings.Split(strings.ReplaceAll(s, "\n", ""), ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		fields := strings.Split(part, ":")
		if len(fields) < 2 {
			return nil, fmt.Errorf("GTID set element %q has no transaction numbers", part)
		}
		uuid := strings.ToLower(fields[0])
		for _, r := range fields[1:] {
			lo, hi, found := strings.Cut(r, "-")
			from, err := strconv.ParseUint(lo, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("GTID set element %q: %w", part, err)
			}
			to := from
			if found {
				if to, err = strconv.ParseUint(hi, 10, 64); err != nil || to < from {
					return nil, fmt.Errorf("GTID set element %q has a bad interval %q", part, r)
				}
			}
			set[uuid] = append(set[uuid], interval{from, to})
		}
	}
	for uuid, ivs := range set {
		set[uuid] = normalise(ivs)
	}
	return set, nil
}

func normalise(ivs []interval) []interval {
	sort.Slice(ivs, func(i, j int) bool { return ivs[i].from < ivs[j].from })
	var out []interval
	for _, iv := range ivs {
		if n := len(out); n > 0 && iv.from <= out[n-1].to+1 {
			out[n-1].to = max(out[n-1].to, iv.to)
			continue
		}
		out = append(out, iv)
	}
	return out
}

// Subtract returns the transactions of s that other lacks.
func (s GTIDSet) Subtract(other GTIDSet) GTIDSet {
	out := GTIDSet{}
	for uuid, ivs := range s {
		for _, iv := range ivs {
			rest := []interval{iv}
			for _, o := range other[uuid] {
				var next []interval
				for _, r := range rest {
					if o.to < r.from || o.from > r.to {
						next = append(next, r)
						continue
					}
					if o.from > r.from {
						next = append(next, interval{r.from, o.from - 1})
					}
					if o.to < r.to {
						next = append(next, interval{o.to + 1, r.to})
					}
				}
				rest = next
			}
			out[uuid] = append(out[uuid], rest...)
		}
		if len(out[uuid]) == 0 {
			delete(out, uuid)
		}
	}
	return out
}

// String renders the set as MySQL does, servers in order.
func (s GTIDSet) String() string {
	uuids := make([]string, 0, len(s))
	for u := range s {
		uuids = append(uuids, u)
	}
	sort.Strings(uuids)
	parts := make([]string, 0, len(uuids))
	for _, u := range uuids {
		var b strings.Builder
		b.WriteString(u)
		for _, iv := range s[u] {
			if iv.from == iv.to {
				fmt.Fprintf(&b, ":%d", iv.from)
			} else {
				fmt.Fprintf(&b, ":%d-%d", iv.from, iv.to)
			}
		}
		parts = append(parts, b.String())
	}
	return strings.Join(parts, ",")
}

// MySQLContains reports whether GTID set a holds every transaction of b.
func MySQLContains(a, b string) (bool, error) {
	missing, err := mysqlSubtract(b, a)
	return missing == "", err
}

// MySQLErrant lists the transactions member holds that primary lacks.
func MySQLErrant(primary, member string) (string, error) { return mysqlSubtract(member, primary) }

func mysqlSubtract(a, b string) (string, error) {
	sa, err := ParseGTIDSet(a)
	if err != nil {
		return "", err
	}
	sb, err := ParseGTIDSet(b)
	if err != nil {
		return "", err
	}
	return sa.Subtract(sb).String(), nil
}
