package dataplane

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/stowage/stowage/internal/dbtest"
	"github.com/stowage/stowage/pkg/backup"
)

// TestDataPlaneStreamSnapshotRoundTrip snapshots every stream of a real JetStream
// cluster (an R3 stream with headers and a consumer part-way through, and an R1 stream)
// into a backup, verifies it, and restores it into a second, empty cluster: every
// message comes back with its sequence, subject, headers and data, and the consumer
// with its position.
func TestDataPlaneStreamSnapshotRoundTrip(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	source := dbtest.StartNATSCluster(t, 3)
	nc, js := appStream(t, source, "ORDERS", 3)
	appStream(t, source, "AUDIT", 1)
	for i := range 2000 {
		msg := &nats.Msg{Subject: fmt.Sprintf("ORDERS.%d", i%10), Data: bytes.Repeat([]byte{byte(i)}, i%300), Header: nats.Header{"N": []string{fmt.Sprint(i)}}}
		if _, err := js.PublishMsg(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := js.Publish(ctx, "AUDIT.x", []byte("one")); err != nil {
		t.Fatal(err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, "ORDERS", jetstream.ConsumerConfig{Durable: "billing", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	// A fetch may end early, with fewer messages or none (a busy machine): fetch until
	// the consumer stands at 500, which the restore must bring back.
	for acked := 0; acked < 500; {
		batch, err := cons.Fetch(500-acked, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			if err := m.DoubleAck(ctx); err != nil {
				t.Fatal(err)
			}
			acked++
		}
		if ctx.Err() != nil {
			t.Fatalf("fetching: %d of 500 acknowledged: %v", acked, batch.Error())
		}
	}
	if info, err := cons.Info(ctx); err != nil || info.AckFloor.Stream != 500 {
		t.Fatalf("the source's consumer before the backup: ack floor %+v, %v", info.AckFloor, err)
	}

	target := backup.Dir{Root: t.TempDir()}
	w, err := backup.NewWriter(target, "ns/bus/b1", backup.Manifest{Engine: "nats", Cluster: "ns/bus"})
	if err != nil {
		t.Fatal(err)
	}
	names, err := Streams(ctx, nc)
	if err != nil || len(names) != 2 {
		t.Fatalf("streams %v, %v", names, err)
	}
	for _, name := range names {
		data, err := w.Create(ctx, "streams/"+name+".tar.s2")
		if err != nil {
			t.Fatal(err)
		}
		meta, err := SnapshotStream(ctx, nc, name, data)
		if err != nil {
			t.Fatal(err)
		}
		if err := data.Close(); err != nil {
			t.Fatal(err)
		}
		mf, _ := w.Create(ctx, "streams/"+name+".json")
		if err := json.NewEncoder(mf).Encode(meta); err != nil {
			t.Fatal(err)
		}
		if err := mf.Close(); err != nil {
			t.Fatal(err)
		}
	}
	m, err := w.Commit(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("snapshot of %v: %d bytes stored", names, m.Bytes())

	r, err := backup.Open(ctx, target, "ns/bus/b1")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	dest := dbtest.StartNATSCluster(t, 3)
	dnc, djs := appStream(t, dest, "WARMUP", 1) // waits for the meta group
	for _, name := range names {
		var meta StreamMeta
		mf, err := r.Open(ctx, r.Files("streams/" + name + ".json")[0].Name)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.NewDecoder(mf).Decode(&meta); err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, mf)
		mf.Close()
		state, err := RestoreStreamRetrying(ctx, dnc, meta, func() (io.ReadCloser, error) {
			return r.Open(ctx, r.Files("streams/" + name + ".tar.s2")[0].Name)
		})
		if err != nil {
			t.Fatal(err)
		}
		if state.Msgs != meta.State.Msgs || state.LastSeq != meta.State.LastSeq {
			t.Errorf("%s restored with %d messages up to %d, want %d up to %d", name, state.Msgs, state.LastSeq, meta.State.Msgs, meta.State.LastSeq)
		}
	}

	src, _ := js.Stream(ctx, "ORDERS")
	dst, err := djs.Stream(ctx, "ORDERS")
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq <= 2000; seq++ {
		a, err := src.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		b, err := dst.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("message %d: %v", seq, err)
		}
		if a.Subject != b.Subject || !bytes.Equal(a.Data, b.Data) || a.Header.Get("N") != b.Header.Get("N") {
			t.Fatalf("message %d differs", seq)
		}
	}
	if info, err := dst.Info(ctx); err != nil || info.Config.Replicas != 3 {
		t.Errorf("restored ORDERS: %+v %v", info, err)
	}
	ci, err := djs.Consumer(ctx, "ORDERS", "billing")
	if err != nil {
		t.Fatal(err)
	}
	info, err := ci.Info(ctx)
	if err != nil || info.AckFloor.Stream != 500 {
		t.Errorf("restored consumer: ack floor %+v, %v", info.AckFloor, err)
	}
}
