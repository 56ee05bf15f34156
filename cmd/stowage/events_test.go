package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stowage/stowage/pkg/events"
)

func TestWatchSubject(t *testing.T) {
	cases := []struct {
		o       watchOptions
		want    string
		wantErr string
	}{
		{watchOptions{output: "text"}, "stowage.events.*.*.*.*", ""},
		{watchOptions{output: "json", namespace: "shop", kind: "MySQLCluster", reason: "Failover"}, "stowage.events.shop.MySQLCluster.*.failover", ""},
		{watchOptions{output: "text", name: "orders", reason: "PrimaryUnreachable"}, "stowage.events.*.*.orders.primary-unreachable", ""},
		{watchOptions{output: "yaml"}, "", "--output must be text or json"},
		{watchOptions{output: "text", namespace: "a.b"}, "", "--namespace"},
	}
	for _, tc := range cases {
		got, err := tc.o.subject()
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%+v: error %v, want one naming %q", tc.o, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%+v: %q %v, want %q", tc.o, got, err, tc.want)
		}
	}
}

func TestPrintEvent(t *testing.T) {
	e := events.New("id", time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC), events.Data{
		Namespace: "shop", Kind: "RedisCluster", Name: "cache", Reason: "Failover", Warning: true, Message: "Promoting cache-1",
	})
	var out bytes.Buffer
	printEvent(&out, e.Marshal(), "text")
	if got := out.String(); !strings.Contains(got, "Warning  shop/RedisCluster/cache  Failover: Promoting cache-1") {
		t.Errorf("text output %q", got)
	}
}
