package workload

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// HeadlessService gives every member a stable DNS name. It publishes members that are
// not ready yet, because members must find each other before they can become ready.
func HeadlessService(bp Blueprint) *corev1.Service {
	svc := service(bp, bp.Names().HeadlessService(), SelectorLabels(bp.Engine, bp.Name))
	svc.Spec.ClusterIP = corev1.ClusterIPNone
	svc.Spec.PublishNotReadyAddresses = true
	svc.Spec.Ports = nil
	for _, p := range bp.Container.Ports {
		svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{Name: p.Name, Port: p.ContainerPort, Protocol: corev1.ProtocolTCP})
	}
	return svc
}

// ClientServices are what applications connect to: for engines with a primary one
// Service that follows the primary and one over the ready replicas, otherwise one
// Service over all ready members.
func ClientServices(bp Blueprint) []*corev1.Service {
	names, sel := bp.Names(), SelectorLabels(bp.Engine, bp.Name)
	if !bp.HasPrimary {
		return []*corev1.Service{service(bp, names.ClientService(), sel)}
	}
	return []*corev1.Service{
		service(bp, names.PrimaryService(), withLabel(sel, LabelRole, RolePrimary)),
		service(bp, names.ReplicaService(), withLabel(sel, LabelRole, RoleReplica)),
	}
}

func service(bp Blueprint, name string, selector map[string]string) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: bp.objectMeta(name),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: selector,
			Ports:    bp.ClientPorts,
		},
	}
}
