package nats

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/pkg/cluster"
)

func natsCluster(replicas int32, jetStream bool, params map[string]string) *v1alpha1.NATSCluster {
	return &v1alpha1.NATSCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "bus", Namespace: "ns", UID: "u"},
		Spec: v1alpha1.NATSClusterSpec{
			WorkloadSpec: v1alpha1.WorkloadSpec{Replicas: replicas, Storage: v1alpha1.StorageSpec{Size: resource.MustParse("10Gi")}, Parameters: params},
			JetStream:    v1alpha1.JetStreamSpec{Enabled: ptr.To(jetStream), MaxMemory: ptr.To(resource.MustParse("64Mi"))},
		},
	}
}

// TestRenderedConfigParses loads the rendered file with nats-server's own parser, with
// the environment the pod gives the server, and checks what the server would run with.
func TestRenderedConfigParses(t *testing.T) {
	cases := []struct {
		name       string
		cluster    *v1alpha1.NATSCluster
		wantRoutes int
		wantJS     bool
	}{
		{"three members with JetStream", natsCluster(3, true, map[string]string{"max_payload": "2097152", "debug": "true"}), 3, true},
		{"single member", natsCluster(1, true, nil), 0, true},
		{"five members without JetStream", natsCluster(5, false, nil), 5, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bp, err := NewEngine(DefaultOptions()).Blueprint(tc.cluster)
			if err != nil {
				t.Fatal(err)
			}
			// What Kubernetes would put in the environment, $(VAR) references expanded.
			// A password of digits must stay a string (nats-server types env values).
			env, err := memberEnv(bp, credentials(map[string][]byte{KeyPassword: []byte("20261122"), KeyRoutePassword: []byte("route-secret"),
				KeySystemPassword: []byte("system secret, with a comma")}), "bus-0")
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range env {
				t.Setenv(k, v)
			}
			rendered := bp.Config[configFile]
			if strings.Contains(rendered, "secret") || strings.Contains(rendered, "20261122") {
				t.Fatalf("a credential is in the ConfigMap:\n%s", rendered)
			}
			path := filepath.Join(t.TempDir(), configFile)
			if err := os.WriteFile(path, []byte(rendered), 0o600); err != nil {
				t.Fatal(err)
			}
			opts, err := server.ProcessConfigFile(path)
			if err != nil {
				t.Fatalf("nats-server refuses the rendered config: %v\n%s", err, rendered)
			}
			if opts.ServerName != "bus-0" || opts.SystemAccount != systemAccount {
				t.Errorf("server %q system account %q", opts.ServerName, opts.SystemAccount)
			}
			users := map[string]string{}
			for _, u := range opts.Users {
				users[u.Username] = u.Account.Name + "/" + u.Password
			}
			if users[ClientUser] != appAccount+"/20261122" || users[SystemUser] != systemAccount+"/system secret, with a comma" {
				t.Errorf("users %v", users)
			}
			if opts.PidFile != pidFile || opts.LameDuckDuration != 30*time.Second {
				t.Errorf("pid file %q lame duck %s", opts.PidFile, opts.LameDuckDuration)
			}
			if len(opts.Routes) != tc.wantRoutes {
				t.Errorf("routes %v, want %d", opts.Routes, tc.wantRoutes)
			}
			if tc.wantRoutes > 0 {
				if opts.Cluster.Name != "bus" || opts.Cluster.Password != "route-secret" || opts.Routes[1].Host != "bus-1.bus-headless.ns.svc:6222" || opts.Routes[1].User.String() != "route:route-secret" {
					t.Errorf("cluster %+v route %v", opts.Cluster, opts.Routes[1])
				}
			}
			if opts.JetStream != tc.wantJS {
				t.Errorf("jetstream %v, want %v", opts.JetStream, tc.wantJS)
			}
			if tc.wantJS && (opts.JetStreamMaxStore != 10*1024*1024*1024/10*9 || opts.JetStreamMaxMemory != 64*1024*1024 || opts.StoreDir != "/data/jetstream") {
				t.Errorf("jetstream store %d memory %d dir %s", opts.JetStreamMaxStore, opts.JetStreamMaxMemory, opts.StoreDir)
			}
			if tc.cluster.Spec.Parameters["max_payload"] != "" && opts.MaxPayload != 2097152 {
				t.Errorf("user parameter max_payload not applied: %d", opts.MaxPayload)
			}
		})
	}
}

func TestRenderValueQuotes(t *testing.T) {
	got := block{{"a", `say "hi"`}, {"b", int64(3)}, {"c", envRef("X")}, {"d", []any{"x", envRef("Y")}}, {"e", block{{"f", true}}}}.render()
	want := "a: \"say \\\"hi\\\"\"\nb: 3\nc: $X\nd: [\"x\", $Y]\ne {\n  f: true\n}\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestInvalidConfigIsRefused: parameters nats-server would refuse never reach a
// Blueprint (nor the ConfigMap); the error says why and carries ErrConfigInvalid,
// which status reports as the ConfigurationInvalid condition reason.
func TestInvalidConfigIsRefused(t *testing.T) {
	cases := []struct {
		name    string
		params  map[string]string
		wantMsg string
	}{
		{"not a size", map[string]string{"max_payload": "lots"}, "max_payload"},
		{"unknown option", map[string]string{"max_paylod": "1024"}, "max_paylod"},
		{"bad duration", map[string]string{"ping_interval": "soon"}, "ping_interval"},
	}
	for _, tc := range cases {
		_, err := NewEngine(DefaultOptions()).Blueprint(natsCluster(3, true, tc.params))
		if !errors.Is(err, cluster.ErrConfigInvalid) || !strings.Contains(err.Error(), tc.wantMsg) {
			t.Errorf("%s: %v, want ErrConfigInvalid naming %s", tc.name, err, tc.wantMsg)
		}
	}
}
