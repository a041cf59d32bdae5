package soracom_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/paging"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracom"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// Groups are read page by page: one call a page, last_evaluated_key from the page's
// x-soracom-next-key, every group once, in order, with its name tag and configuration.
func TestListGroupsFollowsEveryPageOnce(t *testing.T) {
	s := emulator(t, soracomtest.WithGroupPageSize(3))
	for i := range 8 {
		s.PutGroup(soracomtest.Group{ID: fmt.Sprintf("group-%02d", i), Tags: map[string]string{"name": fmt.Sprintf("sensors %d", i)},
			Configuration: map[string]map[string]any{"SoracomFunnel": {"enabled": true, "credentialsId": fmt.Sprintf("set-%d", i)}}})
	}
	groups, err := login(t, s, nil).ListGroups(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 8 {
		t.Fatalf("%d groups, want 8", len(groups))
	}
	for i, g := range groups {
		funnel, _ := g.Configuration["SoracomFunnel"].(map[string]any)
		if g.ID != fmt.Sprintf("group-%02d", i) || g.Name != fmt.Sprintf("sensors %d", i) || g.Index != i ||
			funnel["credentialsId"] != fmt.Sprintf("set-%d", i) || len(g.Unreadable) > 0 {
			t.Errorf("group %d = %+v", i, g)
		}
	}
	if n := s.CountRequests(http.MethodGet, "/v1/groups"); n != 3 {
		t.Errorf("%d list calls for 3 pages", n)
	}
}

// Event handlers come in one call, each with its name and actions.
func TestListEventHandlersReadsNamesAndActions(t *testing.T) {
	s := emulator(t)
	s.PutEventHandler(soracomtest.EventHandler{ID: "handler-1", Name: "to lambda", Actions: []soracomtest.Action{
		{Type: "InvokeAWSLambdaAction", Properties: map[string]any{"credentialsId": "lambda-creds", "endpoint": "https://lambda.us-west-2.amazonaws.com"}},
	}})
	s.PutEventHandler(soracomtest.EventHandler{ID: "handler-2", Name: "mail", Actions: []soracomtest.Action{{Type: "SendMailToOperatorAction"}}})
	handlers, err := login(t, s, nil).ListEventHandlers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(handlers) != 2 || handlers[0].ID != "handler-1" || handlers[0].Name != "to lambda" || len(handlers[0].Actions) != 1 ||
		handlers[1].ID != "handler-2" || handlers[1].Index != 1 {
		t.Fatalf("handlers = %+v", handlers)
	}
	if n := s.CountRequests(http.MethodGet, "/v1/event_handlers"); n != 1 {
		t.Errorf("%d list calls, want 1", n)
	}
}

// A listing that never ends stops: at a next key named before, at the page cap, at the
// item cap; the error names the service and the call, and is a *paging.Error.
func TestGroupListingIsBounded(t *testing.T) {
	page := func(next, body string) soracomtest.Fault {
		return soracomtest.Fault{Status: 200, Header: http.Header{"Content-Type": {"application/json"}, "X-Soracom-Next-Key": {next}}, Body: body}
	}
	one := `[{"groupId":"g1","tags":{"name":"a"},"configuration":{}}]`
	tests := []struct {
		name   string
		inject func(s *soracomtest.Server)
		want   string
	}{
		{"the same next key again", func(s *soracomtest.Server) {
			s.Inject("GET /v1/groups", soracomtest.Always, page("k1", one))
		}, "named a next page it had named before"},
		{"the first page's key (none) as next", func(s *soracomtest.Server) {
			s.Inject("GET /v1/groups", soracomtest.Always, page("", one)) // ends: no next key
		}, ""},
		{"a new key on every page", func(s *soracomtest.Server) {
			for i := range soracom.MaxGroupPages + 1 {
				s.Inject("GET /v1/groups", 1, page(fmt.Sprintf("k%d", i), "[]"))
			}
		}, fmt.Sprintf("more than %d pages", soracom.MaxGroupPages)},
		{"more groups than the cap", func(s *soracomtest.Server) {
			many := "[" + strings.Repeat(`{"groupId":"g","configuration":{}},`, soracom.MaxGroups) + `{"groupId":"h"}]`
			s.Inject("GET /v1/groups", 1, page("", many))
		}, fmt.Sprintf("more than %d items", soracom.MaxGroups)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := offContract(t)
			sess := login(t, s, nil, soracom.WithRetry(fastRetry()))
			tt.inject(s)
			groups, err := sess.ListGroups(context.Background())
			if tt.want == "" {
				if err != nil || len(groups) != 1 {
					t.Fatalf("ListGroups = %d groups, %v", len(groups), err)
				}
				return
			}
			var pe *paging.Error
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "SORACOM listGroups") {
				t.Fatalf("ListGroups = %d groups, %v; want a paging error saying %q", len(groups), err, tt.want)
			}
		})
	}
}

