// Package events is the operator's event bus: every Kubernetes Event a controller or
// data-plane manager records about a cluster (Creating, ClusterReady, Failover,
// Switchover, Scaling, RollingRestart, …) is also published on NATS as CloudEvents-style
// JSON, on stowage.events.<namespace>.<kind>.<name>.<type>, so applications can react.
// Publishing never blocks or fails the operator: a message that cannot go out is
// dropped and counted.
package events

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// SubjectPrefix starts every event subject.
const SubjectPrefix = "stowage.events"

// Event is one lifecycle event, shaped after CloudEvents 1.0 (structured JSON).
type Event struct {
	SpecVersion     string    `json:"specversion"`
	ID              string    `json:"id"`
	Source          string    `json:"source"`
	Type            string    `json:"type"`
	Subject         string    `json:"subject"`
	Time            time.Time `json:"time"`
	DataContentType string    `json:"datacontenttype"`
	Data            Data      `json:"data"`
}

// Data is what happened, in the words of the Kubernetes Event.
type Data struct {
	Namespace string `json:"namespace"`
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	// Reason is the Kubernetes Event's reason (Failover, ClusterReady, …).
	Reason string `json:"reason"`
	// Warning is true for Kubernetes Events of type Warning.
	Warning bool   `json:"warning,omitempty"`
	Message string `json:"message"`
}

// TypeName turns an Event reason into the event type's last part: lower-case words
// joined by dashes ("PrimaryUnreachable" → "primary-unreachable").
func TypeName(reason string) string {
	var b strings.Builder
	for i, r := range reason {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('-')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Subject is where an event about the named object is published. Each part is one
// subject token, so subscribers can filter on any of them with wildcards.
func Subject(namespace, kind, name, reason string) string {
	return strings.Join([]string{SubjectPrefix, token(namespace), token(kind), token(name), TypeName(reason)}, ".")
}

// token keeps a name to one subject token (Kubernetes names hold no spaces, but may
// hold dots).
func token(s string) string {
	return strings.NewReplacer(".", "_", " ", "_", "*", "_", ">", "_").Replace(s)
}

// New builds the event for a Kubernetes Event about an object.
func New(id string, at time.Time, d Data) Event {
	return Event{
		SpecVersion:     "1.0",
		ID:              id,
		Source:          fmt.Sprintf("/apis/stowage.dev/v1alpha1/namespaces/%s/%s/%s", d.Namespace, strings.ToLower(d.Kind), d.Name),
		Type:            "dev.stowage." + TypeName(d.Reason),
		Subject:         Subject(d.Namespace, d.Kind, d.Name, d.Reason),
		Time:            at.UTC(),
		DataContentType: "application/json",
		Data:            d,
	}
}

// Marshal renders the event as JSON.
func (e Event) Marshal() []byte {
	b, _ := json.Marshal(e) // plain data: cannot fail
	return b
}
