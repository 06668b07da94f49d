package atomicworktest

import (
	"slices"
	"strings"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// Workspaces, service catalogue and form options.

var supportedObjects = []string{"REQUEST", "SERVICE_REQUEST", "INCIDENT", "PROBLEM", "CHANGE"}

// listWorkspaces lists the workspaces the key can access (API-NOTES §2.1, §7 Q25).
func (c *core) listWorkspaces(x *call) (any, error) {
	p, err := x.readPage(perPage, maxPerPage)
	if err != nil {
		return nil, err
	}
	var wanted []string // supported_objects: any of, repeated or comma-separated
	for _, v := range x.query["supported_objects"] {
		for o := range strings.SplitSeq(v, ",") {
			o = strings.ToUpper(strings.TrimSpace(o))
			if !slices.Contains(supportedObjects, o) {
				return nil, errBadRequest("supported_objects: unknown value %q, use one of %s", o, strings.Join(supportedObjects, ", "))
			}
			wanted = append(wanted, o)
		}
	}
	search := x.query.Get("search_key")
	rows := filter(c.st.workspaces, func(w *workspace) bool {
		return x.mayUse(w.ID) == nil && containsFold(w.Name, search) &&
			(len(wanted) == 0 || slices.ContainsFunc(wanted, func(o string) bool { return slices.Contains(w.SupportedObjects, o) }))
	})
	return paginate(rows, p, renderWorkspace), nil
}

func (c *core) getWorkspace(x *call) (any, error) {
	w, err := c.pathWorkspace(x, "id")
	if err != nil {
		return nil, err
	}
	return renderWorkspace(w), nil
}

func renderWorkspace(w *workspace) atomicwork.Workspace {
	out := w.Workspace
	out.Description = clonePtr(w.Description)
	out.SupportedObjects = slices.Clone(w.SupportedObjects)
	return out
}

// pathWorkspace resolves a workspace id in the path, which wins over the header (Q4).
func (c *core) pathWorkspace(x *call, name string) (*workspace, error) {
	id, err := x.idParam(name)
	if err != nil {
		return nil, err
	}
	w, ok := c.st.workspace(id)
	if !ok {
		return nil, errNotFound("workspace %d not found", id)
	}
	if err := x.mayUse(id); err != nil {
		return nil, err
	}
	return w, nil
}

func (c *core) listCatalogItems(x *call) (any, error) {
	w, err := c.pathWorkspace(x, "workspaceId")
	if err != nil {
		return nil, err
	}
	p, err := x.readPage(perPage, maxPerPage)
	if err != nil {
		return nil, err
	}
	published, err := x.queryBool("is_published")
	if err != nil {
		return nil, err
	}
	search := x.query.Get("search_key")
	rows := filter(c.st.catalog.rows, func(it *catalogItem) bool {
		return it.WorkspaceID == w.ID && (published == nil || it.IsPublished == *published) &&
			(containsFold(it.Name, search) || containsFold(it.Description, search))
	})
	return paginate(rows, p, renderCatalogItem), nil
}

func (c *core) getCatalogItem(x *call) (any, error) {
	w, err := c.pathWorkspace(x, "workspaceId")
	if err != nil {
		return nil, err
	}
	it, err := c.catalogItem(x, "itemId", w.ID)
	if err != nil {
		return nil, err
	}
	return renderCatalogItem(it), nil
}

// listCatalogFields answers the item's field definitions, all on one page of the list envelope
// (openapi.yaml declares an object; API-NOTES §2.3).
func (c *core) listCatalogFields(x *call) (any, error) {
	it, err := c.catalogItem(x, "item_id", x.ws)
	if err != nil {
		return nil, err
	}
	search := x.query.Get("search_key")
	return wholeList(renderFields(filter(it.fields, func(f atomicwork.FieldDefinition) bool {
		return containsFold(f.DisplayName, search) || containsFold(f.ReferenceKey, search)
	}))), nil
}

// catalogItem finds the item named by a path parameter among the items of workspace ws.
func (c *core) catalogItem(x *call, param string, ws int64) (*catalogItem, error) {
	id, err := x.idParam(param)
	if err != nil {
		return nil, err
	}
	it, ok := c.st.catalog.get(id)
	if !ok || it.WorkspaceID != ws {
		return nil, errNotFound("catalogue item %d not found in workspace %d", id, ws)
	}
	return it, nil
}

func renderCatalogItem(it *catalogItem) atomicwork.CatalogItem {
	out := it.CatalogItem
	out.CategoryID = clonePtr(it.CategoryID)
	return out
}

func renderFields(fields []atomicwork.FieldDefinition) []atomicwork.FieldDefinition {
	out := make([]atomicwork.FieldDefinition, len(fields))
	for i, f := range fields {
		out[i] = f
		out[i].Options = slices.Clone(f.Options)
	}
	return out
}

// listFormOptions serves the dropdown options of the asset form: ASSET/asset_type resolves an
// asset type name to its id, ASSET/status lists the status options (API-NOTES §2.7, §3).
func (c *core) listFormOptions(x *call) (any, error) {
	ws, err := x.queryID("workspace_id")
	if err != nil {
		return nil, err
	}
	if ws != 0 {
		if err := x.mayUse(ws); err != nil {
			return nil, err
		}
	}
	p, err := x.readPage(perPage, maxPerPage)
	if err != nil {
		return nil, err
	}
	entity, key := x.param("entity_type"), x.param("reference_key")
	var options []atomicwork.Option
	switch {
	case strings.EqualFold(entity, "ASSET") && key == "asset_type":
		for _, t := range c.st.assetTypes.rows {
			options = append(options, atomicwork.Option{ID: t.id, Label: t.name, Value: t.name})
		}
	case strings.EqualFold(entity, "ASSET") && key == atomicwork.FieldStatus:
		options = slices.Clone(c.st.assetStatus)
	default:
		return nil, errNotFound("no dropdown field %q on entity type %s: the simulator serves ASSET/asset_type and ASSET/status", key, entity)
	}
	search := x.query.Get("search_key")
	options = filter(options, func(o atomicwork.Option) bool { return containsFold(o.Label, search) })
	return paginate(options, p, func(o atomicwork.Option) atomicwork.Option { return o }), nil
}
