package dataplane

import "testing"

func TestParseInfo(t *testing.T) {
	text := "# Replication\r\nrole:slave\r\nmaster_host:db-0.db-headless.ns.svc\r\nmaster_port:6379\r\n" +
		"master_link_status:up\r\nslave_repl_offset:3107\r\nmaster_replid:533122db\r\n\r\n"
	i := parseInfo(text)
	cases := map[string]string{"role": "slave", "master_host": "db-0.db-headless.ns.svc", "master_link_status": "up", "master_replid": "533122db"}
	for k, want := range cases {
		if i[k] != want {
			t.Errorf("%s = %q, want %q", k, i[k], want)
		}
	}
	if i.int("slave_repl_offset") != 3107 || i.int("master_port") != 6379 || i.int("missing") != 0 {
		t.Errorf("numbers: %v", i)
	}
}
