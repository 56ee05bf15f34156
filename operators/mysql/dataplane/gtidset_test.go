package dataplane

import "testing"

func TestMySQLGTIDSets(t *testing.T) {
	const a, b = "3e11fa47-71ca-11e1-9e33-c80aa9429562", "4f22fb58-82db-22f2-af44-d91bba53a673"
	cases := []struct {
		primary, member string
		errant          string
		contains        bool
	}{
		{"", "", "", true},
		{a + ":1-10", a + ":1-10", "", true},
		{a + ":1-10", a + ":1-5", "", true},
		{a + ":1-10", a + ":1-12", a + ":11-12", false},
		{a + ":1-10", a + ":1-10," + b + ":1", b + ":1", false},
		{a + ":1-3:5-10", a + ":1-10", a + ":4", false},
		{a + ":1-10,\n" + b + ":1-4", b + ":2-3," + a + ":7", "", true},
		{upper(a) + ":1-10", a + ":1-10", "", true},
	}
	for _, tc := range cases {
		errant, err := MySQLErrant(tc.primary, tc.member)
		if err != nil || errant != tc.errant {
			t.Errorf("MySQLErrant(%q, %q) = %q, %v; want %q", tc.primary, tc.member, errant, err, tc.errant)
		}
		if ok, err := MySQLContains(tc.primary, tc.member); err != nil || ok != tc.contains {
			t.Errorf("MySQLContains(%q, %q) = %v, %v", tc.primary, tc.member, ok, err)
		}
	}
	for _, bad := range []string{a, a + ":x", a + ":5-3"} {
		if _, err := ParseGTIDSet(bad); err == nil {
			t.Errorf("ParseGTIDSet(%q) accepted", bad)
		}
	}
}

// upper upper-cases a UUID: MySQL compares them case-insensitively.
func upper(s string) string {
	out := []byte(s)
	for i, c := range out {
		if c >= 'a' && c <= 'f' {
			out[i] = c - 'a' + 'A'
		}
	}
	return string(out)
}
