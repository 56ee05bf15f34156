package nats

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/record"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/internal/dbtest"
	"github.com/stowage/stowage/operators/nats/dataplane"
)

// loopbackMember is one member of the operator's configuration run as a process on
// loopback: the same block, with listen addresses and paths moved into the test.
type loopbackMember struct {
	name                                  string
	port, httpPort, clusterPort, leafPort int
	server                                *dbtest.NATSServer
	env                                   map[string]string
	dir                                   string
}

func (m *loopbackMember) localize(conf block) block {
	out := make(block, 0, len(conf))
	for _, e := range conf {
		switch e.key {
		case "listen":
			e.value = fmt.Sprintf("127.0.0.1:%d", m.port)
		case "http":
			e.value = fmt.Sprintf("127.0.0.1:%d", m.httpPort)
		case "pid_file":
			e.value = filepath.Join(m.dir, "nats.pid")
		case "cluster", "jetstream", "leafnodes":
			inner := block{}
			for _, ie := range e.value.(block) {
				switch ie.key {
				case "listen":
					ie.value = fmt.Sprintf("127.0.0.1:%d", m.clusterPort)
				case "store_dir":
					ie.value = filepath.Join(m.dir, "jetstream")
				case "port":
					ie.value = int64(m.leafPort)
				}
				inner = append(inner, ie)
			}
			e.value = inner
		}
		out = append(out, e)
	}
	return out
}

func (m *loopbackMember) environ() []string {
	var out []string
	for k, v := range m.env {
		out = append(out, k+"="+v)
	}
	return out
}

