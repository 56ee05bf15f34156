package dataplane

import (
	"bytes"
	"slices"
	"testing"
)

func TestStatementsRoundTrip(t *testing.T) {
	stmts := []string{
		"CREATE TABLE `t` (`a` int)",
		"CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n  SELECT 2;\nEND",
		"INSERT INTO `t` VALUES (_binary'a;;b')",
	}
	var buf bytes.Buffer
	buf.WriteString(statementsHeader)
	for _, s := range stmts {
		if err := writeStatement(&buf, s); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	if err := readStatements(&buf, func(s string) error { got = append(got, s); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, stmts) {
		t.Errorf("got %q", got)
	}
	if err := writeStatement(&buf, "a\n;;\nb"); err == nil {
		t.Error("a statement with the delimiter line was written")
	}
	if err := readStatements(bytes.NewBufferString("SELECT 1\n"), func(string) error { return nil }); err == nil {
		t.Error("a truncated file read cleanly")
	}
}

func TestSQLLiteral(t *testing.T) {
	cases := []struct {
		in   []byte
		want string
	}{
		{nil, "NULL"},
		{[]byte{}, "_binary''"},
		{[]byte("it's\n\\ok\r\x00\x1a"), `_binary'it\'s\n\\ok\r\0\Z'`},
	}
	for _, tc := range cases {
		var b bytes.Buffer
		sqlLiteral(&b, tc.in)
		if b.String() != tc.want {
			t.Errorf("%q: %s, want %s", tc.in, b.String(), tc.want)
		}
	}
}
