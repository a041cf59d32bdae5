package soracomtest

import (
	"maps"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"
)

// SAM permission names of the listing operations the audit uses, as SORACOM spells them.
const (
	PermListGroups        = "Group:listGroups"
	PermListEventHandlers = "EventHandler:listEventHandlers"
)

// DefaultGroupPageSize is the most groups one page of GET /v1/groups holds unless
// WithGroupPageSize says otherwise, whatever limit the client asks for. SORACOM does
// not document its page size; a client must follow x-soracom-next-key whatever it is.
const DefaultGroupPageSize = 100

// WithGroupPageSize sets the most groups one page of GET /v1/groups holds (at least 1).
func WithGroupPageSize(n int) Option {
	return func(c *config) { c.groupPage = max(n, 1) }
}

// Group is a SORACOM group as the emulator stores it. Configuration is the group's
// configuration by namespace (SoracomFunnel, SoracomBeam, …), any JSON below it, as the
// real API keeps whatever a namespace's keys were set to.
type Group struct {
	ID string
	// Tags are the group's tags; "name" is the name the console shows.
	Tags          map[string]string
	Configuration map[string]map[string]any
	Created       time.Time
	Modified      time.Time
}

// EventHandler is an event handler as the emulator stores it.
type EventHandler struct {
	ID          string
	Name        string
	Description string
	// Status is active or inactive; empty means active.
	Status string
	// TargetOperatorID, TargetGroupID, TargetIMSI and TargetSimID say what the handler
	// watches; all empty means the operator.
	TargetOperatorID, TargetGroupID, TargetIMSI, TargetSimID string
	// Rule is the ruleConfig; nil means a daily traffic rule.
	Rule map[string]any
	// Actions are the actionConfigList entries.
	Actions []Action
}

// Action is one entry of an event handler's actionConfigList.
type Action struct {
	// Type is e.g. InvokeAWSLambdaAction.
	Type string
	// Properties are the action's properties (credentialsId, endpoint, …); an
	// executionDateTimeConst of IMMEDIATELY is added when absent, as the spec requires
	// one.
	Properties map[string]any
}

// PutGroup stores g as is, replacing a group with the same ID; zero times become the
// emulator's current time.
func (e *Emulator) PutGroup(g Group) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.nowLocked()
	if g.Created.IsZero() {
		g.Created = now
	}
	if g.Modified.IsZero() {
		g.Modified = g.Created
	}
	g.Tags = maps.Clone(g.Tags)
	g.Configuration = cloneConfiguration(g.Configuration)
	e.groups[g.ID] = &g
}

// DeleteGroup removes a stored group.
func (e *Emulator) DeleteGroup(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.groups, id)
}

// PutEventHandler stores h as is, replacing a handler with the same ID.
func (e *Emulator) PutEventHandler(h EventHandler) {
	e.mu.Lock()
	defer e.mu.Unlock()
	h.Rule = cloneCredentials(h.Rule)
	actions := make([]Action, len(h.Actions))
	for i, a := range h.Actions {
		actions[i] = Action{Type: a.Type, Properties: cloneCredentials(a.Properties)}
	}
	h.Actions = actions
	e.handlers[h.ID] = &h
}

// DeleteEventHandler removes a stored event handler.
func (e *Emulator) DeleteEventHandler(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.handlers, id)
}

func cloneConfiguration(c map[string]map[string]any) map[string]map[string]any {
	if c == nil {
		return nil
	}
	out := make(map[string]map[string]any, len(c))
	for ns, v := range c {
		out[ns] = cloneCredentials(v)
	}
	return out
}

// groupModel is the Group of the spec.
type groupModel struct {
	GroupID          string                    `json:"groupId"`
	OperatorID       string                    `json:"operatorId"`
	Tags             map[string]string         `json:"tags"`
	Configuration    map[string]map[string]any `json:"configuration"`
	CreatedTime      int64                     `json:"createdTime"`
	LastModifiedTime int64                     `json:"lastModifiedTime"`
}

func (e *Emulator) groupModelLocked(g *Group) groupModel {
	tags := maps.Clone(g.Tags)
	if tags == nil {
		tags = map[string]string{}
	}
	if _, ok := tags["name"]; !ok {
		// The spec: tags always hold "name", empty when the group has none.
		tags["name"] = ""
	}
	conf := cloneConfiguration(g.Configuration)
	if conf == nil {
		conf = map[string]map[string]any{}
	}
	return groupModel{GroupID: g.ID, OperatorID: e.cfg.operatorID, Tags: tags, Configuration: conf,
		CreatedTime: millis(g.Created), LastModifiedTime: millis(g.Modified)}
}

// listGroupsLocked answers GET /v1/groups: groups sorted by id, a page at a time. A
// page holds at most limit groups and at most the emulator's page size; it starts after
// the group last_evaluated_key names (by id order, so an unknown key still pages), and
// x-soracom-next-key names the page's last group when more follow.
func (e *Emulator) listGroupsLocked(q url.Values) *response {
	size := e.cfg.groupPage
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return e.errorResponse(badRequest("limit must be a positive integer."))
		}
		size = min(n, size)
	}
	ids := make([]string, 0, len(e.groups))
	for id, g := range e.groups {
		if matchesTag(g, q) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	from, to, next := pageOf(ids, q.Get("last_evaluated_key"), size)
	out := make([]groupModel, 0, to-from)
	for _, id := range ids[from:to] {
		out = append(out, e.groupModelLocked(e.groups[id]))
	}
	return withNextKey(jsonResponse(http.StatusOK, out), next)
}

