package soracomtest_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// groupPage is one page of GET /v1/groups as a client reads it.
type groupPage struct {
	ids  []string
	next string
}

func listGroups(t *testing.T, s *soracomtest.Server, sess *session, query string) groupPage {
	t.Helper()
	r := mustDo(t, s, sess, "GET", "/v1/groups"+query, nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET /v1/groups%s: %d %s", query, r.status, r.body)
	}
	var groups []struct {
		GroupID       string
		Tags          map[string]string
		Configuration map[string]map[string]any
	}
	r.json(t, &groups)
	p := groupPage{next: r.header.Get("x-soracom-next-key")}
	for _, g := range groups {
		if _, ok := g.Tags["name"]; !ok {
			t.Errorf("group %s has no name tag; the spec says tags always hold one", g.GroupID)
		}
		p.ids = append(p.ids, g.GroupID)
	}
	return p
}

func TestGroupsArePagedByLastEvaluatedKey(t *testing.T) {
	s := soracomtest.Start(t, soracomtest.WithGroupPageSize(3))
	sess := login(t, s)
	for i := 7; i >= 1; i-- { // stored out of order: pages follow id order
		s.PutGroup(soracomtest.Group{ID: fmt.Sprintf("g%d", i), Tags: map[string]string{"name": fmt.Sprintf("group %d", i)}})
	}
	tests := []struct {
		name, query string
		want        groupPage
	}{
		{"the server's page size caps a page", "", groupPage{[]string{"g1", "g2", "g3"}, "g3"}},
		{"limit asks for a smaller page", "?limit=2", groupPage{[]string{"g1", "g2"}, "g2"}},
		{"limit above the page size gets the page size", "?limit=50", groupPage{[]string{"g1", "g2", "g3"}, "g3"}},
		{"the next page starts after the key", "?last_evaluated_key=g3", groupPage{[]string{"g4", "g5", "g6"}, "g6"}},
		{"the last page has no next key", "?last_evaluated_key=g6", groupPage{[]string{"g7"}, ""}},
		{"a key that names no group still pages by id", "?last_evaluated_key=g35", groupPage{[]string{"g4", "g5", "g6"}, "g6"}},
		{"past the end is an empty page", "?last_evaluated_key=g9", groupPage{nil, ""}},
		{"a tag filter", "?tag_name=name&tag_value=group+5", groupPage{[]string{"g5"}, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := listGroups(t, s, sess, tt.query)
			if strings.Join(got.ids, ",") != strings.Join(tt.want.ids, ",") || got.next != tt.want.next {
				t.Errorf("got %v next %q, want %v next %q", got.ids, got.next, tt.want.ids, tt.want.next)
			}
		})
	}
	for _, bad := range []string{"?limit=0", "?limit=x", "?limit=-1"} {
		if r := mustDo(t, s, sess, "GET", "/v1/groups"+bad, nil); r.status != http.StatusBadRequest {
			t.Errorf("GET /v1/groups%s: %d, want 400", bad, r.status)
		}
	}
}

func TestGroupsCarryTheirConfiguration(t *testing.T) {
	s := soracomtest.Start(t)
	sess := login(t, s)
	s.PutGroup(soracomtest.Group{ID: "g1", Configuration: map[string]map[string]any{
		"SoracomFunnel": {"enabled": true, "credentials": map[string]any{"$credentialsId": "funnel-aws"}},
	}})
	r := mustDo(t, s, sess, "GET", "/v1/groups", nil)
	var groups []struct {
		OperatorID    string
		Tags          map[string]string
		Configuration map[string]map[string]any
	}
	r.json(t, &groups)
	if len(groups) != 1 || groups[0].OperatorID != soracomtest.DefaultOperatorID || groups[0].Tags["name"] != "" {
		t.Fatalf("groups %+v", groups)
	}
	creds, _ := groups[0].Configuration["SoracomFunnel"]["credentials"].(map[string]any)
	if creds["$credentialsId"] != "funnel-aws" {
		t.Errorf("configuration %v does not carry the stored reference", groups[0].Configuration)
	}
}

func TestEventHandlersAreListedWhole(t *testing.T) {
	s := soracomtest.Start(t)
	sess := login(t, s)
	s.PutEventHandler(soracomtest.EventHandler{ID: "h2", Name: "to lambda", TargetGroupID: "g1", Actions: []soracomtest.Action{
		{Type: "InvokeAWSLambdaAction", Properties: map[string]any{"credentialsId": "lambda-aws", "functionName": "f"}},
	}})
	s.PutEventHandler(soracomtest.EventHandler{ID: "h1", Name: "mail", Actions: []soracomtest.Action{{Type: "SendMailToOperatorAction"}}})
	r := mustDo(t, s, sess, "GET", "/v1/event_handlers", nil)
	var handlers []struct {
		HandlerID, Name, Status string
		ActionConfigList        []struct {
			Type       string
			Properties map[string]any
		}
	}
	r.json(t, &handlers)
	if len(handlers) != 2 || handlers[0].HandlerID != "h1" || handlers[1].HandlerID != "h2" || handlers[0].Status != "active" {
		t.Fatalf("handlers %+v", handlers)
	}
	a := handlers[1].ActionConfigList[0]
	if a.Properties["credentialsId"] != "lambda-aws" || a.Properties["executionDateTimeConst"] != "IMMEDIATELY" {
		t.Errorf("action %+v", a)
	}
	r = mustDo(t, s, sess, "GET", "/v1/event_handlers?target=group", nil)
	handlers = nil
	r.json(t, &handlers)
	if len(handlers) != 1 || handlers[0].HandlerID != "h2" {
		t.Errorf("target=group: %+v", handlers)
	}
	if r := mustDo(t, s, sess, "GET", "/v1/event_handlers?target=x", nil); r.status != http.StatusBadRequest {
		t.Errorf("target=x: %d, want 400", r.status)
	}
}
