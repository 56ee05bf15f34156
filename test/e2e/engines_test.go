//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
)

// clientPod runs getent for the DNS checks; its image is preloaded in the offline node.
const clientPod = "e2e-client"

func owned(name string, services ...string) []client.Object {
	objs := []client.Object{
		&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: name}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name + "-config"}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name + "-headless"}},
		&policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: name}},
	}
	for _, s := range services {
		objs = append(objs, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: s}})
	}
	return objs
}

// startClientPod runs the pod the DNS checks resolve from.
func startClientPod(ctx context.Context) error {
	image := os.Getenv("E2E_CLIENT_IMAGE")
	if image == "" {
		image = "stowage.local/debian:bookworm"
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: clientPod, Namespace: samplesNS},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "client", Image: image, ImagePullPolicy: corev1.PullIfNotPresent,
			Command: []string{"sleep", "infinity"},
		}}, TerminationGracePeriodSeconds: new(int64)},
	}
	if err := k8s.Create(ctx, pod); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(pod), pod); err == nil && podReady(pod) {
			return nil
		}
		time.Sleep(time.Second)
	}
	return fmt.Errorf("client pod %s is not running (image %s)", clientPod, image)
}

func TestMySQL(t *testing.T) {
	const name, svc = "mysql-sample", "mysql-sample-primary"
	// The client runs in member 1, which is never the restarted one, and reaches the
	// primary through its Service; the password comes from the container's environment.
	sqlOn := func(ctx context.Context, cluster, pod, stmt string) (string, error) {
		return inPod(ctx, pod, "mysql", fmt.Sprintf(`MYSQL_PWD="$MARIADB_ROOT_PASSWORD" mariadb -h %s-primary -uroot -N -B -e "%s"`, cluster, stmt))
	}
	sql := func(ctx context.Context, stmt string) (string, error) { return sqlOn(ctx, name, name+"-1", stmt) }
	t.Run("NoPasswordlessRoot", func(t *testing.T) {
		// Over loopback inside the pod, where an account for 127.0.0.1 would match first.
		out, err := inPod(context.Background(), name+"-0", "mysql", `mariadb -h 127.0.0.1 -uroot --password= -e "SELECT 1" 2>&1`)
		if err == nil || !strings.Contains(out, "Access denied") {
			t.Errorf("root without a password was not refused: %v %s", err, out)
		}
	})
	ec := engineCase{
		engine: "mysql", name: name,
		newObj:  func() v1alpha1.Cluster { return &v1alpha1.MySQLCluster{} },
		ownedBy: owned(name, svc, "mysql-sample-replicas"),
		write: func(ctx context.Context, v string) error {
			_, err := sql(ctx, "CREATE DATABASE IF NOT EXISTS e2e; CREATE TABLE IF NOT EXISTS e2e.kv (k VARCHAR(32) PRIMARY KEY, v VARCHAR(64)); REPLACE INTO e2e.kv VALUES ('persist', '"+v+"')")
			return err
		},
		read: func(ctx context.Context) (string, error) {
			out, err := sql(ctx, "SELECT v FROM e2e.kv WHERE k = 'persist'")
			return strings.TrimSpace(out), err
		},
		readFrom: func(ctx context.Context, cluster string, member int) (string, error) {
			pod := fmt.Sprintf("%s-%d", cluster, member)
			out, err := inPod(ctx, pod, "mysql", fmt.Sprintf(`MYSQL_PWD="$MARIADB_ROOT_PASSWORD" mariadb -h %s.%s-headless -uroot -N -B -e "%s"`,
				pod, cluster, "SELECT v FROM e2e.kv WHERE k = 'persist'"))
			return strings.TrimSpace(out), err
		},
	}
	ec.failovers = func(t *testing.T) {
		mysqlStore.startClient(context.Background(), t)
		t.Run("FailoverOnPrimaryPodDeletion", func(t *testing.T) { mysqlStore.checkFailover(t, "primary pod deleted", false, deletePod) })
		t.Run("FailoverOnPrimaryServerKilled", func(t *testing.T) { mysqlStore.checkFailover(t, "primary mariadbd killed", false, killServer) })
		t.Run("FailoverOnNodeLoss", func(t *testing.T) { mysqlStore.checkFailover(t, "primary's node lost", true, loseNode) })
		t.Run("RollingRestartReplicasFirst", func(t *testing.T) { mysqlStore.checkRollingRestart(t, "max_connections", "301", "302") })
	}
	ec.run(t)
}

