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

// The spec calls the credential set list unpaged, but SORACOM pages other lists by a
// next key: a set list that names one is read to its last page (one call a page, every
// set once, in order, numbered across pages), never taken for the whole list.
func TestSetListFollowsItsNextKey(t *testing.T) {
	s := emulator(t, soracomtest.WithCredentialPageSize(2))
	for i := range 5 {
		seed(s, fmt.Sprintf("set-%d", i))
	}
	sets, err := login(t, s, nil).ListCredentials(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 5 {
		t.Fatalf("%d sets, want 5", len(sets))
	}
	for i, set := range sets {
		if set.ID != fmt.Sprintf("set-%d", i) || set.Index != i || len(set.Unreadable) > 0 {
			t.Errorf("set %d = %+v", i, set)
		}
	}
	if n := s.CountRequests(http.MethodGet, "/v1/credentials"); n != 3 {
		t.Errorf("%d list calls for 3 pages", n)
	}
}

// A SAM user's AuthKey list that names a next key is read to its last page too.
func TestAuthKeyListFollowsItsNextKey(t *testing.T) {
	s := offContract(t)
	sess := login(t, s, nil)
	s.Inject("GET "+userKeys, 1, nextPage("keyId-a", `[{"authKeyId":"keyId-a","createDateTime":1722480500}]`))
	s.Inject("GET "+userKeys, 1, nextPage("", `[{"authKeyId":"keyId-b","createDateTime":1722480600}]`))
	keys, err := sess.ListUserAuthKeys(context.Background())
	if err != nil || len(keys) != 2 || keys[0].ID != "keyId-a" || keys[1].ID != "keyId-b" {
		t.Fatalf("ListUserAuthKeys = %+v, %v; want keyId-a then keyId-b", keys, err)
	}
	if n := s.CountRequests(http.MethodGet, userKeys); n != 2 {
		t.Errorf("%d list calls for 2 pages", n)
	}
}

// Every SORACOM list is bounded as the group list is: a next key named before, more
// pages than the cap, more items over the pages than the cap stop the listing with a
// *paging.Error naming SORACOM and the call.
func TestEveryListIsBoundedWhenItPages(t *testing.T) {
	repeat := func(entry string, n int) string { return "[" + strings.Repeat(entry+",", n-1) + entry + "]" }
	set := `{"credentialsId":"set-1","type":"psk"}`
	key := `{"authKeyId":"keyId-a","createDateTime":1722480500}`
	lists := []struct {
		call, path string
		one, half  string // a page of one entry; a page of more than half the item cap
		maxPages   int
		list       func(*soracom.Session) (int, error)
	}{
		{"SORACOM listCredentials", "/v1/credentials", repeat(set, 1), repeat(set, soracom.MaxSets/2+1), soracom.MaxSetPages,
			func(s *soracom.Session) (int, error) {
				sets, err := s.ListCredentials(context.Background())
				return len(sets), err
			}},
		{"SORACOM listUserAuthKeys", userKeys, repeat(key, 1), repeat(key, 51), 10,
			func(s *soracom.Session) (int, error) {
				keys, err := s.ListUserAuthKeys(context.Background())
				return len(keys), err
			}},
	}
	for _, l := range lists {
		t.Run(l.call+": the same next key every page", func(t *testing.T) {
			checkEndlessList(t, l.call, l.list, "named a next page it had named before", func(s *soracomtest.Server) {
				s.Inject("GET "+l.path, soracomtest.Always, nextPage("k1", l.one))
			})
		})
		t.Run(l.call+": a new next key every page", func(t *testing.T) {
			checkEndlessList(t, l.call, l.list, fmt.Sprintf("more than %d pages", l.maxPages), func(s *soracomtest.Server) {
				for i := range l.maxPages + 1 {
					s.Inject("GET "+l.path, 1, nextPage(fmt.Sprintf("k%d", i), l.one))
				}
			})
		})
		t.Run(l.call+": more entries over the pages than the cap", func(t *testing.T) {
			checkEndlessList(t, l.call, l.list, "items)", func(s *soracomtest.Server) {
				for i := range 3 {
					s.Inject("GET "+l.path, 1, nextPage(fmt.Sprintf("k%d", i), l.half))
				}
			})
		})
	}
}

// nextPage answers body as a page of a list, with next as its next key.
func nextPage(next, body string) soracomtest.Fault {
	return soracomtest.Fault{Status: 200, Header: http.Header{"Content-Type": {"application/json"}, "X-Soracom-Next-Key": {next}}, Body: body}
}

// checkEndlessList lists through list against an emulator that inject scripted, and
// wants a paging error naming call and saying want.
func checkEndlessList(t *testing.T, call string, list func(*soracom.Session) (int, error), want string, inject func(*soracomtest.Server)) {
	t.Helper()
	s := offContract(t)
	sess := login(t, s, nil)
	inject(s)
	n, err := list(sess)
	var pe *paging.Error
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), call) {
		t.Fatalf("list = %d entries, %v; want a paging error naming %s and saying %q", n, err, call, want)
	}
}

