package atomicworktest

import (
	"slices"
	"strconv"
	"strings"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// Assets (API-NOTES §2.6, §3). Asset types are organisation-wide definitions; assets belong to a
// workspace (the demo ones to workspace 1).

var assetFields = []string{"asset_type_id", "form_fields", "image_id"}

// buildAssetAttrs makes the assets/list filter attributes: status, type_id, assigned_to_id and
// every form-field key (Q15).
func (s *store) buildAssetAttrs() attrs[*asset] {
	a := attrs[*asset]{
		"type_id":        {kind: numberAttr, value: func(a *asset) any { return a.typeID }},
		"assigned_to_id": {kind: numberAttr, value: func(a *asset) any { return a.fields[atomicwork.FieldAssignedTo] }},
	}
	for _, t := range s.assetTypes.rows {
		for _, f := range t.fields {
			key := f.ReferenceKey
			if _, ok := a[key]; ok {
				continue
			}
			at := attr[*asset]{kind: textAttr, value: func(a *asset) any { return a.fields[key] }}
			switch f.Type {
			case fieldDropdown:
				at.kind, at.enum = enumAttr, optionEnum(f.Options)
			case fieldEntityRef:
				at.kind = numberAttr
			}
			a[key] = at
		}
	}
	return a
}

// optionEnum lets a filter name a dropdown option by value, label or id (Q14).
func optionEnum(options []atomicwork.Option) func(string) ([]string, bool) {
	return func(s string) ([]string, bool) {
		o, ok := findOption(options, s)
		return []string{o.Value}, ok
	}
}

func findOption(options []atomicwork.Option, s string) (atomicwork.Option, bool) {
	for _, o := range options {
		if (atomicwork.Labelled{Value: o.Value, Label: o.Label}).Is(s) || strconv.FormatInt(o.ID, 10) == strings.TrimSpace(s) {
			return o, true
		}
	}
	return atomicwork.Option{}, false
}

// fieldValue validates one form value against its field definition and normalises it: option
// values for dropdowns, int64 ids for user references (Q13, Q14, Q17). name prefixes messages.
func (s *store) fieldValue(name string, def atomicwork.FieldDefinition, v any) (any, error) {
	name += "." + def.ReferenceKey
	switch def.Type {
	case fieldDate:
		d, ok := asDate(v)
		if !ok {
			return nil, errInvalid("%s must be a date YYYY-MM-DD", name)
		}
		return d, nil
	case fieldDropdown:
		if text, ok := scalarText(v); ok {
			if o, ok := findOption(def.Options, text); ok {
				return o.Value, nil
			}
		}
		vals := make([]string, len(def.Options))
		for i, o := range def.Options {
			vals[i] = o.Value
		}
		return nil, errInvalid("%s must be one of %s (an option value, label or id)", name, strings.Join(vals, ", "))
	case fieldEntityRef:
		id, ok := asID(v)
		if !ok {
			return nil, errInvalid("%s must be a user id, got %s", name, jsonType(v))
		}
		if _, ok := s.users.get(id); !ok {
			return nil, errInvalid("%s: user %d does not exist", name, id)
		}
		return id, nil
	}
	text, ok := v.(string)
	if !ok {
		return nil, errInvalid("%s must be a string, got %s", name, jsonType(v))
	}
	return text, nil
}

func (t *assetType) field(key string) (atomicwork.FieldDefinition, bool) {
	i := slices.IndexFunc(t.fields, func(f atomicwork.FieldDefinition) bool { return f.ReferenceKey == key })
	if i < 0 {
		return atomicwork.FieldDefinition{}, false
	}
	return t.fields[i], true
}

// applyFormFields merges patch into fields (Q9): an explicit null clears a field. Keys the type
// lacks are rejected in strict mode and dropped otherwise (Q24). An asset cannot be assigned
// to a deleted user.
func (c *core) applyFormFields(x *call, t *assetType, fields, patch map[string]any) error {
	for _, k := range sortedKeys(patch) {
		def, ok := t.field(k)
		switch {
		case !ok && x.strict:
			return errInvalid("form_fields.%s is not a field of asset type %d (%s)", k, t.id, t.name)
		case !ok:
			continue
		case patch[k] == nil:
			fields[k] = nil
			continue
		}
		v, err := c.st.fieldValue("form_fields", def, patch[k])
		if err != nil {
			return err
		}
		if id, isUser := v.(int64); isUser && k == atomicwork.FieldAssignedTo {
			if u, _ := c.st.users.get(id); u.IsDeleted {
				return errInvalid("form_fields.assigned_to: user %d is deleted and cannot hold assets", id)
			}
		}
		fields[k] = v
	}
	for _, f := range t.fields {
		if f.RequiredField && isNull(fields[f.ReferenceKey]) {
			return errInvalid("form_fields.%s is required for asset type %s", f.ReferenceKey, t.name)
		}
	}
	return nil
}

// readAssetBody reads the body of POST and PUT: asset_type_id and form_fields are required.
func (c *core) readAssetBody(x *call) (*assetType, map[string]any, error) {
	r, err := x.object(assetFields)
	if err != nil {
		return nil, nil, err
	}
	typeID, form := r.id("asset_type_id"), r.object("form_fields")
	r.id("image_id")
	switch {
	case r.err != nil:
		return nil, nil, r.err
	case !typeID.given():
		return nil, nil, errInvalid("asset_type_id is required: take it from the asset's asset_basic_info")
	case !form.given():
		return nil, nil, errInvalid("form_fields is required: send an object of field values by reference key")
	}
	t, ok := c.st.assetTypes.get(typeID.v)
	if !ok {
		return nil, nil, errInvalid("asset_type_id %d is not an asset type", typeID.v)
	}
	return t, form.v, nil
}

func (c *core) createAsset(x *call) (any, error) {
	t, form, err := c.readAssetBody(x)
	if err != nil {
		return nil, err
	}
	fields := map[string]any{}
	for _, f := range t.fields {
		fields[f.ReferenceKey] = nil
	}
	if err := c.applyFormFields(x, t, fields, form); err != nil {
		return nil, err
	}
	return c.st.renderAsset(c.st.addAsset(t.id, x.ws, fields, c.now())), nil
}

func (c *core) getAsset(x *call) (any, error) {
	a, err := c.pathAsset(x)
	if err != nil {
		return nil, err
	}
	if src := x.query.Get("source"); src != "" && !strings.EqualFold(src, assetSource) {
		return nil, errNotFound("asset %d has no contribution from source %s", a.id, src)
	}
	return c.st.renderAsset(a), nil
}

// updateAsset merges form_fields into the asset; asset_type_id must be the asset's type.
func (c *core) updateAsset(x *call) (any, error) {
	a, err := c.pathAsset(x)
	if err != nil {
		return nil, err
	}
	t, form, err := c.readAssetBody(x)
	if err != nil {
		return nil, err
	}
	if t.id != a.typeID {
		return nil, errInvalid("asset_type_id %d does not match asset %d, which is of type %d", t.id, a.id, a.typeID)
	}
	fields := cloneMap(a.fields)
	if err := c.applyFormFields(x, t, fields, form); err != nil {
		return nil, err
	}
	a.fields, a.updatedAt = fields, c.now()
	return c.st.renderAsset(a), nil
}

func (c *core) pathAsset(x *call) (*asset, error) {
	id, err := x.idParam("asset_id")
	if err != nil {
		return nil, err
	}
	a, ok := c.st.assets.get(id)
	if !ok || a.workspace != x.ws {
		return nil, errNotFound("asset %d not found in workspace %d", id, x.ws)
	}
	return a, nil
}

// listAssets allows per_page up to 1000 ([DOC], Q5).
func (c *core) listAssets(x *call) (any, error) {
	p, err := x.readPage(perPage, maxPerPageAsset)
	if err != nil {
		return nil, err
	}
	match, err := compileFilters(x.body, c.st.assetAttrs)
	if err != nil {
		return nil, err
	}
	rows := filter(c.st.assets.rows, func(a *asset) bool { return a.workspace == x.ws && match(a) })
	if err := sortAssets(x, rows, &p); err != nil {
		return nil, err
	}
	return paginate(rows, p, c.st.renderAsset), nil
}

func (c *core) listUserAssets(x *call) (any, error) {
	u, err := c.pathUser(x)
	if err != nil {
		return nil, err
	}
	p, err := x.readPage(pageSize, maxPerPage)
	if err != nil {
		return nil, err
	}
	search := x.query.Get("search_key")
	rows := filter(c.st.assets.rows, func(a *asset) bool {
		name, _ := a.fields[fieldDisplayName].(string)
		serial, _ := a.fields[fieldSerialNumber].(string)
		return a.workspace == x.ws && a.fields[atomicwork.FieldAssignedTo] == u.ID &&
			(containsFold(name, search) || containsFold(serial, search))
	})
	return paginate(rows, p, c.st.renderAsset), nil
}

// listAssetTypeFields answers the type's field definitions, all on one page of the list envelope
// (openapi.yaml declares an object; API-NOTES §2.6).
func (c *core) listAssetTypeFields(x *call) (any, error) {
	id, err := x.idParam("asset_type_id")
	if err != nil {
		return nil, err
	}
	t, ok := c.st.assetTypes.get(id)
	if !ok {
		return nil, errNotFound("asset type %d not found", id)
	}
	return wholeList(renderFields(t.fields)), nil
}

// listAssetAttributes pages the field definitions of one type (asset_type) or, without it,
// one definition per reference key across types, after the asset id (sortable, not a form field).
func (c *core) listAssetAttributes(x *call) (any, error) {
	p, err := x.readPage(pageSize, maxPerPage)
	if err != nil {
		return nil, err
	}
	typeID, err := x.queryID("asset_type")
	if err != nil {
		return nil, err
	}
	defs := []atomicwork.FieldDefinition{idAttribute}
	if typeID != 0 {
		t, ok := c.st.assetTypes.get(typeID)
		if !ok {
			return nil, errNotFound("asset type %d not found", typeID)
		}
		defs = append(defs, t.fields...)
	} else {
		for _, t := range c.st.assetTypes.rows {
			for _, f := range t.fields {
				if !slices.ContainsFunc(defs, func(d atomicwork.FieldDefinition) bool { return d.ReferenceKey == f.ReferenceKey }) {
					defs = append(defs, f)
				}
			}
		}
	}
	search := x.query.Get("search_key")
	defs = filter(defs, func(f atomicwork.FieldDefinition) bool {
		return containsFold(f.DisplayName, search) || containsFold(f.ReferenceKey, search)
	})
	return paginate(renderAttributes(defs), p, func(f attributeDef) attributeDef { return f }), nil
}