// varz reads the server's monitoring endpoint, as an operator-independent witness.
func (m *loopbackMember) varz(t *testing.T) map[string]any {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/varz", m.httpPort))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// startLoopbackCluster runs the operator's rendered configuration of c on three
// nats-server processes, routed to each other on loopback.
func startLoopbackCluster(t *testing.T, c *v1alpha1.NATSCluster, otherSecrets map[string]map[string][]byte) []*loopbackMember {
	t.Helper()
	if testing.Short() {
		t.Skip("data-plane: skipped with -short")
	}
	bp := blueprint(t, c)
	secret := map[string][]byte{KeyPassword: []byte("20261122"), KeyRoutePassword: []byte("r0ute-1"), KeySystemPassword: []byte("sys Secret, 1"),
		KeyLeafPassword: []byte("leaf-1"), KeyGatewayPassword: []byte("gateway-1")}
	lookup := func(name string) (map[string][]byte, error) {
		if name == bp.SecretName {
			return secret, nil
		}
		return otherSecrets[name], nil
	}
	members := make([]*loopbackMember, c.Spec.Replicas)
	for i := range members {
		members[i] = &loopbackMember{name: bp.Names().Pod(i), port: dbtest.FreePort(t), httpPort: dbtest.FreePort(t),
			clusterPort: dbtest.FreePort(t), leafPort: dbtest.FreePort(t)}
	}
	for i, m := range members {
		env, err := memberEnv(bp, lookup, m.name)
		if err != nil {
			t.Fatal(err)
		}
		// Routes to the other processes' loopback ports; ordinals past the cluster
		// lead nowhere, as they do in a cluster of that size.
		for j := 0; j < v1alpha1.MaxReplicas; j++ {
			port := 1
			if j < len(members) {
				port = members[j].clusterPort
			}
			env[routeEnv(j)] = fmt.Sprintf(`"nats://%s:%s@127.0.0.1:%d"`, routeUser, secret[KeyRoutePassword], port)
		}
		m.env = env
		m.dir = t.TempDir()
		_ = i
	}
	for _, m := range members {
		m.server = dbtest.StartNATSServer(t, m.port, m.localize(serverConf(c)).render(), m.environ()...)
	}
	return members
}

// TestDataPlaneConfigReload runs the operator's own configuration on three real
// nats-servers and checks what the reload path rests on and does:
//   - the digest the operator computes equals the config_digest each server reports;
//   - after the files change (scaling to 5 and a reloadable parameter), the reloader
//     asks each server to reload, and each then runs the new configuration — no
//     restart, its process is the same — with a ConfigReloaded event;
//   - a change a running server refuses is reported with the server's reason.
func TestDataPlaneConfigReload(t *testing.T) {
	c := natsCluster(3, true, map[string]string{"max_payload": "1048576"})
	c.Name = "bus"
	members := startLoopbackCluster(t, c, nil)
	digest := func(c *v1alpha1.NATSCluster, m *loopbackMember) string {
		d, err := configDigest(m.localize(serverConf(c)), m.env)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, m := range members {
		if got, want := m.varz(t)["config_digest"], digest(c, m); got != want {
			t.Fatalf("%s reports config digest %v, the operator computes %s", m.name, got, want)
		}
	}

	sys, err := dataplane.Connect(fmt.Sprintf("nats://127.0.0.1:%d", members[0].port), SystemUser, members[0].env["NATS_SYSTEM_PASSWORD_RAW"])
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	names := []string{members[0].name, members[1].name, members[2].name}
	want := map[string]string{}
	recorder := record.NewFakeRecorder(100)
	r := newReloader(recorder)
	reloadUntil := func(done func(*v1alpha1.ConfigReloadStatus) bool) *v1alpha1.ConfigReloadStatus {
		t.Helper()
		var st *v1alpha1.ConfigReloadStatus
		for deadline := time.Now().Add(45 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
			st = r.pass(context.Background(), sys, c, names, want)
			if st != nil && done(st) {
				return st
			}
		}
		t.Fatalf("reload did not finish: %+v", st)
		return nil
	}

	// The same configuration: nothing to do.
	for _, m := range members {
		want[m.name] = digest(c, m)
	}
	st := reloadUntil(func(st *v1alpha1.ConfigReloadStatus) bool { return len(st.Current) == 3 })
	if len(st.Pending) != 0 || len(recorder.Events) != 0 {
		t.Fatalf("status %+v, events %d", st, len(recorder.Events))
	}

	// Scale to 5 and raise max_payload: the kubelet rewrites the files.
	changed := c.DeepCopy()
	changed.Spec.Replicas = 5
	changed.Spec.Parameters["max_payload"] = "2097152"
	began := time.Now()
	for _, m := range members {
		if err := m.server.Rewrite(m.localize(serverConf(changed)).render()); err != nil {
			t.Fatal(err)
		}
		want[m.name] = digest(changed, m)
	}
	st = reloadUntil(func(st *v1alpha1.ConfigReloadStatus) bool { return len(st.Current) == 3 })
	t.Logf("three servers reloaded in %s", time.Since(began).Round(time.Millisecond))
	for _, m := range members {
		v := m.varz(t)
		if v["max_payload"] != float64(2097152) || v["config_digest"] != want[m.name] || !m.server.Running() {
			t.Errorf("%s: max_payload %v digest %v running %v", m.name, v["max_payload"], v["config_digest"], m.server.Running())
		}
	}
	if st.LastReload == nil || len(recorder.Events) != 3 || !strings.Contains(<-recorder.Events, "ConfigReloaded") {
		t.Errorf("status %+v, %d events", st, len(recorder.Events)+1)
	}

	// Moving JetStream's store is a change a running server refuses.
	refused := members[2]
	moved := refused.localize(serverConf(changed))
	moved[len(moved)-1].value = append(block{}, moved[len(moved)-1].value.(block)...)
	moved[len(moved)-1].value.(block)[0].value = filepath.Join(refused.dir, "elsewhere")
	if err := refused.server.Rewrite(moved.render()); err != nil {
		t.Fatal(err)
	}
	if want[refused.name], err = configDigest(moved, refused.env); err != nil {
		t.Fatal(err)
	}
	st = reloadUntil(func(st *v1alpha1.ConfigReloadStatus) bool { return st.Error != "" })
	if !strings.Contains(st.Error, refused.name) || !strings.Contains(st.Error, "not supported") || len(st.Pending) != 1 {
		t.Errorf("status %+v", st)
	}
	t.Logf("refusal reported: %s", st.Error)
}