// A listing is bounded in time as one call is: a server that answers each page slowly,
// well within a call's bound but with a new next key every time, is stopped once the
// pages together take longer than the call's deadline, with an error naming the call.
func TestSlowEndlessListingsStopAtTheCallsDeadline(t *testing.T) {
	r := fastRetry()
	r.Deadline = 600 * time.Millisecond
	lists := map[string]func(*soracom.Session) error{
		"/v1/credentials": func(s *soracom.Session) error { _, err := s.ListCredentials(context.Background()); return err },
		"/v1/groups":      func(s *soracom.Session) error { _, err := s.ListGroups(context.Background()); return err },
		"/v1/event_handlers": func(s *soracom.Session) error {
			_, err := s.ListEventHandlers(context.Background())
			return err
		},
		userKeys: func(s *soracom.Session) error { _, err := s.ListUserAuthKeys(context.Background()); return err },
	}
	for path, list := range lists {
		t.Run(path, func(t *testing.T) {
			s := offContract(t)
			sess := login(t, s, nil, soracom.WithRetry(r))
			for i := range 50 {
				f := nextPage(fmt.Sprintf("k%d", i), "[]")
				f.Delay = 100 * time.Millisecond
				s.Inject("GET "+path, 1, f)
			}
			start := time.Now()
			err := list(sess)
			var pe *paging.Error
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), "more than 600ms for its pages") {
				t.Fatalf("err = %v, want a paging error saying the pages took too long", err)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("the listing took %s", took)
			}
		})
	}
}

// Few but huge pages: each answer within its own bound (8 MiB), a group configuration
// of any size, a new next key each time; the listing stops at its byte bound instead
// of keeping every page in memory.
func TestHugePagesStopAtTheListingsByteBound(t *testing.T) {
	s := offContract(t)
	r := fastRetry()
	r.Deadline, r.AttemptTimeout = time.Minute, 30*time.Second // 35 MiB of JSON, under -race on a loaded machine
	sess := login(t, s, nil, soracom.WithRetry(r))
	huge := `[{"groupId":"g","configuration":{"SoracomFunnel":{"note":"` + strings.Repeat("x", 7<<20) + `"}}}]`
	for i := range 6 {
		s.Inject("GET /v1/groups", 1, nextPage(fmt.Sprintf("k%d", i), huge))
	}
	_, err := sess.ListGroups(context.Background())
	var pe *paging.Error
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "SORACOM listGroups (GET /v1/groups) kept answering more pages (more than 32 MiB in all)") {
		t.Fatalf("err = %v, want a paging error at the byte bound", err)
	}
	if n := s.CountRequests(http.MethodGet, "/v1/groups"); n != 5 {
		t.Errorf("%d pages read, want 5 (32 MiB is past at the fifth of 7 MiB)", n)
	}
}
