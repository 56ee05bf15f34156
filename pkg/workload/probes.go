package workload

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TCPProbe succeeds when the port accepts connections.
func TCPProbe(port, periodSeconds, failureThreshold int32) *corev1.Probe {
	return probe(corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(port)}}, periodSeconds, failureThreshold)
}

// ExecProbe succeeds when the command exits 0.
func ExecProbe(periodSeconds, failureThreshold int32, command ...string) *corev1.Probe {
	return probe(corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: command}}, periodSeconds, failureThreshold)
}

// HTTPProbe succeeds when GET path on port answers 2xx or 3xx.
func HTTPProbe(port int32, path string, periodSeconds, failureThreshold int32) *corev1.Probe {
	return probe(corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(port), Path: path}}, periodSeconds, failureThreshold)
}

func probe(h corev1.ProbeHandler, periodSeconds, failureThreshold int32) *corev1.Probe {
	return &corev1.Probe{ProbeHandler: h, PeriodSeconds: periodSeconds, TimeoutSeconds: 3, FailureThreshold: failureThreshold}
}
