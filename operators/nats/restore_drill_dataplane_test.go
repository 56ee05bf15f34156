package nats

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/stowage/stowage/internal/dbtest"
	"github.com/stowage/stowage/pkg/backup"
)

// TestDataPlaneRestoreSurvivesMetaLeaderChanges drills the restore job against a
// cluster whose JetStream meta leader keeps changing while the archive is uploaded,
// as in a cluster that has just formed: the restore still completes, with every
// message. A restore the server drops on such a change is never acknowledged again;
// the job notices within a chunk's timeout and takes the stream again from the start.
func TestDataPlaneRestoreSurvivesMetaLeaderChanges(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	source := dbtest.StartNATSCluster(t, 3)
	js := appJS(t, source)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "BIG", Subjects: []string{"big.>"}, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	const messages = 4000
	payload := make([]byte, 4<<10) // random: the archive does not compress away
	for i := range messages {
		rand.Read(payload) //nolint:errcheck // never fails
		if _, err := js.PublishAsync("big.x", payload); err != nil {
			t.Fatal(err)
		}
		if i%500 == 499 {
			<-js.PublishAsyncComplete()
		}
	}
	<-js.PublishAsyncComplete()
	last, err := js.Stream(ctx, "BIG")
	if err != nil {
		t.Fatal(err)
	}
	want, err := last.GetLastMsgForSubject(ctx, "big.x")
	if err != nil {
		t.Fatal(err)
	}
	spec := backup.JobSpec{Kind: "backup", Engine: engineName, Cluster: "ns/bus", Location: backup.Location("ns", "bus", "big"),
		Target: backup.TargetSpec{Dir: t.TempDir()}, Member: source[0].Name, MemberAddr: strings.TrimPrefix(source[0].URL(), "nats://")}
	target, _ := spec.Target.Open(func(string) string { return "" })
	res, err := backup.RunBackup(ctx, spec, BackupEngine{}, dbtest.NATSAppPassword, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("backup of %d messages: %d bytes stored", messages, res.Bytes)

	dest := dbtest.StartNATSCluster(t, 3)
	djs := appJS(t, dest)
	sys, err := nats.Connect(dbtest.URLs(dest), nats.UserInfo(dbtest.NATSSystemUser, dbtest.NATSSystemPassword))
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	spec.Kind, spec.Member, spec.MemberAddr = "restore", dest[0].Name, strings.TrimPrefix(dest[0].URL(), "nats://")
	done := make(chan error, 1)
	began := time.Now()
	go func() {
		_, err := backup.RunRestore(ctx, spec, BackupEngine{}, dbtest.NATSAppPassword, target, nil)
		done <- err
	}()
	// The meta leader steps down at once and then every 100 ms while the restore
	// runs, up to 10 times: requests meet a cluster without a leader, or a new one.
	var stepdowns atomic.Int32
	stepDown := func() {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		msg, err := sys.RequestWithContext(rctx, server.JSApiLeaderStepDown, nil)
		if err != nil {
			t.Logf("stepdown: %v", err)
			return
		}
		var resp server.JSApiLeaderStepDownResponse
		if json.Unmarshal(msg.Data, &resp) == nil && resp.Success {
			stepdowns.Add(1)
		}
	}
	stepDown()
	var restoreErr error
drill:
	for tick := time.NewTicker(100 * time.Millisecond); ; {
		select {
		case restoreErr = <-done:
			tick.Stop()
			break drill
		case <-tick.C:
			if stepdowns.Load() < 10 {
				stepDown()
			}
		}
	}
	took := time.Since(began)
	if restoreErr != nil {
		t.Fatalf("the restore failed after %d meta leader changes: %v", stepdowns.Load(), restoreErr)
	}
	t.Logf("restored in %s through %d meta leader changes", took.Round(time.Millisecond), stepdowns.Load())
	if stepdowns.Load() == 0 {
		t.Fatal("no meta leader change happened during the restore: the drill proves nothing")
	}
	waitMeta(t, djs)
	st, err := djs.Stream(ctx, "BIG")
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != messages {
		t.Errorf("the restored stream holds %d messages, want %d", info.State.Msgs, messages)
	}
	got, err := st.GetLastMsgForSubject(ctx, "big.x")
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Data) != string(want.Data) || got.Sequence != want.Sequence {
		t.Errorf("the last message differs after the restore: seq %d, want %d", got.Sequence, want.Sequence)
	}
}
