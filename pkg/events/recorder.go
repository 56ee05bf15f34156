package events

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// Recorder records Kubernetes Events as its inner recorder does and publishes each
// one about an object of the stowage.dev group on the bus too.
type Recorder struct {
	record.EventRecorder
	Bus *Bus
	// Scheme names the kind of typed objects, which carry no TypeMeta once read.
	Scheme *runtime.Scheme
	now    func() time.Time
}

// NewRecorder wraps inner.
func NewRecorder(inner record.EventRecorder, bus *Bus, scheme *runtime.Scheme) *Recorder {
	return &Recorder{EventRecorder: inner, Bus: bus, Scheme: scheme, now: time.Now}
}

func (r *Recorder) Event(obj runtime.Object, eventtype, reason, message string) {
	r.EventRecorder.Event(obj, eventtype, reason, message)
	r.publish(obj, eventtype, reason, message)
}

func (r *Recorder) Eventf(obj runtime.Object, eventtype, reason, format string, args ...any) {
	r.Event(obj, eventtype, reason, fmt.Sprintf(format, args...))
}

func (r *Recorder) AnnotatedEventf(obj runtime.Object, annotations map[string]string, eventtype, reason, format string, args ...any) {
	r.EventRecorder.AnnotatedEventf(obj, annotations, eventtype, reason, format, args...)
	r.publish(obj, eventtype, reason, fmt.Sprintf(format, args...))
}

func (r *Recorder) publish(obj runtime.Object, eventtype, reason, message string) {
	o, ok := obj.(client.Object)
	if !ok || r.Bus == nil {
		return
	}
	gvk, err := apiutil.GVKForObject(obj, r.Scheme)
	if err != nil || gvk.Group != "stowage.dev" {
		return // members' pods and other objects: the cluster's own events say it
	}
	r.Bus.Publish(New(newID(), r.now(), Data{
		Namespace: o.GetNamespace(), Kind: gvk.Kind, Name: o.GetName(),
		Reason: reason, Warning: eventtype == corev1.EventTypeWarning, Message: message,
	}))
}

// Manager is a controller-runtime manager whose event recorders also publish on the
// bus, so every controller and data-plane manager set up with it does, unchanged.
type Manager struct {
	ctrl.Manager
	Bus *Bus
}

// GetEventRecorderFor implements ctrl.Manager.
func (m Manager) GetEventRecorderFor(name string) record.EventRecorder {
	return NewRecorder(m.Manager.GetEventRecorderFor(name), m.Bus, m.GetScheme())
}