func TestRedis(t *testing.T) {
	const name, svc = "redis-sample", "redis-sample-primary"
	cliOn := func(ctx context.Context, cluster, pod, args string) (string, error) {
		return inPod(ctx, pod, "redis", "redis-cli -h "+cluster+"-primary "+args)
	}
	cli := func(ctx context.Context, args string) (string, error) { return cliOn(ctx, name, name+"-1", args) }
	ec := engineCase{
		engine: "redis", name: name,
		newObj:  func() v1alpha1.Cluster { return &v1alpha1.RedisCluster{} },
		ownedBy: owned(name, svc, "redis-sample-replicas"),
		write: func(ctx context.Context, v string) error {
			out, err := cli(ctx, "set e2e:persist "+v)
			if err == nil && strings.TrimSpace(out) != "OK" {
				err = fmt.Errorf("SET answered %q", out)
			}
			return err
		},
		read: func(ctx context.Context) (string, error) {
			out, err := cli(ctx, "get e2e:persist")
			return strings.TrimSpace(out), err
		},
		readFrom: func(ctx context.Context, cluster string, member int) (string, error) {
			pod := fmt.Sprintf("%s-%d", cluster, member)
			out, err := inPod(ctx, pod, "redis", fmt.Sprintf("redis-cli -h %s.%s-headless get e2e:persist", pod, cluster))
			return strings.TrimSpace(out), err
		},
	}
	ec.failovers = func(t *testing.T) {
		redisStore.startClient(context.Background(), t)
		t.Run("FailoverOnPrimaryPodDeletion", func(t *testing.T) { redisStore.checkFailover(t, "primary pod deleted", true, deletePod) })
		t.Run("FailoverOnPrimaryServerKilled", func(t *testing.T) { redisStore.checkFailover(t, "primary redis-server killed", true, killServer) })
		t.Run("RollingRestartReplicasFirst", func(t *testing.T) { redisStore.checkRollingRestart(t, "maxmemory-samples", "6", "7") })
		t.Run("SwitchoverOnRequestOnTheEventBus", func(t *testing.T) { redisStore.checkSwitchoverEvents(t) })
	}
	ec.run(t)
}

// mysqlStore writes rows to a table; a write is acknowledged when its commit returns
// (semi-sync: once a replica has it).
var mysqlStore = store{
	engine: "mysql", cluster: "mysql-sample", clientPod: "e2e-mysql-client",
	secretEnv: map[string]string{"MARIADB_ROOT_PASSWORD": "root-password"},
	reset:     mysqlSQL("CREATE DATABASE IF NOT EXISTS e2e; CREATE TABLE IF NOT EXISTS e2e.w (id INT PRIMARY KEY); TRUNCATE e2e.w"),
	insert:    func(id int) string { return mysqlSQL(fmt.Sprintf("INSERT INTO e2e.w VALUES (%d)", id)) },
	// A duplicate is an insert that committed although its acknowledgement was lost
	// with the connection: it counts.
	acked: func(out string, err error) bool { return err == nil || strings.Contains(out, "Duplicate entry") },
	ids:   mysqlSQL("SELECT id FROM e2e.w"),
}

func mysqlSQL(stmt string) string {
	return fmt.Sprintf(`MYSQL_PWD="$MARIADB_ROOT_PASSWORD" mariadb -h mysql-sample-primary -uroot --connect-timeout=2 -N -B -e "%s" 2>&1`, stmt)
}

// redisStore adds ids to a set; a write is acknowledged once WAIT reports a replica
// has it — the write-acknowledgement mode a RedisCluster's status recommends
// (status.replication.waitReplicas), which no failover loses.
var redisStore = store{
	engine: "redis", cluster: "redis-sample", clientPod: "e2e-redis-client",
	secretEnv: map[string]string{"REDISCLI_AUTH": "password"},
	reset:     `redis-cli -h redis-sample-primary DEL e2e:w`,
	insert: func(id int) string {
		return fmt.Sprintf(`printf 'SADD e2e:w %d\nWAIT 1 2000\n' | redis-cli -h redis-sample-primary 2>&1`, id)
	},
	acked: func(out string, err error) bool {
		lines := strings.Fields(out)
		if err != nil || len(lines) != 2 {
			return false
		}
		_, added := strconv.Atoi(lines[0])
		replicas, waited := strconv.Atoi(lines[1])
		return added == nil && waited == nil && replicas >= 1
	},
	ids: `redis-cli -h redis-sample-primary SMEMBERS e2e:w`,
}

