package events

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"

	"github.com/stowage/stowage/api/v1alpha1"
)

func TestNaming(t *testing.T) {
	cases := []struct{ reason, typ string }{
		{"Failover", "failover"}, {"PrimaryUnreachable", "primary-unreachable"}, {"ClusterReady", "cluster-ready"},
		{"SwitchoverForScaleDown", "switchover-for-scale-down"},
	}
	for _, tc := range cases {
		if got := TypeName(tc.reason); got != tc.typ {
			t.Errorf("TypeName(%s) = %s, want %s", tc.reason, got, tc.typ)
		}
	}
	if got := Subject("shop", "MySQLCluster", "orders.v2", "Failover"); got != "stowage.events.shop.MySQLCluster.orders_v2.failover" {
		t.Errorf("subject %s", got)
	}
}

// TestRecorderPublishes records Kubernetes Events through the wrapping recorder on a
// real (embedded) NATS server and reads them back, in order, as CloudEvents JSON.
func TestRecorderPublishes(t *testing.T) {
	bus, err := Embedded("127.0.0.1", -1)
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	sub, err := nats.Connect(bus.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	msgs := make(chan *nats.Msg, 16)
	if _, err := sub.ChanSubscribe(SubjectPrefix+".shop.>", msgs); err != nil {
		t.Fatal(err)
	}
	if err := sub.Flush(); err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	_ = v1alpha1.AddToScheme(scheme)
	_ = corev1.AddToScheme(scheme)
	inner := record.NewFakeRecorder(16)
	rec := NewRecorder(inner, bus, scheme)
	db := &v1alpha1.RedisCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "cache"}}
	rec.Event(db, corev1.EventTypeWarning, "PrimaryUnreachable", "r-0 does not answer")
	rec.Event(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "cache-0"}}, corev1.EventTypeNormal, "Ignored", "pods are not published")
	rec.Eventf(db, corev1.EventTypeWarning, "Failover", "Promoting %s", "cache-1")

	for _, want := range []struct{ subject, typ, message string }{
		{"stowage.events.shop.RedisCluster.cache.primary-unreachable", "dev.stowage.primary-unreachable", "r-0 does not answer"},
		{"stowage.events.shop.RedisCluster.cache.failover", "dev.stowage.failover", "Promoting cache-1"},
	} {
		select {
		case m := <-msgs:
			var e Event
			if err := json.Unmarshal(m.Data, &e); err != nil {
				t.Fatal(err)
			}
			if m.Subject != want.subject || e.Type != want.typ || e.Data.Message != want.message || !e.Data.Warning || e.SpecVersion != "1.0" || e.ID == "" {
				t.Errorf("got %s %+v, want %s %s %q", m.Subject, e, want.subject, want.typ, want.message)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no event on %s", want.subject)
		}
	}
	if n := len(inner.Events); n != 3 {
		t.Errorf("the inner recorder got %d events, want all 3", n)
	}
}
