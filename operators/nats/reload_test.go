package nats

import (
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/pkg/workload"
)

// TestWhatRestartsMembers: scaling and reloadable parameters change the file only
// (servers reload it); anything else changes the pod template, which the rollout
// applies by restarting members one at a time.
func TestWhatRestartsMembers(t *testing.T) {
	base := func() *v1alpha1.NATSCluster { return natsCluster(3, true, map[string]string{"max_payload": "1048576"}) }
	cases := []struct {
		name        string
		change      func(c *v1alpha1.NATSCluster)
		wantRestart bool
	}{
		{"scale 3 to 5", func(c *v1alpha1.NATSCluster) { c.Spec.Replicas = 5 }, false},
		{"scale 3 to 9", func(c *v1alpha1.NATSCluster) { c.Spec.Replicas = 9 }, false},
		{"reloadable parameter changed", func(c *v1alpha1.NATSCluster) { c.Spec.Parameters["max_payload"] = "2097152" }, false},
		{"reloadable parameter added", func(c *v1alpha1.NATSCluster) { c.Spec.Parameters["debug"] = "true" }, false},
		{"parameter a reload refuses", func(c *v1alpha1.NATSCluster) { c.Spec.Parameters["max_pending"] = "1000000" }, true},
		{"JetStream memory", func(c *v1alpha1.NATSCluster) { c.Spec.JetStream.MaxMemory = ptr.To(resource.MustParse("128Mi")) }, true},
		{"JetStream off", func(c *v1alpha1.NATSCluster) { c.Spec.JetStream.Enabled = ptr.To(false) }, true},
		{"single server grows a cluster block", nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, after := base(), base()
			if tc.change == nil { // 1 → 3: the cluster block itself needs a restart
				before.Spec.Replicas = 1
			} else {
				tc.change(after)
			}
			a, b := blueprint(t, before), blueprint(t, after)
			if a.Config[configFile] == b.Config[configFile] {
				t.Fatal("the change did not reach the configuration")
			}
			ta, tb := workload.StatefulSet(a).Spec.Template, workload.StatefulSet(b).Spec.Template
			if restarted := !reflect.DeepEqual(ta, tb); restarted != tc.wantRestart {
				t.Errorf("pod template changed: %v, want %v\nrestart part before:\n%s\nafter:\n%s", restarted, tc.wantRestart,
					a.RestartConfig[configFile], b.RestartConfig[configFile])
			}
		})
	}
}

func blueprint(t *testing.T, c *v1alpha1.NATSCluster) workload.Blueprint {
	t.Helper()
	bp, err := NewEngine(DefaultOptions()).Blueprint(c)
	if err != nil {
		t.Fatal(err)
	}
	return bp
}

func TestMemberEnv(t *testing.T) {
	bp := blueprint(t, natsCluster(3, true, nil))
	secret := map[string][]byte{KeyPassword: []byte("p"), KeyRoutePassword: []byte("r-1"), KeySystemPassword: []byte("s")}
	env, err := memberEnv(bp, credentials(secret), "bus-1")
	if err != nil {
		t.Fatal(err)
	}
	if env["POD_NAME"] != "bus-1" || env["NATS_SYSTEM_PASSWORD"] != `"s"` || env["NATS_ROUTE_8"] != `"nats://route:r-1@bus-8.bus-headless.ns.svc:6222"` {
		t.Errorf("env %v", env)
	}
	delete(secret, KeySystemPassword)
	if _, err := memberEnv(bp, credentials(secret), "bus-1"); err == nil || !strings.Contains(err.Error(), KeySystemPassword) {
		t.Errorf("a missing key: %v", err)
	}
}

// TestConfigDigest: the digest follows what the server resolves, so it differs per
// member (server_name) and with a credential, and a reference the environment lacks
// is an error. That it equals what nats-server reports is the data-plane test's.
func TestConfigDigest(t *testing.T) {
	c := natsCluster(3, true, nil)
	bp := blueprint(t, c)
	secret := map[string][]byte{KeyPassword: []byte("p"), KeyRoutePassword: []byte("r"), KeySystemPassword: []byte("s")}
	d := func(pod string, secret map[string][]byte) string {
		env, err := memberEnv(bp, credentials(secret), pod)
		if err != nil {
			t.Fatal(err)
		}
		got, err := configDigest(serverConf(c), env)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if d("bus-0", secret) != d("bus-0", secret) || d("bus-0", secret) == d("bus-1", secret) {
		t.Error("the digest is not per member")
	}
	other := map[string][]byte{KeyPassword: []byte("p2"), KeyRoutePassword: []byte("r"), KeySystemPassword: []byte("s")}
	if d("bus-0", secret) == d("bus-0", other) {
		t.Error("the digest ignores a password")
	}
	if _, err := configDigest(serverConf(c), map[string]string{"POD_NAME": "bus-0"}); err == nil {
		t.Error("a missing variable gave a digest")
	}
}

func TestCheckCredential(t *testing.T) {
	cases := []struct {
		key, value string
		ok         bool
	}{
		{KeyPassword, "20261122", true},
		{KeyPassword, "with space, comma and : / @", true},
		{KeyPassword, `a"b`, false},
		{KeyPassword, `a\b`, false},
		{KeyRoutePassword, "Abc-1._~", true},
		{KeyRoutePassword, "a/b", false},
		{KeyRoutePassword, "a@b", false},
	}
	for _, tc := range cases {
		if err := checkCredential(tc.key, []byte(tc.value)); (err == nil) != tc.ok {
			t.Errorf("%s=%q: %v, want ok %v", tc.key, tc.value, err, tc.ok)
		} else if err != nil && !strings.Contains(err.Error(), tc.key) {
			t.Errorf("the error does not name the key: %v", err)
		}
	}
}

// credentials looks up every Secret as the given data.
func credentials(data map[string][]byte) SecretLookup {
	return func(string) (map[string][]byte, error) { return data, nil }
}
