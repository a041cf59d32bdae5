package e2e

// Rotate only when due: with rotate-after, a run whose key is young changes nothing and
// makes only the reading calls; an old key is rotated, and the log says why.

import (
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awstest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// ageKey gives the world's sets a key of the user created daysOld days ago.
func (w *rotationWorld) ageKey(daysOld int) {
	w.acct.DeleteKey(w.old.ID)
	w.old = w.acct.AddKeyCreated(rotUser, awstest.Active, time.Now().AddDate(0, 0, -daysOld))
	for _, id := range []string{"funnel-aws", "harvest-aws"} {
		w.soracom.PutCredentialSet(soracomtest.CredentialSet{ID: id, Type: "aws-credentials", Description: id + " consumer",
			Credentials: map[string]any{"accessKeyId": w.old.ID, "secretAccessKey": "old-secret-" + id}})
	}
}

func TestRotationNotDueIsACheapNoOp(t *testing.T) {
	w := newRotationWorld(t)
	w.ageKey(20)
	w.inputs["rotate-after"] = "90d"
	r := w.run(t)
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	var iam []string
	for _, req := range w.acct.Requests() {
		if req.Service == "iam" {
			iam = append(iam, req.Action)
		}
	}
	if strings.Join(iam, " ") != "ListAccessKeys" {
		t.Errorf("IAM calls %v, want one ListAccessKeys", iam)
	}
	if got := requestLine(w.soracom); got != "POST /v1/auth, GET /v1/credentials, POST /v1/auth/logout" {
		t.Errorf("SORACOM calls: %s", got)
	}
	if keys := w.acct.Keys(rotUser); len(keys) != 1 || keys[0].ID != w.old.ID || w.key(t, "funnel-aws") != w.old.ID {
		t.Errorf("something changed: %+v", keys)
	}
	next := w.old.Created.AddDate(0, 0, 90).UTC().Format(time.RFC3339)
	for name, want := range map[string]string{"rotated": "false", "key-age-days": "20", "next-rotation": next, "operation": "skipped"} {
		if r.outputs[name] != want {
			t.Errorf("output %s = %q, want %q", name, r.outputs[name], want)
		}
	}
	if !strings.Contains(r.summary, "not due until "+next) {
		t.Errorf("summary does not say when the key is due:\n%s", r.summary)
	}
}

func TestRotationDueRotatesAndSaysWhy(t *testing.T) {
	w := newRotationWorld(t)
	w.ageKey(100)
	w.inputs["rotate-after"] = "90d"
	r := w.run(t)
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	if !strings.Contains(r.stdout, "Rotating now: the key …"+w.old.ID[len(w.old.ID)-4:]+" the sets hold is 100 days old, rotate-after is 90 days\n") {
		t.Errorf("the log does not say why in one line:\n%s", r.stdout)
	}
	if r.outputs["rotated"] != "true" || r.outputs["key-age-days"] != "100" || r.outputs["next-rotation"] == "" {
		t.Errorf("outputs: %v", r.outputs)
	}
	if w.key(t, "funnel-aws") == w.old.ID {
		t.Errorf("the old key is still in funnel-aws")
	}
}
