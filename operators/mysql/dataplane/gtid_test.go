package dataplane

import "testing"

func TestParsePosition(t *testing.T) {
	cases := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"", "", false},
		{"0-1000-42", "0-1000-42", false},
		{" 1-1001-7, 0-1000-42 ", "0-1000-42,1-1001-7", false},
		{"0-1000", "", true},
		{"0-x-1", "", true},
		{"0-1-1,0-2-2", "", true},
	}
	for _, tc := range cases {
		p, err := ParsePosition(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("%q: error %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if err == nil && p.String() != tc.want {
			t.Errorf("%q: %s, want %s", tc.in, p, tc.want)
		}
	}
}

func TestPositionContainsAndBehind(t *testing.T) {
	pos := func(s string) Position {
		p, err := ParsePosition(s)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		a, b     string
		contains bool
		behind   uint64
	}{
		{"0-1000-10", "0-1000-10", true, 0},
		{"0-1000-12", "0-1000-10", true, 0},
		{"0-1000-10", "0-1000-12", false, 2},
		{"0-1001-15", "0-1000-12", true, 0}, // a later transaction from a newer primary
		{"0-1000-10", "0-1000-10,1-1000-3", false, 3},
		{"", "0-1000-1", false, 1},
		{"0-1000-1", "", true, 0},
	}
	for _, tc := range cases {
		if got := pos(tc.a).Contains(pos(tc.b)); got != tc.contains {
			t.Errorf("%q contains %q: %v, want %v", tc.a, tc.b, got, tc.contains)
		}
		if got := pos(tc.a).Behind(pos(tc.b)); got != tc.behind {
			t.Errorf("%q behind %q: %d, want %d", tc.a, tc.b, got, tc.behind)
		}
	}
}
