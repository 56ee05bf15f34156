package controller

import (
	"encoding/json"
	"fmt"
	"path"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/pkg/backup"
	"github.com/stowage/stowage/pkg/workload"
)

// Labels of jobs and their pods.
const (
	LabelJobKind = "stowage.dev/job"    // backup or restore
	LabelJobFor  = "stowage.dev/job-of" // the Backup's or Restore's name
	pvcMount     = "/backups"
	jobUID       = 65532
	// restorePort is where a Redis restore job serves its RDB to the member.
	restorePort = 6390
)

// jobInput is everything a backup or restore Job is built from.
type jobInput struct {
	Name, Namespace string
	Owner           metav1.OwnerReference
	Image           string
	ServiceAccount  string
	Spec            backup.JobSpec
	Target          v1alpha1.BackupTarget
	Password        corev1.SecretKeySelector
	// ObjectName is the Backup or Restore the job reports progress to (of kind
	// Spec.Kind).
	ObjectName string
}

// jobSpecOf is the spec a Job was built with (buildJob).
func jobSpecOf(job *batchv1.Job) (backup.JobSpec, error) {
	var spec backup.JobSpec
	for _, c := range job.Spec.Template.Spec.Containers {
		for _, e := range c.Env {
			if e.Name == backup.EnvJob {
				if err := json.Unmarshal([]byte(e.Value), &spec); err != nil {
					return spec, fmt.Errorf("job %s: %s: %w", job.Name, backup.EnvJob, err)
				}
				return spec, nil
			}
		}
	}
	return spec, fmt.Errorf("job %s carries no %s", job.Name, backup.EnvJob)
}

// buildJob is the Job that runs `stowage-operator job` with the spec in its
// environment and credentials from Secrets. One attempt: a failed backup is
// reported, and a schedule takes the next one.
func buildJob(in jobInput) *batchv1.Job {
	spec := in.Spec
	var volumes []corev1.Volume
	var mounts []corev1.VolumeMount
	env := []corev1.EnvVar{
		{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
		{Name: EnvObject, Value: in.Spec.Kind + "/" + in.ObjectName},
	}
	if in.Password.Name != "" { // a delete job reaches no cluster
		env = append(env, corev1.EnvVar{Name: backup.EnvPassword, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &in.Password}})
	}
	switch t := in.Target; {
	case t.PVC != nil:
		spec.Target = backup.TargetSpec{Dir: path.Join(pvcMount, t.PVC.Path)}
		volumes = append(volumes, corev1.Volume{Name: "backups", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: t.PVC.ClaimName}}})
		mounts = append(mounts, corev1.VolumeMount{Name: "backups", MountPath: pvcMount})
	case t.S3 != nil:
		spec.Target = backup.TargetSpec{S3: &backup.S3Location{Endpoint: t.S3.Endpoint, Bucket: t.S3.Bucket, Prefix: t.S3.Prefix,
			Region: t.S3.Region, Insecure: t.S3.Insecure}}
		secretKey := func(key string) *corev1.EnvVarSource {
			return &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: t.S3.CredentialsSecretRef, Key: key}}
		}
		env = append(env,
			corev1.EnvVar{Name: backup.EnvS3AccessKey, ValueFrom: secretKey("accessKeyID")},
			corev1.EnvVar{Name: backup.EnvS3SecretKey, ValueFrom: secretKey("secretAccessKey")})
	}
	raw, _ := json.Marshal(spec) // plain data: cannot fail
	env = append([]corev1.EnvVar{{Name: backup.EnvJob, Value: string(raw)}}, env...)
	labels := map[string]string{
		workload.LabelName: spec.Engine, LabelJobKind: spec.Kind, LabelJobFor: in.ObjectName,
		"app.kubernetes.io/managed-by": "stowage",
	}
	return &batchv1.Job{
		TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Name: in.Name, Namespace: in.Namespace, Labels: labels,
			OwnerReferences: []metav1.OwnerReference{in.Owner}},
		Spec: batchv1.JobSpec{
			BackoffLimit:            ptr.To[int32](0),
			TTLSecondsAfterFinished: ptr.To[int32](24 * 3600),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					RestartPolicy:      corev1.RestartPolicyNever,
					ServiceAccountName: in.ServiceAccount,
					SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](jobUID),
						RunAsGroup: ptr.To[int64](jobUID), FSGroup: ptr.To[int64](jobUID),
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
					Containers: []corev1.Container{{
						Name:  spec.Kind,
						Image: in.Image,
						Args:  []string{"job"},
						Env:   env,
						Ports: []corev1.ContainerPort{{Name: "restore", ContainerPort: restorePort, Protocol: corev1.ProtocolTCP}},
						SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true),
							Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
						VolumeMounts:             mounts,
						TerminationMessagePath:   backup.TerminationPath,
						TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
					}},
					Volumes: volumes,
				},
			},
		},
	}
}

// EnvObject names the Backup or Restore a job reports to ("backup/<name>").
const EnvObject = "STOWAGE_OBJECT"
