package activities

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// RequestToOpen describes the one request a workflow opens.
type RequestToOpen struct {
	WorkspaceID int64 `json:"workspace_id,omitempty"`
	// Marker is unique to the workflow and step (see Marker); it ends the subject, so a retry finds
	// the request it created before.
	Marker      string `json:"marker"`
	Subject     string `json:"subject"`
	Description string `json:"description"`
	RequesterID int64  `json:"requester_id"`
	// CatalogItem is the catalog item to open the request from when it exists ("New Hire
	// Onboarding"); otherwise a plain service request is opened.
	CatalogItem string `json:"catalog_item,omitempty"`
	// ItemFields are candidate values by reference key; only the item's own fields are sent.
	ItemFields map[string]any `json:"item_fields,omitempty"`
}

// RequestRef names a request.
type RequestRef struct {
	DisplayID string `json:"display_id"`
	// FromCatalog is true when the request was opened from the catalog item.
	FromCatalog bool `json:"from_catalog"`
}

// EnsureRequest returns the request carrying the marker, opening it when there is none.
func (a *Activities) EnsureRequest(ctx context.Context, req RequestToOpen) (RequestRef, error) {
	if req.Marker == "" || req.RequesterID == 0 {
		return RequestRef{}, nonRetryable(ErrInvalidInput, "ensure request: marker and requester are required")
	}
	c, err := a.client(req.WorkspaceID)
	if err != nil {
		return RequestRef{}, err
	}
	if r, err := findRequest(ctx, c, req.Marker, req.RequesterID); err != nil || r != nil {
		return requestRef(r), err
	}

	in := atomicwork.RequestInput{
		RequestType: atomicwork.RequestTypeServiceRequest,
		Subject:     req.Subject + " " + markerTag(req.Marker),
		Description: req.Description,
		Requester:   req.RequesterID,
		WorkspaceID: c.WorkspaceID(),
	}
	if req.CatalogItem != "" {
		key := catalogueKey{c.WorkspaceID(), strings.ToLower(req.CatalogItem)}
		var p requestProgress
		if !loadProgress(ctx, &p) {
			p = a.catalogue.get(key)
		}
		if err := resolveCatalogItem(ctx, c, req.CatalogItem, &p); err != nil {
			return RequestRef{}, err
		}
		a.catalogue.put(key, p)
		if p.ItemID != 0 {
			in.ItemFields = map[string]any{}
			for _, ref := range p.Fields {
				if v, ok := req.ItemFields[ref]; ok {
					in.ItemFields[ref] = v
				}
			}
			r, err := c.CreateItemRequest(ctx, p.ItemID, in)
			if err != nil {
				if atomicwork.Classify(err) == atomicwork.Permanent {
					a.catalogue.drop(key) // the item may have changed: the next try reads it again
				}
				return RequestRef{}, toTemporal(err)
			}
			return RequestRef{DisplayID: r.DisplayID, FromCatalog: true}, nil
		}
	}
	r, err := c.CreateRequest(ctx, in)
	if err != nil {
		return RequestRef{}, toTemporal(err)
	}
	return RequestRef{DisplayID: r.DisplayID}, nil
}

// requestProgress is what EnsureRequest keeps across its attempts: the catalogue lookups, which
// do not change within a run. The marker search is redone by every attempt: it is what proves
// that no earlier attempt's create went through.
type requestProgress struct {
	ItemSearched bool  `json:"item_searched,omitempty"`
	ItemID       int64 `json:"item_id,omitempty"` // 0 once searched: no such published item
	// Fields are the item's field reference keys; nil until read.
	Fields []string `json:"fields"`
}

// catalogueTTL is how long a worker reuses a catalogue item resolved by name: on a layoff day
// hundreds of requests are opened from the same item within minutes, and an edited item is
// seen again after at most this long (at once after a refused create).
const catalogueTTL = time.Minute

type catalogueKey struct {
	workspaceID int64
	name        string // lower case
}

// catalogueCache holds resolved catalogue items (requestProgress of a complete resolve) by
// workspace and name, for catalogueTTL.
type catalogueCache struct {
	mu      sync.Mutex
	entries map[catalogueKey]catalogueEntry
}

type catalogueEntry struct {
	item    requestProgress
	expires time.Time
}

// get returns the unexpired entry, or nothing resolved yet.
func (cc *catalogueCache) get(k catalogueKey) requestProgress {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	e, ok := cc.entries[k]
	if !ok || time.Now().After(e.expires) {
		return requestProgress{}
	}
	return e.item
}

// put keeps p from now on unless an unexpired entry is there already.
func (cc *catalogueCache) put(k catalogueKey, p requestProgress) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if e, ok := cc.entries[k]; ok && time.Now().Before(e.expires) {
		return
	}
	if cc.entries == nil {
		cc.entries = map[catalogueKey]catalogueEntry{}
	}
	cc.entries[k] = catalogueEntry{item: p, expires: time.Now().Add(catalogueTTL)}
}

func (cc *catalogueCache) drop(k catalogueKey) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	delete(cc.entries, k)
}

// resolveCatalogItem completes p with the published catalogue item of that exact name and its
// field keys, reading only what earlier attempts did not, and saves each read as progress.
func resolveCatalogItem(ctx context.Context, c *atomicwork.Client, name string, p *requestProgress) error {
	if !p.ItemSearched {
		item, err := findCatalogItem(ctx, c, name)
		if err != nil {
			return err
		}
		p.ItemSearched = true
		if item != nil {
			p.ItemID = item.ID
		}
		saveProgress(ctx, p)
	}
	if p.ItemID == 0 || p.Fields != nil {
		return nil
	}
	fields, err := c.CatalogItemFields(ctx, p.ItemID)
	if err != nil {
		return toTemporal(err)
	}
	p.Fields = make([]string, 0, len(fields))
	for _, f := range fields {
		p.Fields = append(p.Fields, f.ReferenceKey)
	}
	saveProgress(ctx, p)
	return nil
}