// Each entry is read on its own: a forged id, a name with a line break, a configuration
// that is no object mark that group unreadable, naming the field; no value of it is
// kept but what had its shape, and the other groups come back whole.
func TestGroupEntriesAreReadOneByOne(t *testing.T) {
	const forged = "\n::error::FORGED"
	tests := []struct {
		name       string
		entry      string
		wantField  string
		wantID     string
		keepsRefs  bool
		wantNameOK bool
	}{
		{"a forged id", `{"groupId":"g` + jsonEsc(forged) + `","configuration":{"SoracomFunnel":{"credentialsId":"x"}}}`, soracom.FieldGroupID, "", false, true},
		{"an id as a number", `{"groupId":7,"configuration":{}}`, soracom.FieldGroupID, "", false, true},
		{"a name with a line break", `{"groupId":"g-name","tags":{"name":"a` + jsonEsc(forged) + `"},"configuration":{"SoracomFunnel":{"credentialsId":"x"}}}`, soracom.FieldGroupName, "g-name", true, false},
		{"a configuration that is text", `{"groupId":"g-conf","configuration":"SoracomFunnel"}`, soracom.FieldConfiguration, "g-conf", false, true},
		{"an entry that is no object", `"g-text"`, soracom.FieldEntry, "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := offContract(t)
			sess := login(t, s, nil)
			body := `[{"groupId":"a-good","tags":{"name":"ok"},"configuration":{}},` + tt.entry + `,{"groupId":"z-good","configuration":{}}]`
			s.Inject("GET /v1/groups", 1, soracomtest.Fault{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: body})
			groups, err := sess.ListGroups(context.Background())
			if err != nil || len(groups) != 3 {
				t.Fatalf("ListGroups = %+v, %v", groups, err)
			}
			if len(groups[0].Unreadable)+len(groups[2].Unreadable) > 0 || groups[0].Name != "ok" {
				t.Errorf("good groups not read whole: %+v", groups)
			}
			g := groups[1]
			if len(g.Unreadable) == 0 || g.Unreadable[0] != tt.wantField || g.ID != tt.wantID || g.Index != 1 {
				t.Fatalf("odd group = %+v, want field %s and id %q", g, tt.wantField, tt.wantID)
			}
			if (g.Configuration != nil) != tt.keepsRefs || strings.Contains(fmt.Sprint(g), "FORGED") {
				t.Errorf("odd group kept %+v", g)
			}
		})
	}
}

// An event handler entry is read on its own too.
func TestEventHandlerEntriesAreReadOneByOne(t *testing.T) {
	s := offContract(t)
	sess := login(t, s, nil)
	body := `[{"handlerId":"h1","name":"ok","actionConfigList":[{"type":"InvokeAWSLambdaAction","properties":{"credentialsId":"c"}}]},` +
		`{"handlerId":"h2\u0000x","name":"bad id","actionConfigList":[]},` +
		`{"handlerId":"h3","name":"bad actions","actionConfigList":{"type":"x"}}]`
	s.Inject("GET /v1/event_handlers", 1, soracomtest.Fault{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: body})
	handlers, err := sess.ListEventHandlers(context.Background())
	if err != nil || len(handlers) != 3 {
		t.Fatalf("ListEventHandlers = %+v, %v", handlers, err)
	}
	if len(handlers[0].Unreadable) > 0 || len(handlers[0].Actions) != 1 {
		t.Errorf("good handler = %+v", handlers[0])
	}
	if h := handlers[1]; h.ID != "" || h.Unreadable[0] != soracom.FieldHandlerID {
		t.Errorf("forged id kept: %+v", h)
	}
	if h := handlers[2]; h.ID != "h3" || h.Actions != nil || h.Unreadable[0] != soracom.FieldActions {
		t.Errorf("handler with bad actions = %+v", h)
	}
}

// A denied listing is an *APIError naming the SAM permission of its own API, not
// Credential's; a forged next key is refused with an error that does not repeat it.
func TestListingErrorsNameTheirPermissionAndCall(t *testing.T) {
	s := emulator(t)
	s.Deny(soracomtest.PermListGroups)
	s.Deny(soracomtest.PermListEventHandlers)
	sess := login(t, s, nil)
	_, gerr := sess.ListGroups(context.Background())
	_, herr := sess.ListEventHandlers(context.Background())
	for err, want := range map[error]string{gerr: "Group:listGroups", herr: "EventHandler:listEventHandlers"} {
		var apiErr *soracom.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusForbidden || apiErr.Permission() != want {
			t.Errorf("err = %v, want a 403 naming %s", err, want)
		}
	}

	o := offContract(t)
	osess := login(t, o, nil)
	o.Inject("GET /v1/groups", 1, soracomtest.Fault{Status: 200, Header: http.Header{"Content-Type": {"application/json"},
		"X-Soracom-Next-Key": {strings.Repeat("k", 2000)}}, Body: "[]"})
	_, err := osess.ListGroups(context.Background())
	var answerErr *soracom.AnswerError
	if !errors.As(err, &answerErr) || strings.Contains(err.Error(), strings.Repeat("k", 100)) {
		t.Errorf("forged next key: %v", err)
	}
}

// Group pages are paced like every call: with a budget of a few requests a window, a
// listing of many pages waits for the refresh instead of meeting a 429.
func TestGroupPagesStayWithinTheRateLimit(t *testing.T) {
	s := emulator(t, soracomtest.WithGroupPageSize(1), soracomtest.WithRateLimit(4), soracomtest.WithRateLimitWindow(300*time.Millisecond))
	for i := range 9 {
		s.PutGroup(soracomtest.Group{ID: fmt.Sprintf("g%d", i)})
	}
	groups, err := login(t, s, nil).ListGroups(context.Background())
	if err != nil || len(groups) != 9 {
		t.Fatalf("ListGroups = %d, %v", len(groups), err)
	}
	if n := s.RateLimited(); n != 0 {
		t.Errorf("%d answers were 429; the pages should have waited for the refresh", n)
	}
}

// jsonEsc escapes s for a JSON string literal.
func jsonEsc(s string) string {
	return strings.NewReplacer("\n", `\n`, `"`, `\"`).Replace(s)
}
