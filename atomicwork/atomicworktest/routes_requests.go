package atomicworktest

import (
	"fmt"
	"html"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// Requests belong to one workspace and are invisible from the others (API-NOTES §2.4, §4).

// Body fields of the request endpoints in openapi.yaml; PATCH documents none, so it takes the
// fields it applies.
var (
	requestCreateFields = []string{"agent_group", "assignee", "attachments", "bcc_emails", "cc_emails", "closed_status_at",
		"conversation_info", "created_at", "custom_fields", "description", "email_content", "external_id", "external_source",
		"first_response_due_time", "first_response_time", "notes", "parent_request_id", "plain_text_description_override",
		"priority", "request_created_from", "request_source", "request_type", "requester", "resolution_due_time",
		"resolution_time", "status", "subject", "tags", "to_email", "updated_at", "workspace_id"}
	requestItemFields  = append(slices.Clone(requestCreateFields), "item_fields", "item_id")
	requestPatchFields = []string{"status", "priority", "assignee", "agent_group", "subject", "description", "custom_fields"}
	noteFields         = []string{"attachments", "bcc_emails", "cc_emails", "conversation_id", "description", "email_content",
		"event_created_at", "external_id", "external_source_type", "is_broadcast", "is_private", "mentions", "source", "type", "user_id"}
)

// Vocabularies: statuses (Q11), priorities, request types (Q16) and note enums of the spec.
var (
	requestStatuses = []atomicwork.Labelled{
		{Value: atomicwork.StatusOpen, Label: "Open"},
		{Value: atomicwork.StatusInProgress, Label: "In Progress"},
		{Value: atomicwork.StatusOnHold, Label: "On Hold"},
		{Value: atomicwork.StatusResolved, Label: "Resolved"},
		{Value: atomicwork.StatusClosed, Label: "Closed"},
	}
	requestPriorities = []atomicwork.Labelled{
		{Value: "LOW", Label: "Low"}, {Value: "MEDIUM", Label: "Medium"},
		{Value: "HIGH", Label: "High"}, {Value: "URGENT", Label: "Urgent"},
	}
	// requestTypeCodes are the type parts of display ids (Q18), e.g. SR in ITSR-3.
	requestTypeCodes = map[string]string{
		atomicwork.RequestTypeRequest:        "REQ",
		atomicwork.RequestTypeServiceRequest: "SR",
		atomicwork.RequestTypeIncident:       "INC",
	}
	// requestTypeAliases maps accepted type names to stored ones; the list filter also knows the
	// spec's types the simulator never creates.
	requestTypeAliases = map[string][]string{
		"REQUEST": {"REQUEST"}, "GENERAL_REQUEST": {"REQUEST"}, "INCIDENT": {"INCIDENT"},
		"SERVICE_REQUEST": {"SERVICE_REQUEST"}, "PROBLEM": {"PROBLEM"}, "CHANGE": {"CHANGE"},
		"MAJOR_INCIDENT": {"MAJOR_INCIDENT"},
	}
	noteSources = []string{"EMAIL", "SLACK", "TEAMS", "PORTAL", "WORKFLOW", "JOURNEY", "API", "UNIVERSAL_AGENT"}
	noteTypes   = []string{"ESD_NOTE", "SLACK_NOTE", "EMAIL_NOTE", "RATING", "TEMPLATE", "WORKFLOW_NOTE"}
)

var requestAttrs = attrs[*request]{
	"status":       {kind: enumAttr, value: func(rq *request) any { return rq.Status.Value }, enum: enumOf(aliasesOf(requestStatuses))},
	"type":         {kind: enumAttr, value: func(rq *request) any { return rq.RequestType }, enum: enumOf(requestTypeAliases)},
	"assignee_id":  {kind: numberAttr, value: func(rq *request) any { return refValue(rq.Assignee) }},
	"assignee":     {kind: numberAttr, value: func(rq *request) any { return refValue(rq.Assignee) }},
	"requester_id": {kind: numberAttr, value: func(rq *request) any { return refValue(rq.Requester) }},
	"created_at":   {kind: timeAttr, value: func(rq *request) any { return rq.CreatedAt }},
	"updated_at":   {kind: timeAttr, value: func(rq *request) any { return rq.UpdatedAt }},
}

// aliasesOf lets a filter name a vocabulary entry by value or label.
func aliasesOf(vocab []atomicwork.Labelled) map[string][]string {
	m := map[string][]string{}
	for _, l := range vocab {
		m[atomicwork.NormalizeStatus(l.Value)] = []string{l.Value}
		m[atomicwork.NormalizeStatus(l.Label)] = []string{l.Value}
	}
	return m
}

// lookupLabelled finds s in vocab by value or label, ignoring case, spaces and underscores (Q11).
func lookupLabelled(vocab []atomicwork.Labelled, s string) (atomicwork.Labelled, bool) {
	i := slices.IndexFunc(vocab, func(l atomicwork.Labelled) bool { return l.Is(s) })
	if i < 0 {
		return atomicwork.Labelled{}, false
	}
	return vocab[i], true
}

func vocabValues(vocab []atomicwork.Labelled) string {
	vals := make([]string, len(vocab))
	for i, l := range vocab {
		vals[i] = l.Value
	}
	return strings.Join(vals, ", ")
}

// createRequest requires subject and requester (Q10).
func (c *core) createRequest(x *call) (any, error) {
	r, err := x.object(requestCreateFields)
	if err != nil {
		return nil, err
	}
	ws, err := c.bodyWorkspace(x, r)
	if err != nil {
		return nil, err
	}
	rq, err := c.newRequest(x, r, ws, "")
	if err != nil {
		return nil, err
	}
	c.st.addRequest(rq)
	return c.st.renderRequest(rq), nil
}

// createItemRequest creates a SERVICE_REQUEST from a catalogue item; item_fields must fit the
// item's fields (Q16, Q17).
func (c *core) createItemRequest(x *call) (any, error) {
	r, err := x.object(requestItemFields)
	if err != nil {
		return nil, err
	}
	ws, err := c.bodyWorkspace(x, r)
	if err != nil {
		return nil, err
	}
	it, err := c.catalogItem(x, "item_id", ws)
	if err != nil {
		return nil, err
	}
	if f := r.id("item_id"); f.given() && f.v != it.ID {
		r.fail(errInvalid("item_id %d in the body differs from item %d in the path", f.v, it.ID))
	}
	values := c.itemFields(it, r)
	rq, err := c.newRequest(x, r, ws, atomicwork.RequestTypeServiceRequest)
	if err != nil {
		return nil, err
	}
	rq.ItemID = ptr(it.ID)
	rq.Items = []atomicwork.RequestItem{{ID: next(&c.st.ids.itemInstance), ItemID: it.ID, ItemFields: values}}
	c.st.addRequest(rq)
	return c.st.renderRequest(rq), nil
}

// itemFields validates item_fields against the item: unknown keys and missing required
// fields are errors; values are normalised (option values, user ids).
func (c *core) itemFields(it *catalogItem, r *reader) map[string]any {
	f := r.object("item_fields")
	out := map[string]any{}
	keys := make([]string, len(it.fields))
	for i, d := range it.fields {
		keys[i] = d.ReferenceKey
	}
	for _, k := range sortedKeys(f.v) {
		i := slices.Index(keys, k)
		switch {
		case i < 0:
			r.fail(errInvalid("item_fields: catalogue item %d has no field %q; its fields are %s", it.ID, k, strings.Join(keys, ", ")))
		case f.v[k] != nil:
			v, err := c.st.fieldValue("item_fields", it.fields[i], f.v[k])
			r.fail(err)
			out[k] = v
		}
	}
	for _, d := range it.fields {
		if d.RequiredField && out[d.ReferenceKey] == nil {
			r.fail(errInvalid("item_fields.%s is required by catalogue item %d", d.ReferenceKey, it.ID))
		}
	}
	return out
}

// bodyWorkspace is where a new request goes: body workspace_id, else the header or key (Q4).
func (c *core) bodyWorkspace(x *call, r *reader) (int64, error) {
	f := r.id("workspace_id")
	if r.err != nil {
		return 0, r.err
	}
	if !f.given() || f.v == 0 {
		return x.ws, nil
	}
	return f.v, x.mayUse(f.v)
}

// newRequest validates a create body into a request of type typ ("" reads request_type).
func (c *core) newRequest(x *call, r *reader, ws int64, typ string) (*request, error) {
	now := c.now()
	rq := &request{Request: atomicwork.Request{
		WorkspaceID: ws, RequestType: typ, Status: requestStatuses[0],
		Items: []atomicwork.RequestItem{}, Tags: []int64{}, CustomFields: map[string]any{},
		CreatedAt: now, UpdatedAt: now,
	}}
	if typ == "" {
		rq.RequestType = atomicwork.RequestTypeRequest
		if f := r.str("request_type"); f.given() {
			t, ok := requestTypeAliases[strings.ToUpper(f.v)]
			if !ok || requestTypeCodes[t[0]] == "" {
				r.fail(errInvalid("request_type must be REQUEST (or GENERAL_REQUEST), INCIDENT or SERVICE_REQUEST, got %q", f.v))
			} else {
				rq.RequestType = t[0]
			}
		}
	}
	if w, _ := c.st.workspace(ws); !slices.Contains(w.SupportedObjects, rq.RequestType) {
		r.fail(errInvalid("workspace %d (%s) does not take %s requests", ws, w.Name, rq.RequestType))
	}
	switch f := r.id("requester"); {
	case !f.given():
		r.fail(errInvalid("requester is required: send the requester's user id"))
	default:
		if _, ok := c.st.users.get(f.v); !ok {
			r.fail(errInvalid("requester %d is not a user", f.v))
		}
		rq.Requester = &atomicwork.Ref{ID: f.v}
	}
	if f := r.ids("tags"); f.given() {
		rq.Tags = f.v
	}
	c.applyRequest(rq, r, now)
	if strings.TrimSpace(rq.Subject) == "" {
		r.fail(errInvalid("subject is required"))
	}
	return rq, r.err
}

// applyRequest merges the fields PATCH and create share into rq.
func (c *core) applyRequest(rq *request, r *reader, now time.Time) {
	if f := r.str("subject"); f.set {
		if strings.TrimSpace(f.v) == "" {
			r.fail(errInvalid("subject must not be empty"))
		}
		rq.Subject = f.v
	}
	if f := r.str("description"); f.set {
		rq.Description, rq.DescriptionText = f.v, htmlText(f.v)
	}
	if f := r.str("status"); f.set {
		st, ok := lookupLabelled(requestStatuses, f.v)
		if !ok {
			r.fail(errInvalid("status must be one of %s or their labels, got %q", vocabValues(requestStatuses), f.v))
		}
		setStatus(rq, st, now)
	}
	if f := r.str("priority"); f.set {
		rq.Priority = nil
		if f.given() {
			p, ok := lookupLabelled(requestPriorities, f.v)
			if !ok {
				r.fail(errInvalid("priority must be one of %s or their labels, got %q", vocabValues(requestPriorities), f.v))
			}
			rq.Priority = &p
		}
	}
	if f := r.id("assignee"); f.set {
		rq.Assignee = nil
		if f.given() {
			if _, ok := c.st.users.get(f.v); !ok {
				r.fail(errInvalid("assignee %d is not a user", f.v))
			}
			rq.Assignee = &atomicwork.Ref{ID: f.v}
		}
	}
	if f := r.id("agent_group"); f.set {
		rq.AgentGroup = nil
		if f.given() {
			if g, ok := c.st.agentGroups[f.v]; !ok || g.workspace != rq.WorkspaceID {
				r.fail(errInvalid("agent_group %d is not an agent group of workspace %d", f.v, rq.WorkspaceID))
			}
			rq.AgentGroup = &atomicwork.Ref{ID: f.v}
		}
	}
	if f := r.object("custom_fields"); f.set {
		if f.null {
			rq.CustomFields = map[string]any{}
		}
		mergeInto(rq.CustomFields, f.v)
	}
}

// setStatus moves a request, keeping resolved_at in step: set on resolving, kept on closing,
// cleared on reopening (Q11).
func setStatus(rq *request, st atomicwork.Labelled, now time.Time) {
	if rq.Status.Value == st.Value {
		return
	}
	rq.Status = st
	switch st.Value {
	case atomicwork.StatusResolved:
		rq.ResolvedAt = ptr(now)
	case atomicwork.StatusClosed:
		if rq.ResolvedAt == nil {
			rq.ResolvedAt = ptr(now)
		}
	default:
		rq.ResolvedAt = nil
	}
}

var htmlTag = regexp.MustCompile(`<[^>]*>`)

// htmlText is the plain text of an HTML description, for description_text.
func htmlText(s string) string {
	return strings.TrimSpace(html.UnescapeString(htmlTag.ReplaceAllString(s, " ")))
}

// addRequest stores a validated request under the next id and display id (Q18).
func (s *store) addRequest(rq *request) {
	w, _ := s.workspace(rq.WorkspaceID)
	rq.ID = next(&s.ids.request)
	s.displaySeq[w.ID]++
	rq.DisplayID = fmt.Sprintf("%s%s-%d", w.prefix, requestTypeCodes[rq.RequestType], s.displaySeq[w.ID])
	s.requests.add(rq.ID, rq)
}

func (c *core) getRequest(x *call) (any, error) {
	rq, err := c.pathRequest(x)
	if err != nil {
		return nil, err
	}
	return c.st.renderRequest(rq), nil
}

// patchRequest resolves tickets, among others: {"status":"Resolved"} as [OSS] clients send it.
func (c *core) patchRequest(x *call) (any, error) {
	rq, err := c.pathRequest(x)
	if err != nil {
		return nil, err
	}
	r, err := x.object(requestPatchFields)
	if err != nil {
		return nil, err
	}
	now := c.now()
	changed := cloneRequest(rq)
	c.applyRequest(&changed, r, now)
	if r.err != nil {
		return nil, r.err
	}
	changed.UpdatedAt = now
	*rq = changed
	return c.st.renderRequest(rq), nil
}

// pathRequest finds {requestId}, a display id or the numeric id (Q18), in the workspace in scope.
func (c *core) pathRequest(x *call) (*request, error) {
	ref := x.param("requestId")
	for _, rq := range c.st.requests.rows {
		if rq.WorkspaceID == x.ws && (strings.EqualFold(rq.DisplayID, ref) || strconv.FormatInt(rq.ID, 10) == ref) {
			return rq, nil
		}
	}
	return nil, errNotFound("request %s not found in workspace %d", ref, x.ws)
}

func cloneRequest(rq *request) request {
	out := *rq
	out.Priority = clonePtr(rq.Priority)
	out.Requester = clonePtr(rq.Requester)
	out.Assignee = clonePtr(rq.Assignee)
	out.AgentGroup = clonePtr(rq.AgentGroup)
	out.CustomFields = cloneMap(rq.CustomFields)
	out.ResolvedAt = clonePtr(rq.ResolvedAt)
	return out
}

func (c *core) listRequests(x *call) (any, error) {
	return c.requestList(x, x.ws)
}

func (c *core) listWorkspaceRequests(x *call) (any, error) {
	w, err := c.pathWorkspace(x, "workspace_id")
	if err != nil {
		return nil, err
	}
	return c.requestList(x, w.ID)
}

func (c *core) requestList(x *call, ws int64) (any, error) {
	p, err := x.readPage(perPage, maxPerPage)
	if err != nil {
		return nil, err
	}
	match, err := compileFilters(x.body, requestAttrs)
	if err != nil {
		return nil, err
	}
	rows := filter(c.st.requests.rows, func(rq *request) bool { return rq.WorkspaceID == ws && match(rq) })
	return paginate(rows, p, c.st.renderRequest), nil
}

// createNote requires description (Q10); is_private may be a boolean or "true"/"false" (Q23).
func (c *core) createNote(x *call) (any, error) {
	rq, err := c.pathRequest(x)
	if err != nil {
		return nil, err
	}
	r, err := x.object(noteFields)
	if err != nil {
		return nil, err
	}
	now := c.now()
	w, _ := c.st.workspace(x.home)
	n := &atomicwork.Note{RequestID: rq.DisplayID, Source: atomicwork.SourceAPI, Type: noteTypes[0], UserID: ptr(w.keyOwner), CreatedAt: now}
	if f := r.str("description"); !f.given() || strings.TrimSpace(f.v) == "" {
		r.fail(errInvalid("description is required: send the note text (HTML allowed)"))
	} else {
		n.Description = f.v
	}
	if f := r.boolean("is_private"); f.given() {
		n.IsPrivate = f.v
	}
	if f := r.str("source"); f.given() {
		if !slices.Contains(noteSources, f.v) {
			r.fail(errInvalid("source must be one of %s", strings.Join(noteSources, ", ")))
		}
		n.Source = f.v
	}
	if f := r.str("type"); f.given() {
		if !slices.Contains(noteTypes, f.v) {
			r.fail(errInvalid("type must be one of %s", strings.Join(noteTypes, ", ")))
		}
		n.Type = f.v
	}
	if f := r.id("user_id"); f.given() {
		if _, ok := c.st.users.get(f.v); !ok {
			r.fail(errInvalid("user_id %d is not a user", f.v))
		}
		n.UserID = ptr(f.v)
	}
	if r.err != nil {
		return nil, r.err
	}
	n.ID = next(&c.st.ids.note)
	rq.notes = append(rq.notes, n)
	rq.UpdatedAt = now
	return renderNote(n), nil
}

// listNotes pages with next_page_token (Q6).
func (c *core) listNotes(x *call) (any, error) {
	rq, err := c.pathRequest(x)
	if err != nil {
		return nil, err
	}
	p, err := x.readTokenPage(maxPerPage)
	if err != nil {
		return nil, err
	}
	search := x.query.Get("search_key")
	rows := filter(rq.notes, func(n *atomicwork.Note) bool { return containsFold(n.Description, search) })
	return paginate(rows, p, renderNote), nil
}
