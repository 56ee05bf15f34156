package mycnf

import (
	"strings"
	"testing"

	"github.com/stowage/stowage/api/v1alpha1"
)

func TestRenderMyCnf(t *testing.T) {
	cases := []struct {
		flavor  v1alpha1.MySQLFlavor
		params  map[string]string
		want    []string
		wantNot []string
	}{
		{v1alpha1.FlavorMariaDB, nil,
			[]string{"[mysqld]", "log_bin = binlog", "gtid_strict_mode = ON", "log_slave_updates = ON", "sync_binlog = 1", "skip_name_resolve = ON", "rpl_semi_sync_slave_enabled = ON"},
			[]string{"gtid_mode", "enforce_gtid_consistency"}},
		{v1alpha1.FlavorMySQL, nil,
			[]string{"gtid_mode = ON", "enforce_gtid_consistency = ON", "log_replica_updates = ON", "plugin_load_add = rpl_semi_sync_source=semisync_source.so;rpl_semi_sync_replica=semisync_replica.so",
				"rpl_semi_sync_replica_enabled = ON"},
			[]string{"gtid_strict_mode"}},
		{v1alpha1.FlavorMariaDB, map[string]string{"max_connections": "500", "sync_binlog": "0", "skip_symbolic_links": ""},
			[]string{"max_connections = 500", "sync_binlog = 1", "\nskip_symbolic_links\n"},
			[]string{"sync_binlog = 0"}},
	}
	for _, tc := range cases {
		got := Render(tc.flavor, tc.params)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s %v: missing %q in\n%s", tc.flavor, tc.params, w, got)
			}
		}
		for _, w := range tc.wantNot {
			if strings.Contains(got, w) {
				t.Errorf("%s %v: unexpected %q in\n%s", tc.flavor, tc.params, w, got)
			}
		}
	}
	if a, b := Render(v1alpha1.FlavorMySQL, map[string]string{"a": "1", "b": "2"}), Render(v1alpha1.FlavorMySQL, map[string]string{"b": "2", "a": "1"}); a != b {
		t.Error("rendering depends on map order, which would roll members for nothing")
	}
}