func TestNATS(t *testing.T) {
	const name = "nats-sample"
	// An R1 stream lives on exactly one server's volume: restarting that server and
	// finding the message again proves the volume came back with the pod.
	var leader string
	withJSOn := func(ctx context.Context, cluster string, fn func(js jetstream.JetStream) error) error {
		var secret corev1.Secret
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: samplesNS, Name: cluster + "-credentials"}, &secret); err != nil {
			return err
		}
		port, stop, err := portForward(ctx, samplesNS, "svc/"+cluster, 4222)
		if err != nil {
			return err
		}
		defer stop()
		nc, err := nats.Connect(fmt.Sprintf("nats://127.0.0.1:%s", port), nats.UserInfo("stowage", string(secret.Data["password"])), nats.Timeout(10*time.Second))
		if err != nil {
			return err
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			return err
		}
		return fn(js)
	}
	withJS := func(ctx context.Context, fn func(js jetstream.JetStream) error) error { return withJSOn(ctx, name, fn) }
	// The stream is R1 and read through the Service: any member answers for it.
	readFrom := func(ctx context.Context, cluster string, _ int) (string, error) {
		var got string
		err := withJSOn(ctx, cluster, func(js jetstream.JetStream) error {
			s, err := js.Stream(ctx, "E2E")
			if err != nil {
				return err
			}
			m, err := s.GetLastMsgForSubject(ctx, "e2e.persist")
			if err != nil {
				return err
			}
			got = string(m.Data)
			return nil
		})
		return got, err
	}
	ec := engineCase{
		engine: "nats", name: name, readFrom: readFrom,
		newObj:  func() v1alpha1.Cluster { return &v1alpha1.NATSCluster{} },
		ownedBy: owned(name, name),
		write: func(ctx context.Context, v string) error {
			return withJS(ctx, func(js jetstream.JetStream) error {
				s, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: "E2E", Subjects: []string{"e2e.>"}, Replicas: 1, Storage: jetstream.FileStorage})
				if err != nil {
					return err
				}
				if _, err := js.Publish(ctx, "e2e.persist", []byte(v)); err != nil {
					return err
				}
				info, err := s.Info(ctx)
				if err != nil {
					return err
				}
				if info.Cluster == nil || info.Cluster.Leader == "" {
					return fmt.Errorf("stream E2E has no leader")
				}
				leader = info.Cluster.Leader
				return nil
			})
		},
		read:   func(ctx context.Context) (string, error) { return readFrom(ctx, name, 0) },
		victim: func(context.Context) (string, error) { return leader, nil },
	}
	// An R3 stream written before scaling 3 → 5 → 3 must come out of it whole, on three
	// current replicas, with the departed servers out of the meta group; it takes
	// writes all along, and the members that stay are neither recreated nor restarted
	// (the new routes reach them by a configuration reload).
	const messages = 100
	var publisher *scalePublisher
	var staying map[string]string
	ec.failovers = func(t *testing.T) {
		t.Run("R3StreamBeforeScaling", func(t *testing.T) {
			err := withJS(context.Background(), func(js jetstream.JetStream) error {
				ctx := context.Background()
				if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: "E2E3", Subjects: []string{"e2e3.>"}, Replicas: 3, Storage: jetstream.FileStorage}); err != nil {
					return err
				}
				for i := range messages {
					if _, err := js.Publish(ctx, "e2e3.m", []byte(fmt.Sprint(i))); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var secret corev1.Secret
			if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: samplesNS, Name: name + "-credentials"}, &secret); err != nil {
				t.Fatal(err)
			}
			staying = memberUIDs(context.Background(), t, "nats", name)
			publisher = startScalePublisher(t, name, string(secret.Data["password"]))
		})
	}
	ec.afterScale = func(t *testing.T) {
		t.Run("R3StreamWholeAfterScaling", func(t *testing.T) {
			ctx := context.Background()
			if publisher == nil {
				t.Fatal("the publisher did not start")
			}
			acked, failures, gap, lastErr := publisher.stop()
			t.Logf("during 3 → 5 → 3: %d messages acknowledged, %d publish attempts failed (last: %v), longest pause between acks %s",
				acked, failures, lastErr, gap.Round(time.Millisecond))
			timings.add("nats scale 3 → 5 → 3 → longest pause between stream acks", gap)
			if acked < 100 || gap > 30*time.Second {
				t.Errorf("the R3 stream was not available through the scaling: %d acked, longest pause %s", acked, gap)
			}
			if now := memberUIDs(ctx, t, "nats", name); fmt.Sprint(now) != fmt.Sprint(staying) {
				t.Errorf("members that stay were recreated or restarted by the scaling: before %v after %v", staying, now)
			}
			eventually(t, 3*time.Minute, "JetStream healthy on the three members", func() error {
				c := &v1alpha1.NATSCluster{}
				if err := k8s.Get(ctx, client.ObjectKey{Namespace: samplesNS, Name: name}, c); err != nil {
					return err
				}
				js := c.Status.JetStream
				if js == nil || !js.Healthy || len(js.Servers) != 3 || js.Streams < 2 || js.StreamsDegraded != 0 {
					return fmt.Errorf("status.jetStream %+v", js)
				}
				return nil
			}, 2*time.Second)
			err := withJS(ctx, func(js jetstream.JetStream) error {
				s, err := js.Stream(ctx, "E2E3")
				if err != nil {
					return err
				}
				info, err := s.Info(ctx)
				if err != nil {
					return err
				}
				if info.State.Msgs != uint64(messages+acked) || info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
					return fmt.Errorf("stream E2E3: %d messages, want %d + %d acknowledged during scaling; cluster %+v", info.State.Msgs, messages, acked, info.Cluster)
				}
				for _, r := range info.Cluster.Replicas {
					if !r.Current || r.Offline {
						return fmt.Errorf("replica %+v", r)
					}
				}
				return nil
			})
			if err != nil {
				t.Error(err)
			}
			var evs corev1.EventList
			if err := k8s.List(ctx, &evs, client.InNamespace(samplesNS)); err != nil {
				t.Fatal(err)
			}
			removed := 0
			for _, e := range evs.Items {
				if e.InvolvedObject.Name == name && e.Reason == "PeerRemoved" {
					removed++
				}
			}
			if removed == 0 {
				t.Errorf("no PeerRemoved event: the departed servers were not removed from the meta group")
			}
			// The members that stay run the three-route configuration.
			waitConfigCurrent(ctx, t, name, 3, func(pod string, v map[string]any) error {
				if cluster, _ := v["cluster"].(map[string]any); cluster == nil || len(cluster["urls"].([]any)) != 3 {
					return fmt.Errorf("%s: cluster %v", pod, v["cluster"])
				}
				return nil
			})
		})
		t.Run("ConfigReloadWithoutRestart", func(t *testing.T) { checkReloadWithoutRestart(context.Background(), t, name) })
	}
	ec.run(t)
}

// portForward forwards a free loopback port to target's port and returns it.
func portForward(ctx context.Context, namespace, target string, port int) (string, func(), error) {
	bin := os.Getenv("KUBECTL")
	if bin == "" {
		bin = "kubectl"
	}
	ctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, bin, "-n", namespace, "port-forward", "--address=127.0.0.1", target, fmt.Sprintf(":%d", port))
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return "", nil, err
	}
	stop := func() { cancel(); _ = cmd.Wait() }
	lines := bufio.NewScanner(out)
	ready := make(chan string, 1)
	go func() {
		for lines.Scan() {
			// "Forwarding from 127.0.0.1:41234 -> 4222"
			if f := strings.Fields(lines.Text()); len(f) >= 3 && f[0] == "Forwarding" {
				ready <- f[2][strings.LastIndex(f[2], ":")+1:]
			}
		}
	}()
	select {
	case p := <-ready:
		return p, stop, nil
	case <-time.After(20 * time.Second):
		stop()
		return "", nil, fmt.Errorf("port-forward to %s did not start", target)
	}
}
