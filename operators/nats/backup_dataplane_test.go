package nats

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/stowage/stowage/internal/dbtest"
	"github.com/stowage/stowage/pkg/backup"
)

// TestDataPlaneBackupJobToS3 runs the backup job and the restore job as the operator's
// Jobs do (backup.RunBackup/RunRestore with this engine) against real nats-servers and
// a real S3 server: the restore into an empty cluster recreates the streams; into one
// that holds streams it is refused unless forced.
func TestDataPlaneBackupJobToS3(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s3 := dbtest.StartS3(t, "backups")
	spec := backup.JobSpec{Kind: "backup", Engine: engineName, Cluster: "ns/bus", Location: backup.Location("ns", "bus", "b1"),
		Target: backup.TargetSpec{S3: &backup.S3Location{Endpoint: s3.Endpoint(), Bucket: "backups", Insecure: true}}}
	env := func(k string) string {
		return map[string]string{backup.EnvS3AccessKey: dbtest.S3AccessKey, backup.EnvS3SecretKey: dbtest.S3SecretKey}[k]
	}
	target, err := spec.Target.Open(env)
	if err != nil {
		t.Fatal(err)
	}

	source := dbtest.StartNATSCluster(t, 3)
	js := appJS(t, source)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"events.>"}, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if _, err := js.Publish(ctx, "events.x", []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	spec.Member, spec.MemberAddr = source[0].Name, strings.TrimPrefix(source[0].URL(), "nats://")
	var progressed bool
	res, err := backup.RunBackup(ctx, spec, BackupEngine{}, dbtest.NATSAppPassword, target, func(int64) { progressed = true })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("backup: %+v (progress reported: %v)", res, progressed)
	if res.Position != "EVENTS@100" || res.Bytes == 0 {
		t.Errorf("result %+v", res)
	}

	dest := dbtest.StartNATSCluster(t, 3)
	spec.Kind, spec.Member, spec.MemberAddr = "restore", dest[1].Name, strings.TrimPrefix(dest[1].URL(), "nats://")
	djs := appJS(t, dest)
	waitMeta(t, djs)
	if _, err := backup.RunRestore(ctx, spec, BackupEngine{}, dbtest.NATSAppPassword, target, nil); err != nil {
		t.Fatal(err)
	}
	st, err := djs.Stream(ctx, "EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := st.Info(ctx); info.State.Msgs != 100 {
		t.Errorf("restored EVENTS holds %d messages", info.State.Msgs)
	}
	if _, err := djs.Publish(ctx, "events.x", []byte("after")); err != nil {
		t.Fatal(err)
	}
	if _, err := backup.RunRestore(ctx, spec, BackupEngine{}, dbtest.NATSAppPassword, target, nil); err == nil || !strings.Contains(err.Error(), "already holds") {
		t.Errorf("a restore into a cluster with streams: %v", err)
	}
	spec.Force = true
	if _, err := backup.RunRestore(ctx, spec, BackupEngine{}, dbtest.NATSAppPassword, target, nil); err != nil {
		t.Fatal(err)
	}
	if info, _ := st.Info(ctx); info.State.Msgs != 100 {
		t.Errorf("after a forced restore EVENTS holds %d messages", info.State.Msgs)
	}
}

func appJS(t *testing.T, servers []*dbtest.NATSServer) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(dbtest.URLs(servers), nats.UserInfo(dbtest.NATSAppUser, dbtest.NATSAppPassword), nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	waitMeta(t, js)
	return js
}

// waitMeta waits until the cluster's JetStream answers (its meta group elected).
func waitMeta(t *testing.T, js jetstream.JetStream) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := js.AccountInfo(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("JetStream does not answer: %v", err)
		}
	}
}
