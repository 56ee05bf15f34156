package dataplane

import (
	"slices"
	"testing"

	"github.com/stowage/stowage/pkg/backup"
)

func TestLoadOrder(t *testing.T) {
	f := func(name string, size int64) backup.File { return backup.File{Name: name, RawSize: size} }
	cases := []struct {
		name  string
		files []backup.File
		want  []string
	}{
		{name: "none"},
		{name: "one table", files: []backup.File{f("data/a/t.0.sql", 5), f("data/a/t.1.sql", 5)},
			want: []string{"data/a/t.0.sql", "data/a/t.1.sql"}},
		{name: "round-robin, biggest table first",
			files: []backup.File{f("data/a/small.0.sql", 1), f("data/a/big.0.sql", 64), f("data/a/big.1.sql", 64), f("data/a/big.2.sql", 3),
				f("data/b/mid.0.sql", 64), f("data/b/mid.1.sql", 10)},
			want: []string{"data/a/big.0.sql", "data/b/mid.0.sql", "data/a/small.0.sql", "data/a/big.1.sql", "data/b/mid.1.sql", "data/a/big.2.sql"}},
		{name: "dots in names", files: []backup.File{f("data/a.b/t.x.0.sql", 1), f("data/a.b/t.0.sql", 2)},
			want: []string{"data/a.b/t.0.sql", "data/a.b/t.x.0.sql"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := loadOrder(tc.files); !slices.Equal(got, tc.want) {
				t.Errorf("loadOrder = %v, want %v", got, tc.want)
			}
		})
	}
}
