package v1alpha1_test

import (
	"context"
	"os"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/stowage/stowage/internal/testenv"
)

var env testenv.Shared

func TestMain(m *testing.M) { os.Exit(env.Run(m)) }

const (
	validMySQL = `
apiVersion: stowage.dev/v1alpha1
kind: MySQLCluster
metadata: {name: db}
spec: {flavor: mariadb, replicas: 3, storage: {size: 1Gi}}`
	validMySQLWithClass = `
apiVersion: stowage.dev/v1alpha1
kind: MySQLCluster
metadata: {name: db}
spec: {flavor: mariadb, replicas: 3, storage: {size: 2Gi, storageClassName: fast}}`
	validBackup = `
apiVersion: stowage.dev/v1alpha1
kind: Backup
metadata: {name: b}
spec: {cluster: {kind: MySQLCluster, name: db}, target: {pvc: {claimName: backups}}}`
)

// TestAdmissionRejectsInvalidSpecs applies invalid resources to a real API server and
// checks each is refused with a message naming the offending field.
func TestAdmissionRejectsInvalidSpecs(t *testing.T) {
	e := env.Get(t)
	cases := []struct {
		name      string
		before    string // created first when set; the case then updates it
		object    string
		wantField string
		wantText  string
	}{
		{name: "replicas below one", object: `
apiVersion: stowage.dev/v1alpha1
kind: MySQLCluster
metadata: {name: db}
spec: {replicas: 0, storage: {size: 1Gi}}`, wantField: "spec.replicas", wantText: "greater than or equal to 1"},
		{name: "replicas above nine", object: `
apiVersion: stowage.dev/v1alpha1
kind: RedisCluster
metadata: {name: db}
spec: {replicas: 10, storage: {size: 1Gi}}`, wantField: "spec.replicas", wantText: "less than or equal to 9"},
		{name: "health checks too frequent", object: `
apiVersion: stowage.dev/v1alpha1
kind: MySQLCluster
metadata: {name: db}
spec: {storage: {size: 1Gi}, replication: {healthCheckInterval: 10ms}}`, wantField: "spec.replication.healthCheckInterval", wantText: "between 100ms and 1m"},
		{name: "failover grace below a second", object: `
apiVersion: stowage.dev/v1alpha1
kind: MySQLCluster
metadata: {name: db}
spec: {storage: {size: 1Gi}, replication: {failoverGrace: 200ms}}`, wantField: "spec.replication.failoverGrace", wantText: "at least 1s"},
		{name: "unknown flavor", object: `
apiVersion: stowage.dev/v1alpha1
kind: MySQLCluster
metadata: {name: db}
spec: {flavor: postgres, storage: {size: 1Gi}}`, wantField: "spec.flavor", wantText: "Unsupported value"},
		{name: "zero storage", object: `
apiVersion: stowage.dev/v1alpha1
kind: MySQLCluster
metadata: {name: db}
spec: {storage: {size: "0"}}`, wantField: "spec.storage.size", wantText: "greater than zero"},
		{name: "negative storage", object: `
apiVersion: stowage.dev/v1alpha1
kind: RedisCluster
metadata: {name: db}
spec: {storage: {size: "-1Gi"}}`, wantField: "spec.storage.size", wantText: "must not be negative"},
		{name: "empty image", object: `
apiVersion: stowage.dev/v1alpha1
kind: NATSCluster
metadata: {name: db}
spec: {image: "", storage: {size: 1Gi}}`, wantField: "spec.image", wantText: "must not be empty"},
		{name: "reserved mysql parameter", object: `
apiVersion: stowage.dev/v1alpha1
kind: MySQLCluster
metadata: {name: db}
spec: {storage: {size: 1Gi}, parameters: {server-id: "7"}}`, wantField: "spec.parameters", wantText: "server_id"},
		{name: "unknown anti-affinity", object: `
apiVersion: stowage.dev/v1alpha1
kind: MySQLCluster
metadata: {name: db}
spec: {storage: {size: 1Gi}, scheduling: {antiAffinity: Sometimes}}`, wantField: "spec.scheduling.antiAffinity", wantText: "Unsupported value"},
		{name: "unknown retention", object: `
apiVersion: stowage.dev/v1alpha1
kind: RedisCluster
metadata: {name: db}
spec: {storage: {size: 1Gi, retentionPolicy: {whenDeleted: Keep}}}`, wantField: "spec.storage.retentionPolicy.whenDeleted", wantText: "Unsupported value"},
		{name: "unknown appendfsync", object: `
apiVersion: stowage.dev/v1alpha1
kind: RedisCluster
metadata: {name: db}
spec: {storage: {size: 1Gi}, persistence: {appendFsync: sometimes}}`, wantField: "spec.persistence.appendFsync", wantText: "Unsupported value"},
		{name: "malformed rdb save", object: `
apiVersion: stowage.dev/v1alpha1
kind: RedisCluster
metadata: {name: db}
spec: {storage: {size: 1Gi}, persistence: {rdbSave: daily}}`, wantField: "spec.persistence.rdbSave", wantText: "should match"},
		{name: "reserved redis parameter", object: `
apiVersion: stowage.dev/v1alpha1
kind: RedisCluster
metadata: {name: db}
spec: {storage: {size: 1Gi}, parameters: {requirepass: hunter2}}`, wantField: "spec.parameters", wantText: "requirepass"},
		{name: "redis parameter the failover relies on", object: `
apiVersion: stowage.dev/v1alpha1
kind: RedisCluster
metadata: {name: db}
spec: {storage: {size: 1Gi}, parameters: {min-replicas-to-write: "0"}}`, wantField: "spec.parameters", wantText: "min-replicas-to-write"},
		{name: "redis max lag above an hour", object: `
apiVersion: stowage.dev/v1alpha1
kind: RedisCluster
metadata: {name: db}
spec: {storage: {size: 1Gi}, replication: {maxLag: 2h}}`, wantField: "spec.replication.maxLag", wantText: "between 1s and 1h"},
		{name: "negative redis min replicas", object: `
apiVersion: stowage.dev/v1alpha1
kind: RedisCluster
metadata: {name: db}
spec: {storage: {size: 1Gi}, replication: {minReplicasToWrite: -1}}`, wantField: "spec.replication.minReplicasToWrite", wantText: "greater than or equal to 0"},
		{name: "unknown redis mode", object: `
apiVersion: stowage.dev/v1alpha1
kind: RedisCluster
metadata: {name: db}
spec: {mode: Sharded, storage: {size: 1Gi}}`, wantField: "spec.mode", wantText: "Unsupported value"},
		{name: "jetstream without storage", object: `
apiVersion: stowage.dev/v1alpha1
kind: NATSCluster
metadata: {name: db}
spec: {replicas: 3, storage: {size: "0"}, jetStream: {enabled: true}}`, wantField: "spec.storage.size", wantText: "JetStream"},
		{name: "jetstream with even replicas", object: `
apiVersion: stowage.dev/v1alpha1
kind: NATSCluster
metadata: {name: db}
spec: {replicas: 2, storage: {size: 1Gi}}`, wantField: "spec.replicas", wantText: "odd"},
		{name: "reserved nats parameter", object: `
apiVersion: stowage.dev/v1alpha1
kind: NATSCluster
metadata: {name: db}
spec: {storage: {size: 1Gi}, parameters: {jetstream: "false"}}`, wantField: "spec.parameters", wantText: "jetstream"},
		{name: "leaf remote with credentials in the URL", object: `
apiVersion: stowage.dev/v1alpha1
kind: NATSCluster
metadata: {name: db}
spec: {storage: {size: 1Gi}, leafNodes: {remotes: [{urls: ["nats-leaf://user:pw@hub:7422"]}]}}`, wantField: "spec.leafNodes.remotes[0].urls", wantText: "without credentials"},
		{name: "gateway without a name", object: `
apiVersion: stowage.dev/v1alpha1
kind: NATSCluster
metadata: {name: db}
spec: {storage: {size: 1Gi}, gateway: {gateways: [{name: "", urls: ["nats://east:7222"]}]}}`, wantField: "spec.gateway.gateways[0].name", wantText: "at least 1"},
		{name: "leaf port out of range", object: `
apiVersion: stowage.dev/v1alpha1
kind: NATSCluster
metadata: {name: db}
spec: {storage: {size: 1Gi}, leafNodes: {port: 70000}}`, wantField: "spec.leafNodes.port", wantText: "65535"},
		{name: "backup with two targets", object: `
apiVersion: stowage.dev/v1alpha1
kind: Backup
metadata: {name: b}
spec:
  cluster: {kind: MySQLCluster, name: db}
  target: {pvc: {claimName: backups}, s3: {endpoint: s3.local, bucket: bkt, credentialsSecretRef: {name: s3}}}`, wantField: "spec.target", wantText: "exactly one of target.pvc or target.s3"},
		{name: "backup of an unknown kind", object: `
apiVersion: stowage.dev/v1alpha1
kind: Backup
metadata: {name: b}
spec: {cluster: {kind: PostgresCluster, name: db}, target: {pvc: {claimName: backups}}}`, wantField: "spec.cluster.kind", wantText: "Unsupported value"},
		{name: "schedule that is not cron", object: `
apiVersion: stowage.dev/v1alpha1
kind: BackupSchedule
metadata: {name: s}
spec: {schedule: "every day", template: {cluster: {kind: RedisCluster, name: db}, target: {pvc: {claimName: backups}}}}`, wantField: "spec.schedule", wantText: "cron expression"},
		{name: "empty retention", object: `
apiVersion: stowage.dev/v1alpha1
kind: BackupSchedule
metadata: {name: s}
spec: {schedule: "@daily", retention: {}, template: {cluster: {kind: RedisCluster, name: db}, target: {pvc: {claimName: backups}}}}`, wantField: "spec.retention", wantText: "keepLast, maxAge"},
		{name: "restore without a source", object: `
apiVersion: stowage.dev/v1alpha1
kind: Restore
metadata: {name: r}
spec: {cluster: {kind: NATSCluster, name: db}, source: {}}`, wantField: "spec.source", wantText: "exactly one of source.backupName or source.location"},
		{name: "storage shrink", before: validMySQLWithClass, object: `
apiVersion: stowage.dev/v1alpha1
kind: MySQLCluster
metadata: {name: db}
spec: {flavor: mariadb, replicas: 3, storage: {size: 1Gi, storageClassName: fast}}`, wantField: "spec.storage.size", wantText: "cannot shrink"},
		{name: "storage class changed", before: validMySQLWithClass, object: `
apiVersion: stowage.dev/v1alpha1
kind: MySQLCluster
metadata: {name: db}
spec: {flavor: mariadb, replicas: 3, storage: {size: 2Gi, storageClassName: slow}}`, wantField: "spec.storage.storageClassName", wantText: "immutable"},
		{name: "storage class set after creation", before: validMySQL, object: `
apiVersion: stowage.dev/v1alpha1
kind: MySQLCluster
metadata: {name: db}
spec: {flavor: mariadb, replicas: 3, storage: {size: 1Gi, storageClassName: fast}}`, wantField: "spec.storage.storageClassName", wantText: "immutable"},
		{name: "flavor changed", before: validMySQL, object: `
apiVersion: stowage.dev/v1alpha1
kind: MySQLCluster
metadata: {name: db}
spec: {flavor: mysql, replicas: 3, storage: {size: 1Gi}}`, wantField: "spec.flavor", wantText: "immutable"},
		{name: "backup spec changed", before: validBackup, object: `
apiVersion: stowage.dev/v1alpha1
kind: Backup
metadata: {name: b}
spec: {cluster: {kind: MySQLCluster, name: other}, target: {pvc: {claimName: backups}}}`, wantField: "spec", wantText: "cannot change after creation"},
	}
	if len(cases) < 15 {
		t.Fatalf("the issue asks for at least 15 invalid cases, have %d", len(cases))
	}
	ctx := context.Background()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := e.Namespace(t)
			if tc.before != "" {
				if err := e.Client.Create(ctx, parse(t, tc.before, ns)); err != nil {
					t.Fatalf("creating the valid object first: %v", err)
				}
			}
			obj := parse(t, tc.object, ns)
			var err error
			if tc.before != "" {
				existing := parse(t, tc.before, ns)
				if err := e.Client.Get(ctx, client.ObjectKeyFromObject(existing), existing); err != nil {
					t.Fatal(err)
				}
				obj.SetResourceVersion(existing.GetResourceVersion())
				err = e.Client.Update(ctx, obj)
			} else {
				err = e.Client.Create(ctx, obj)
			}
			if err == nil {
				t.Fatalf("the API server accepted an invalid %s", obj.GetKind())
			}
			if !apierrors.IsInvalid(err) {
				t.Fatalf("want an Invalid error, got %v", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.wantField+":") {
				t.Errorf("message does not name the field %s: %s", tc.wantField, msg)
			}
			if !strings.Contains(msg, tc.wantText) {
				t.Errorf("message does not say %q: %s", tc.wantText, msg)
			}
		})
	}
}

