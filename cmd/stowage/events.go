package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/stowage/stowage/pkg/events"
)

// watchOptions are the flags of `stowage events watch`.
type watchOptions struct {
	url                   string
	namespace, kind, name string
	reason                string
	output                string
}

func newEventsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "events", Short: "The operator's lifecycle events"}
	o := watchOptions{}
	watch := &cobra.Command{
		Use:   "watch",
		Short: "Print lifecycle events (failover, switchover, scaling, …) as they happen",
		Long: `Print lifecycle events as the operator publishes them on NATS.

The operator runs an embedded NATS server on its pod's loopback by default; reach it with
  kubectl -n stowage-system port-forward deploy/stowage-operator 4222
then run
  stowage events watch --namespace shop --kind MySQLCluster`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			subject, err := o.subject()
			if err != nil {
				return err
			}
			return watchEvents(o.url, subject, o.output, cmd.OutOrStdout())
		},
	}
	f := watch.Flags()
	f.StringVar(&o.url, "url", "nats://127.0.0.1:4222", "NATS URL of the event bus")
	f.StringVarP(&o.namespace, "namespace", "n", "", "only events of clusters in this namespace")
	f.StringVar(&o.kind, "kind", "", "only events of this kind (MySQLCluster, RedisCluster, NATSCluster, Backup, …)")
	f.StringVar(&o.name, "name", "", "only events of the cluster with this name")
	f.StringVar(&o.reason, "reason", "", "only events of this reason (Failover, ClusterReady, …)")
	f.StringVarP(&o.output, "output", "o", "text", "text or json (one CloudEvent per line)")
	cmd.AddCommand(watch)
	return cmd
}

// subject is the NATS subject filter the flags describe.
func (o watchOptions) subject() (string, error) {
	if o.output != "text" && o.output != "json" {
		return "", fmt.Errorf("--output must be text or json, not %q", o.output)
	}
	parts := []string{events.SubjectPrefix}
	for _, p := range []struct{ flag, value string }{{"namespace", o.namespace}, {"kind", o.kind}, {"name", o.name}} {
		if strings.ContainsAny(p.value, ".*> ") {
			return "", fmt.Errorf("--%s %q: must not contain '.', '*', '>' or spaces", p.flag, p.value)
		}
		parts = append(parts, or(p.value, "*"))
	}
	if o.reason != "" {
		parts = append(parts, events.TypeName(o.reason))
	} else {
		parts = append(parts, "*")
	}
	return strings.Join(parts, "."), nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func watchEvents(url, subject, output string, out io.Writer) error {
	conn, err := nats.Connect(url, nats.Name("stowage-cli"))
	if err != nil {
		return fmt.Errorf("connecting to the event bus at %s (is `kubectl -n stowage-system port-forward deploy/stowage-operator 4222` running?): %w", url, err)
	}
	defer conn.Close()
	msgs := make(chan *nats.Msg, 64)
	if _, err := conn.ChanSubscribe(subject, msgs); err != nil {
		return fmt.Errorf("subscribing to %s: %w", subject, err)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt)
	for {
		select {
		case <-stop:
			return nil
		case m := <-msgs:
			printEvent(out, m.Data, output)
		}
	}
}

func printEvent(out io.Writer, data []byte, output string) {
	if output == "json" {
		fmt.Fprintln(out, string(data))
		return
	}
	var e events.Event
	if err := json.Unmarshal(data, &e); err != nil {
		fmt.Fprintf(out, "(unreadable event: %v)\n", err)
		return
	}
	d := e.Data
	level := "Normal "
	if d.Warning {
		level = "Warning"
	}
	fmt.Fprintf(out, "%s  %s  %s/%s/%s  %s: %s\n", e.Time.Local().Format("15:04:05"), level, d.Namespace, d.Kind, d.Name, d.Reason, d.Message)
}