// findRequest returns the requester's request whose subject ends with the marker, or nil.
func findRequest(ctx context.Context, c *atomicwork.Client, marker string, requesterID int64) (*atomicwork.Request, error) {
	tag := markerTag(marker)
	for r, err := range c.ListRequests(ctx, atomicwork.Filters{}.IsAnyOf("requester_id", requesterID)) {
		if err != nil {
			return nil, toTemporal(err)
		}
		if strings.HasSuffix(r.Subject, tag) {
			return &r, nil
		}
	}
	return nil, nil
}

func requestRef(r *atomicwork.Request) RequestRef {
	if r == nil {
		return RequestRef{}
	}
	return RequestRef{DisplayID: r.DisplayID, FromCatalog: r.ItemID != nil}
}

// markerTag is how a marker appears at the end of a subject.
func markerTag(marker string) string { return "[" + marker + "]" }

// findCatalogItem finds a published catalog item by exact name; nil when absent.
func findCatalogItem(ctx context.Context, c *atomicwork.Client, name string) (*atomicwork.CatalogItem, error) {
	if c.WorkspaceID() == 0 {
		return nil, nil // catalog items live under a workspace path
	}
	for item, err := range c.ListCatalogItems(ctx, c.WorkspaceID(), atomicwork.CatalogItemListOptions{SearchKey: name, PublishedOnly: true}) {
		if err != nil {
			return nil, toTemporal(err)
		}
		if strings.EqualFold(item.Name, name) {
			return &item, nil
		}
	}
	return nil, nil
}

// NoteRequest adds one note, once.
type NoteRequest struct {
	WorkspaceID int64  `json:"workspace_id,omitempty"`
	DisplayID   string `json:"display_id"`
	// Marker makes the note findable: a retry that finds it adds nothing.
	Marker      string `json:"marker"`
	Description string `json:"description"`
	Private     bool   `json:"private"`
}

// AddNote adds a note to a request unless a note with the same marker is there already.
func (a *Activities) AddNote(ctx context.Context, req NoteRequest) error {
	if req.Marker == "" || req.DisplayID == "" {
		return nonRetryable(ErrInvalidInput, "add note: marker and request display id are required")
	}
	c, err := a.client(req.WorkspaceID)
	if err != nil {
		return err
	}
	return addNoteOnce(ctx, c, req.DisplayID, req.Marker, req.Description, req.Private)
}

func addNoteOnce(ctx context.Context, c *atomicwork.Client, displayID, marker, description string, private bool) error {
	tag := noteTag(marker)
	for n, err := range c.ListNotes(ctx, displayID) {
		if err != nil {
			return toTemporal(err)
		}
		if strings.Contains(n.Description, tag) {
			return nil
		}
	}
	_, err := c.AddNote(ctx, displayID, atomicwork.NoteInput{Description: description + "\n" + tag, IsPrivate: private})
	return toTemporal(err)
}

// noteTag is how a marker appears in a note: an HTML comment, invisible to readers.
func noteTag(marker string) string { return "<!-- " + marker + " -->" }

// RequestToResolve resolves a request.
type RequestToResolve struct {
	WorkspaceID int64  `json:"workspace_id,omitempty"`
	DisplayID   string `json:"display_id"`
}

// ResolveRequest sets the request's status to Resolved unless it is resolved or closed already.
func (a *Activities) ResolveRequest(ctx context.Context, req RequestToResolve) error {
	c, err := a.client(req.WorkspaceID)
	if err != nil {
		return err
	}
	r, err := c.GetRequest(ctx, req.DisplayID)
	if err != nil {
		return toTemporal(err)
	}
	return resolve(ctx, c, r)
}

func resolve(ctx context.Context, c *atomicwork.Client, r *atomicwork.Request) error {
	if r.Status.Is(atomicwork.StatusResolved) || r.Status.Is(atomicwork.StatusClosed) {
		return nil
	}
	_, err := c.PatchRequest(ctx, r.DisplayID, atomicwork.RequestPatch{Status: "Resolved"})
	return toTemporal(err)
}

// RequestToClose closes the request a workflow opened, with a note saying why.
type RequestToClose struct {
	WorkspaceID int64  `json:"workspace_id,omitempty"`
	Marker      string `json:"marker"` // the request's marker (see EnsureRequest)
	RequesterID int64  `json:"requester_id"`
	NoteMarker  string `json:"note_marker"`
	Note        string `json:"note"`
}

// CloseRequest finds the workflow's request by its marker, notes why and resolves it. It is a
// no-op when no such request exists (the create never happened), so it is safe after an
// interrupted EnsureRequest.
func (a *Activities) CloseRequest(ctx context.Context, req RequestToClose) error {
	c, err := a.client(req.WorkspaceID)
	if err != nil {
		return err
	}
	r, err := findRequest(ctx, c, req.Marker, req.RequesterID)
	if err != nil || r == nil {
		return err
	}
	if err := addNoteOnce(ctx, c, r.DisplayID, req.NoteMarker, req.Note, true); err != nil {
		return err
	}
	return resolve(ctx, c, r)
}