// TestAdmissionAcceptsSamplesAndDefaults makes sure the validation is not so strict
// that the shipped samples or a minimal spec are refused, and that defaults land.
func TestAdmissionAcceptsSamplesAndDefaults(t *testing.T) {
	e := env.Get(t)
	ctx := context.Background()
	ns := e.Namespace(t)
	for _, f := range []string{"mysqlcluster.yaml", "rediscluster.yaml", "natscluster.yaml"} {
		raw, err := os.ReadFile(testenv.RepoRoot() + "/config/samples/" + f)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Client.Create(ctx, parse(t, string(raw), ns)); err != nil {
			t.Errorf("sample %s refused: %v", f, err)
		}
	}
	minimal := parse(t, `
apiVersion: stowage.dev/v1alpha1
kind: NATSCluster
metadata: {name: minimal}
spec: {storage: {size: 1Gi}}`, ns)
	if err := e.Client.Create(ctx, minimal); err != nil {
		t.Fatalf("minimal NATSCluster refused: %v", err)
	}
	got, _, _ := unstructured.NestedInt64(minimal.Object, "spec", "replicas")
	js, _, _ := unstructured.NestedBool(minimal.Object, "spec", "jetStream", "enabled")
	anti, _, _ := unstructured.NestedString(minimal.Object, "spec", "scheduling", "antiAffinity")
	whenDeleted, _, _ := unstructured.NestedString(minimal.Object, "spec", "storage", "retentionPolicy", "whenDeleted")
	if got != 3 || !js || anti != "Preferred" || whenDeleted != "Retain" {
		t.Errorf("defaults: replicas=%d jetStream=%v antiAffinity=%q whenDeleted=%q; want 3 true Preferred Retain", got, js, anti, whenDeleted)
	}
	connected := parse(t, `
apiVersion: stowage.dev/v1alpha1
kind: NATSCluster
metadata: {name: connected}
spec:
  storage: {size: 1Gi}
  leafNodes: {port: 7422, remotes: [{urls: ["nats-leaf://hub.example:7422", "tls://hub-2.example:7422"], credentialsSecretRef: {name: hub}}]}
  gateway: {gateways: [{name: east, urls: ["nats://east-0.example:7222"]}]}`, ns)
	if err := e.Client.Create(ctx, connected); err != nil {
		t.Errorf("leaf nodes and a gateway refused: %v", err)
	}
	if port, _, _ := unstructured.NestedInt64(connected.Object, "spec", "gateway", "port"); port != 7222 {
		t.Errorf("gateway port defaulted to %d, want 7222", port)
	}
	// A growing volume is allowed.
	grow := parse(t, validMySQL, ns)
	if err := e.Client.Create(ctx, grow); err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedField(grow.Object, "5Gi", "spec", "storage", "size"); err != nil {
		t.Fatal(err)
	}
	if err := e.Client.Update(ctx, grow); err != nil {
		t.Errorf("growing spec.storage.size refused: %v", err)
	}
}

func parse(t *testing.T, doc, namespace string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatalf("parsing test object: %v", err)
	}
	u.SetNamespace(namespace)
	return u
}
