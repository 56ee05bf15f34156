package redisconf

import (
	"strings"
	"testing"

	"k8s.io/utils/ptr"

	"github.com/stowage/stowage/api/v1alpha1"
)

func TestRender(t *testing.T) {
	cases := []struct {
		name    string
		p       v1alpha1.RedisPersistence
		params  map[string]string
		want    []string
		wantNot []string
	}{
		{"defaults", v1alpha1.RedisPersistence{}, nil,
			[]string{"appendonly yes\n", "appendfsync everysec\n", "save 3600 1 300 100 60 10000\n", "dir /data\n", "protected-mode no\n",
				"replicaof 127.0.0.1 1\n"}, nil},
		{"rdb off, aof off", v1alpha1.RedisPersistence{AppendOnly: ptr.To(false), RDBSave: ptr.To("")}, nil,
			[]string{"appendonly no\n", "save \"\"\n"}, []string{"appendonly yes"}},
		{"user parameters merged, reserved ones lose", v1alpha1.RedisPersistence{AppendFsync: "always"},
			map[string]string{"maxmemory-policy": "allkeys-lru", "dir": "/tmp"},
			[]string{"maxmemory-policy allkeys-lru\n", "appendfsync always\n", "dir /data\n"}, []string{"dir /tmp"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Render(tc.p, tc.params)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in\n%s", w, got)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(got, w) {
					t.Errorf("unexpected %q in\n%s", w, got)
				}
			}
			// The credentials include comes last so no earlier line can override it.
			if !strings.HasSuffix(got, "include "+AuthFile+"\n") {
				t.Errorf("the auth include is not the last line:\n%s", got)
			}
			if strings.Contains(got, "requirepass") {
				t.Errorf("a password directive is in the ConfigMap:\n%s", got)
			}
		})
	}
}
