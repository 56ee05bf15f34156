package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/pkg/backup"
)

// jobOutcome is what a finished job says.
type jobOutcome struct {
	done, failed bool
	result       backup.Result
}

// outcomeOf reads a job's state and, once it ended, its pod's termination message:
// the result the job wrote, or the tail of its log when it died before writing one.
func outcomeOf(ctx context.Context, c client.Reader, job *batchv1.Job) (jobOutcome, error) {
	var out jobOutcome
	for _, cond := range job.Status.Conditions {
		if cond.Status != corev1.ConditionTrue {
			continue
		}
		switch cond.Type {
		case batchv1.JobComplete:
			out.done = true
		case batchv1.JobFailed:
			out.done, out.failed = true, true
			out.result.Error = cond.Message
		}
	}
	if !out.done {
		return out, nil
	}
	var pods corev1.PodList
	if err := c.List(ctx, &pods, client.InNamespace(job.Namespace), client.MatchingLabels{"batch.kubernetes.io/job-name": job.Name}); err != nil {
		return out, err
	}
	for _, p := range pods.Items {
		for _, cs := range p.Status.ContainerStatuses {
			if t := cs.State.Terminated; t != nil && t.Message != "" {
				msg := parseTermination(t.Message)
				if out.failed && msg.Error == "" {
					msg.Error = out.result.Error
				}
				out.result = msg
			}
		}
	}
	if out.failed && out.result.Error == "" {
		out.result.Error = fmt.Sprintf("job %s failed", job.Name)
	}
	return out, nil
}

// parseTermination reads the job's result, or keeps the text (a log tail) as the
// error.
func parseTermination(msg string) backup.Result {
	var res backup.Result
	if err := json.Unmarshal([]byte(msg), &res); err != nil {
		return backup.Result{Error: strings.TrimSpace(msg)}
	}
	return res
}
