package dataplane

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/stowage/stowage/internal/dbtest"
)

func appStream(t *testing.T, servers []*dbtest.NATSServer, name string, replicas int) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(dbtest.URLs(servers), nats.UserInfo(dbtest.NATSAppUser, dbtest.NATSAppPassword),
		nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		cctx, ccancel := context.WithTimeout(ctx, 3*time.Second)
		_, err = js.CreateStream(cctx, jetstream.StreamConfig{Name: name, Subjects: []string{name + ".>"}, Replicas: replicas, Storage: jetstream.FileStorage})
		ccancel()
		if err == nil {
			return nc, js
		}
		if ctx.Err() != nil {
			t.Fatalf("creating stream %s: %v (last error %v)", name, ctx.Err(), err)
		}
		time.Sleep(200 * time.Millisecond) // the meta group is still electing
	}
}

func systemClient(t *testing.T, servers []*dbtest.NATSServer) *Client {
	t.Helper()
	c, err := Connect(dbtest.URLs(servers), dbtest.NATSSystemUser, dbtest.NATSSystemPassword)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func waitHealthy(t *testing.T, c *Client, timeout time.Duration, also func(Health) error) Health {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		h, err := c.Health(ctx)
		cancel()
		if err == nil && h.Healthy() {
			if also == nil {
				return h
			}
			if err = also(h); err == nil {
				return h
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("JetStream not healthy after %s: %+v %v", timeout, h, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// TestDataPlaneR3StreamSurvivesAKilledServer publishes to an R3 stream, recording
// every acknowledged message, and SIGKILLs the server process leading the stream: the
// stream takes writes again once the others elect a leader, and a consumer reads back
// every acknowledged message.
func TestDataPlaneR3StreamSurvivesAKilledServer(t *testing.T) {
	servers := dbtest.StartNATSCluster(t, 3)
	sys := systemClient(t, servers)
	_, js := appStream(t, servers, "ORDERS", 3)
	h := waitHealthy(t, sys, 30*time.Second, nil)
	if len(h.Servers) != 3 || len(h.Streams) != 1 || h.Streams[0].Replicas != 3 || len(h.Streams[0].Peers) != 3 {
		t.Fatalf("health %+v", h)
	}

	var mu sync.Mutex
	var acked []int
	var sentAt, ackedAt []time.Time // of each acknowledged message
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for id := 1; ctx.Err() == nil; id++ {
			sent := time.Now()
			pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
			_, err := js.Publish(pctx, "ORDERS.new", []byte(strconv.Itoa(id)))
			cancel()
			if err == nil {
				mu.Lock()
				acked, sentAt, ackedAt = append(acked, id), append(sentAt, sent), append(ackedAt, time.Now())
				mu.Unlock()
			}
		}
	}()
	time.Sleep(time.Second)
	leader := h.Streams[0].Leader
	killedAt := time.Now()
	for _, s := range servers {
		if s.Name == leader {
			s.Kill()
		}
	}
	// Resumed: the first message sent after the kill that was acknowledged (one in
	// flight at the kill may still be acknowledged by the dying leader).
	var resumed time.Duration
	for deadline := time.Now().Add(60 * time.Second); resumed == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		for i, at := range sentAt {
			if at.After(killedAt) {
				resumed = ackedAt[i].Sub(killedAt)
				break
			}
		}
		mu.Unlock()
	}
	time.Sleep(time.Second)
	stop()
	<-done
	if resumed == 0 {
		t.Fatalf("the stream took no write within a minute after %s was killed", leader)
	}
	t.Logf("killed the stream leader %s: writes resumed after %s; %d messages acknowledged", leader, resumed.Round(time.Millisecond), len(acked))

	// Read everything back (the consumer is created once the stream answers again).
	rctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var cons jetstream.Consumer
	for {
		cctx, ccancel := context.WithTimeout(rctx, 5*time.Second)
		var err error
		cons, err = js.OrderedConsumer(cctx, "ORDERS", jetstream.OrderedConsumerConfig{})
		ccancel()
		if err == nil {
			break
		}
		if rctx.Err() != nil {
			t.Fatalf("reading the stream back: %v", err)
		}
	}
	have := map[int]bool{}
	for len(have) < len(acked) && rctx.Err() == nil {
		batch, err := cons.Fetch(500, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			continue
		}
		for m := range batch.Messages() {
			id, _ := strconv.Atoi(string(m.Data()))
			have[id] = true
		}
	}
	var lost []int
	for _, id := range acked {
		if !have[id] {
			lost = append(lost, id)
		}
	}
	if len(lost) > 0 {
		t.Errorf("%d of %d acknowledged messages are missing: %v", len(lost), len(acked), lost[:min(20, len(lost))])
	}
}

// TestDataPlanePeerRemovalKeepsStreamsHealthy scales four servers to three the way
// the operator does: the scale-down is allowed (every R3 stream fits on three), the
// leaving server stops and is removed from the meta group, and
// JetStream is healthy again with every stream at three current replicas, none on
// the removed server. (The server stops with SIGTERM here; the pods' preStop hook
// puts it in lame-duck mode first, which takes the 30 s minimum.)
func TestDataPlanePeerRemovalKeepsStreamsHealthy(t *testing.T) {
	servers := dbtest.StartNATSCluster(t, 4)
	sys := systemClient(t, servers)
	for i := range 3 {
		appStream(t, servers, fmt.Sprintf("S%d", i), 3)
	}
	h := waitHealthy(t, sys, 30*time.Second, nil)
	leaving := "n-3"
	if why := ScaleDownBlocker(h, leaving, h.Servers); why != "" {
		t.Fatalf("scale-down to three refused: %s", why)
	}
	servers[3].Stop()
	started := time.Now()
	// Each attempt gets its own deadline: if the stopped server led the meta group, the
	// request waits for a new leader, which a two-core machine under load elects slowly.
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err := sys.RemoveServer(ctx, leaving)
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("removing %s: %v", leaving, err)
		}
	}
	h = waitHealthy(t, sys, 60*time.Second, func(h Health) error {
		if !slices.Equal(h.Servers, []string{"n-0", "n-1", "n-2"}) {
			return fmt.Errorf("meta group %v", h.Servers)
		}
		for _, s := range h.Streams {
			if len(s.Peers) != 3 || slices.Contains(s.Peers, leaving) {
				return fmt.Errorf("stream %s on %v", s.Name, s.Peers)
			}
		}
		return nil
	})
	t.Logf("%s removed; JetStream healthy on %v after %s", leaving, h.Servers, time.Since(started).Round(time.Millisecond))
}

// TestDataPlaneScaleDownRefusedBelowReplicas: three servers holding an R3 stream may
// not become two.
func TestDataPlaneScaleDownRefusedBelowReplicas(t *testing.T) {
	servers := dbtest.StartNATSCluster(t, 3)
	sys := systemClient(t, servers)
	appStream(t, servers, "ORDERS", 3)
	h := waitHealthy(t, sys, 30*time.Second, nil)
	why := ScaleDownBlocker(h, "n-2", h.Servers)
	if why == "" {
		t.Fatal("a scale-down that leaves an R3 stream on two servers was allowed")
	}
	t.Logf("refused: %s", why)
}

// TestDataPlaneConsumersCount: a consumer whose replica falls behind makes JetStream
// unhealthy (restarts and scale-downs wait for it) until it is current again. One
// server is frozen (SIGSTOP), so its replica of the R3 consumer stops answering. When
// the system client happens to be connected to that server, it must notice and move
// on (pings every 2 s) rather than wait on a connection that never answers.
func TestDataPlaneConsumersCount(t *testing.T) {
	servers := dbtest.StartNATSCluster(t, 3)
	frozen := servers[2]
	// Connected to the server about to freeze first.
	sys, err := Connect(dbtest.URLs([]*dbtest.NATSServer{frozen, servers[0], servers[1]}), dbtest.NATSSystemUser, dbtest.NATSSystemPassword, nats.DontRandomize())
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	_, js := appStream(t, servers, "JOBS", 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := js.CreateOrUpdateConsumer(ctx, "JOBS", jetstream.ConsumerConfig{Durable: "worker", Replicas: 3, AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
		t.Fatal(err)
	}
	waitHealthy(t, sys, 30*time.Second, func(h Health) error {
		if len(h.Streams) != 1 || h.Streams[0].Consumers != 1 {
			return fmt.Errorf("streams %+v", h.Streams)
		}
		return nil
	})

	frozen.Freeze()
	behind := func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		h, err := sys.Health(ctx)
		return err == nil && len(h.Streams) == 1 && slices.Contains(h.Streams[0].ConsumersBehind, "worker") && !h.Healthy()
	}
	deadline := time.Now().Add(45 * time.Second)
	for !behind() {
		if time.Now().After(deadline) {
			frozen.Thaw()
			t.Fatal("a consumer with a frozen replica was never reported behind")
		}
		time.Sleep(500 * time.Millisecond)
	}
	frozen.Thaw()
	h := waitHealthy(t, sys, 60*time.Second, nil)
	t.Logf("consumer behind while %s was frozen; healthy again: %+v", frozen.Name, h.Streams)
}