// pageOf returns the page of the sorted ids that starts after the id after names (by
// id order, so a key that names no id still pages; "" is the first page) and holds at
// most size ids, as the range ids[from:to], and the next key: the page's last id when
// more follow, else "".
func pageOf(ids []string, after string, size int) (from, to int, next string) {
	if after != "" {
		from = sort.SearchStrings(ids, after)
		if from < len(ids) && ids[from] == after {
			from++
		}
	}
	if len(ids)-from <= size {
		return from, len(ids), ""
	}
	return from, from + size, ids[from+size-1]
}

// withNextKey sets the x-soracom-next-key header of a list answer when next is not "".
func withNextKey(resp *response, next string) *response {
	if next != "" {
		resp.header.Set("X-Soracom-Next-Key", next)
	}
	return resp
}

// matchesTag applies the tag_name / tag_value filter of listGroups.
func matchesTag(g *Group, q url.Values) bool {
	name := q.Get("tag_name")
	if name == "" {
		return true
	}
	v, ok := g.Tags[name]
	if !ok {
		return false
	}
	want := q.Get("tag_value")
	if q.Get("tag_value_match_mode") == "prefix" {
		return len(v) >= len(want) && v[:len(want)] == want
	}
	return v == want
}

// eventHandlerModel is the EventHandlerModel of the spec.
type eventHandlerModel struct {
	HandlerID        string         `json:"handlerId"`
	Name             string         `json:"name"`
	Description      string         `json:"description,omitempty"`
	Status           string         `json:"status"`
	TargetOperatorID string         `json:"targetOperatorId,omitempty"`
	TargetGroupID    string         `json:"targetGroupId,omitempty"`
	TargetImsi       string         `json:"targetImsi,omitempty"`
	TargetSimID      string         `json:"targetSimId,omitempty"`
	RuleConfig       map[string]any `json:"ruleConfig"`
	ActionConfigList []actionModel  `json:"actionConfigList"`
}

type actionModel struct {
	Type       string         `json:"type"`
	Properties map[string]any `json:"properties"`
}

// defaultRule is the rule of a handler stored without one: the spec requires a rule.
func defaultRule() map[string]any {
	return map[string]any{"type": "SubscriberDailyTrafficRule", "properties": map[string]any{
		"inactiveTimeoutDateConst": "BEGINNING_OF_NEXT_DAY", "limitTotalTrafficMegaByte": "100",
	}}
}

func (e *Emulator) eventHandlerModelLocked(h *EventHandler) eventHandlerModel {
	m := eventHandlerModel{HandlerID: h.ID, Name: h.Name, Description: h.Description, Status: h.Status,
		TargetOperatorID: h.TargetOperatorID, TargetGroupID: h.TargetGroupID, TargetImsi: h.TargetIMSI,
		TargetSimID: h.TargetSimID, RuleConfig: cloneCredentials(h.Rule), ActionConfigList: []actionModel{}}
	if m.Status == "" {
		m.Status = "active"
	}
	if m.RuleConfig == nil {
		m.RuleConfig = defaultRule()
	}
	if h.TargetGroupID == "" && h.TargetIMSI == "" && h.TargetSimID == "" && h.TargetOperatorID == "" {
		m.TargetOperatorID = e.cfg.operatorID
	}
	for _, a := range h.Actions {
		props := cloneCredentials(a.Properties)
		if props == nil {
			props = map[string]any{}
		}
		if _, ok := props["executionDateTimeConst"]; !ok {
			props["executionDateTimeConst"] = "IMMEDIATELY"
		}
		m.ActionConfigList = append(m.ActionConfigList, actionModel{Type: a.Type, Properties: props})
	}
	return m
}

// targetOf is the listEventHandlers target a handler answers to.
func targetOf(m eventHandlerModel) string {
	switch {
	case m.TargetGroupID != "":
		return "group"
	case m.TargetImsi != "":
		return "imsi"
	case m.TargetSimID != "":
		return "sim"
	}
	return "operator"
}

// listEventHandlersLocked answers GET /v1/event_handlers: every handler (the API does
// not page), sorted by id, filtered by target when asked.
func (e *Emulator) listEventHandlersLocked(q url.Values) *response {
	target := q.Get("target")
	switch target {
	case "", "operator", "imsi", "sim", "group":
	default:
		return e.errorResponse(badRequest("target must be operator, imsi, sim or group."))
	}
	ids := make([]string, 0, len(e.handlers))
	for id := range e.handlers {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]eventHandlerModel, 0, len(ids))
	for _, id := range ids {
		m := e.eventHandlerModelLocked(e.handlers[id])
		if target == "" || targetOf(m) == target {
			out = append(out, m)
		}
	}
	return jsonResponse(http.StatusOK, out)
}
