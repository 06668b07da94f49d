package atomicworktest

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// countAssets counts the demo assets of a type and status.
func countAssets(h *Handler, typeID int64, status string) int {
	n := 0
	for _, a := range h.Assets() {
		if a.TypeID() == typeID && a.StatusValue(atomicwork.FieldStatus) == status {
			n++
		}
	}
	return n
}

func TestDemoAssets(t *testing.T) {
	s, _ := newSim(t, Options{ExtraAssets: 5})
	laptop, monitor, phone := s.AssetTypeID("Laptop"), s.AssetTypeID("monitor"), s.AssetTypeID("Phone")
	require.NotZero(t, laptop)
	assert.Zero(t, s.AssetTypeID("Toaster"))
	assert.Equal(t, 20, countAssets(s.Handler, laptop, atomicwork.AssetAvailable))
	assert.Equal(t, 15, countAssets(s.Handler, laptop, atomicwork.AssetInUse), "10 seeded plus 5 extra")
	assert.NotZero(t, countAssets(s.Handler, monitor, atomicwork.AssetAvailable))
	assert.NotZero(t, countAssets(s.Handler, phone, atomicwork.AssetInUse))

	bo := mustUser(t, s.Handler, DefaultExtraAssetsAssignee)
	users := map[int64]atomicwork.User{}
	for _, u := range s.Users() {
		users[u.ID] = u
	}
	for _, a := range s.Assets() {
		assignee := a.AssigneeID(atomicwork.FieldAssignedTo)
		inUse := a.StatusValue(atomicwork.FieldStatus) == atomicwork.AssetInUse
		assert.Equal(t, inUse, assignee != 0, "asset %d: in use exactly when assigned", a.ID)
		if assignee != 0 {
			assert.False(t, users[assignee].IsDeleted, "asset %d held by an active user", a.ID)
		}
	}
	assert.GreaterOrEqual(t, heldBy(s.Handler, bo.ID, laptop), 5)

	other, _ := newSim(t, Options{ExtraAssets: 2, ExtraAssetsAssignee: "ana.diaz@example.com"})
	ana := mustUser(t, other.Handler, "ana.diaz@example.com")
	assert.Equal(t, heldBy(s.Handler, ana.ID, laptop)+2, heldBy(other.Handler, ana.ID, laptop))
	assert.Panics(t, func() { newCore(Options{ExtraAssets: 1, ExtraAssetsAssignee: "nobody@example.com"}) })
}

// heldBy counts the assets of a type assigned to a user.
func heldBy(h *Handler, userID, typeID int64) int {
	n := 0
	for _, a := range h.Assets() {
		if a.AssigneeID(atomicwork.FieldAssignedTo) == userID && a.TypeID() == typeID {
			n++
		}
	}
	return n
}

func TestAssetTypesAndForms(t *testing.T) {
	s, c := newSim(t, Options{})
	types := ok[atomicwork.Page[atomicwork.Option]](t, c.get("/api/v1/forms/ASSET/asset_type/options"))
	require.Len(t, types.Data, 3)
	byName := map[string]int64{}
	for _, o := range types.Data {
		assert.Equal(t, o.Label, o.Value)
		byName[o.Label] = o.ID
	}
	laptop := s.AssetTypeID("Laptop")
	assert.Equal(t, laptop, byName["Laptop"])
	found := ok[atomicwork.Page[atomicwork.Option]](t, c.get("/api/v1/forms/ASSET/asset_type/options?search_key=lap&workspace_id=1"))
	assert.Equal(t, []atomicwork.Option{{ID: laptop, Label: "Laptop", Value: "Laptop"}}, found.Data)
	statuses := ok[atomicwork.Page[atomicwork.Option]](t, c.get("/api/v1/forms/ASSET/status/options"))
	assert.Len(t, statuses.Data, 3)
	fails(t, c.get("/api/v1/forms/REQUEST/priority/options"), http.StatusNotFound, atomicwork.CodeNotFound)
	fails(t, c.get("/api/v1/forms/ASSET/asset_type/options?workspace_id=2"), http.StatusForbidden, atomicwork.CodeForbidden)
	fails(t, c.get("/api/v1/forms/ASSET/asset_type/options?workspace_id=it"), http.StatusBadRequest, atomicwork.CodeBadRequest)

	fields := wholeListOf[atomicwork.FieldDefinition](t, c.get("/api/v1/assets/types/"+id(laptop)+"/form-fields"))
	keys := map[string]atomicwork.FieldDefinition{}
	for _, f := range fields {
		keys[f.ReferenceKey] = f
	}
	require.Contains(t, keys, "assigned_to")
	assert.Equal(t, "ENTITY_REFERENCE", keys["assigned_to"].Type)
	assert.Equal(t, "USER", keys["assigned_to"].ReferencedEntityType)
	require.Contains(t, keys, "status")
	assert.Equal(t, []string{"Available", "In Use", "Retired"}, []string{keys["status"].Options[0].Label, keys["status"].Options[1].Label, keys["status"].Options[2].Label})
	assert.Equal(t, "IN_USE", keys["status"].Options[1].Value)
	assert.Contains(t, keys, "display_name")
	assert.Contains(t, keys, "serial_number")
	fails(t, c.get("/api/v1/assets/types/999/form-fields"), http.StatusNotFound, atomicwork.CodeNotFound)

	attrs := ok[atomicwork.Page[atomicwork.FieldDefinition]](t, c.get("/api/v1/assets/attributes?page=1&page_size=2"))
	assert.Equal(t, 2, attrs.PageSize)
	assert.Equal(t, 5, attrs.TotalCount, "the id, then one definition per reference key")
	sortable := map[string]bool{}
	for _, a := range ok[envelope[attributeDef]](t, c.get("/api/v1/assets/attributes?page_size=100")).Data {
		sortable[a.ReferenceKey] = a.Sortable
	}
	assert.Equal(t, map[string]bool{"id": true, "display_name": true, "serial_number": false, "assigned_to": false, "status": false}, sortable)
	narrowed := ok[atomicwork.Page[atomicwork.FieldDefinition]](t, c.get("/api/v1/assets/attributes?asset_type="+id(laptop)+"&search_key=assign"))
	require.Len(t, narrowed.Data, 1)
	assert.Equal(t, keys["assigned_to"], narrowed.Data[0])
	fails(t, c.get("/api/v1/assets/attributes?asset_type=999"), http.StatusNotFound, atomicwork.CodeNotFound)
}

func TestListAssets(t *testing.T) {
	s, c := newSim(t, Options{})
	laptop := s.AssetTypeID("Laptop")
	list := func(path string, body any) atomicwork.Page[atomicwork.Asset] {
		t.Helper()
		return ok[atomicwork.Page[atomicwork.Asset]](t, c.do(http.MethodPost, path, body))
	}
	all := list("/api/v1/assets/list?page=1&per_page=1000", "[]")
	assert.Equal(t, len(s.Assets()), all.TotalCount)
	assert.Len(t, all.Data, all.TotalCount, "assets/list allows 1000 per page")

	available := list("/api/v1/assets/list?page=1&per_page=1", filters(
		where("status", "IS_ANY_OF", "AVAILABLE"), where("type_id", "IS_ANY_OF", laptop)))
	assert.Equal(t, 20, available.TotalCount)
	assert.Equal(t, 20, available.TotalPages)
	require.Len(t, available.Data, 1)
	assert.Nil(t, available.NextPageToken, "offset endpoints carry no token")
	// Labels, option ids and string ids are aliases (Q14).
	assert.Equal(t, 20, list("/api/v1/assets/list", filters(where("status", "IN", "available"), where("type_id", "EQUALS", id(laptop)))).TotalCount)
	assert.Equal(t, 20, list("/api/v1/assets/list", map[string]any{"filters": filters(where("status", "IS_ANY_OF", 401), where("type_id", "IS_ANY_OF", laptop))}).TotalCount)

	bo := mustUser(t, s.Handler, "bo.li@example.com")
	boAssets := list("/api/v1/assets/list", filters(where("assigned_to_id", "IS_ANY_OF", bo.ID)))
	require.NotEmpty(t, boAssets.Data)
	for _, a := range boAssets.Data {
		assert.Equal(t, bo.ID, a.AssigneeID(atomicwork.FieldAssignedTo))
	}
	assert.Equal(t, boAssets.TotalCount, list("/api/v1/assets/list", filters(where("assigned_to", "EQUALS", bo.ID))).TotalCount)

	// Any form-field key filters, with the text operators.
	mbp1 := list("/api/v1/assets/list", filters(where("display_name", "EQUALS", "MBP-0001")))
	require.Len(t, mbp1.Data, 1)
	assert.Equal(t, "MBP-0001", mbp1.Data[0].Label)
	assert.Equal(t, 30, list("/api/v1/assets/list", filters(where("display_name", "STARTS_WITH", "mbp-"))).TotalCount)
	assert.Equal(t, 3, list("/api/v1/assets/list", filters(where("display_name", "ENDS_WITH", "-0001"))).TotalCount)
	assert.Equal(t, 1, list("/api/v1/assets/list", filters(where("serial_number", "CONTAINS", "c02l000001"))).TotalCount)
	unassigned := list("/api/v1/assets/list", filters(where("assigned_to_id", "IS_NULL")))
	assigned := list("/api/v1/assets/list", filters(where("assigned_to_id", "IS_NOT_NULL")))
	assert.Equal(t, all.TotalCount, unassigned.TotalCount+assigned.TotalCount)
	notLaptops := list("/api/v1/assets/list", filters(where("type_id", "IS_NOT_ANY_OF", laptop)))
	assert.Equal(t, all.TotalCount-30, notLaptops.TotalCount)

	for _, body := range []any{
		filters(where("colour", "EQUALS", "red")),
		filters(where("status", "IS_ANY_OF", "BROKEN")),
		filters(where("status", "FUZZY", "AVAILABLE")),
		filters(where("type_id", "CONTAINS", 1)),
		filters(where("type_id", "IS_BETWEEN", 1)),
		filters(where("type_id", "IS_ANY_OF")),
		`[{"attribute":"status","operator":"IS_ANY_OF","values":[{"value":{"nested":1}}]}]`,
		`{"filters": "status"}`,
		`42`,
	} {
		r := c.do(http.MethodPost, "/api/v1/assets/list", body)
		require.Equal(t, http.StatusBadRequest, r.status, "%v: %s", body, r.body)
	}
	clamped := list("/api/v1/assets/list?per_page=5000", nil)
	assert.Equal(t, 1000, clamped.PageSize)
	assert.Zero(t, ok[atomicwork.Page[atomicwork.Asset]](t, c.withKey(HRKey).do(http.MethodPost, "/api/v1/assets/list", nil)).TotalCount)
}

func TestUserAssets(t *testing.T) {
	s, c := newSim(t, Options{ExtraAssets: 3})
	bo := mustUser(t, s.Handler, "bo.li@example.com")
	want := 0
	for _, a := range s.Assets() {
		if a.AssigneeID(atomicwork.FieldAssignedTo) == bo.ID {
			want++
		}
	}
	page := ok[atomicwork.Page[atomicwork.Asset]](t, c.get("/api/v1/assets/users/"+id(bo.ID)+"/list?page=1&page_size=2"))
	assert.Equal(t, want, page.TotalCount)
	assert.Equal(t, 2, page.PageSize)
	assert.Len(t, page.Data, 2)
	searched := ok[atomicwork.Page[atomicwork.Asset]](t, c.get("/api/v1/assets/users/"+id(bo.ID)+"/list?search_key=MBP"))
	assert.Equal(t, heldBy(s.Handler, bo.ID, s.AssetTypeID("Laptop")), searched.TotalCount)
	fails(t, c.get("/api/v1/assets/users/999999/list"), http.StatusNotFound, atomicwork.CodeNotFound)
	fails(t, c.get("/api/v1/assets/users/"+id(bo.ID)+"/list?page_size=0"), http.StatusBadRequest, atomicwork.CodeBadRequest)
}

// availableLaptop returns the first available laptop.
func availableLaptop(t *testing.T, h *Handler) atomicwork.Asset {
	t.Helper()
	laptop := h.AssetTypeID("Laptop")
	for _, a := range h.Assets() {
		if a.TypeID() == laptop && a.StatusValue(atomicwork.FieldStatus) == atomicwork.AssetAvailable {
			return a
		}
	}
	require.FailNow(t, "no available laptop")
	return atomicwork.Asset{}
}

func TestGetAndUpdateAsset(t *testing.T) {
	clock := newFakeClock()
	s, c := newSim(t, Options{Now: clock.Now})
	a := availableLaptop(t, s.Handler)
	path := "/api/v1/assets/" + id(a.ID)
	got := ok[atomicwork.Asset](t, c.get(path))
	assert.Equal(t, a.ID, got.AssetBasicInfo.ID)
	assert.Equal(t, "Laptop", got.AssetBasicInfo.AssetTypeName)
	assert.Equal(t, a.Label, got.AssetBasicInfo.DisplayName)
	assert.Equal(t, a.SerialNumber, got.FormFields["serial_number"])
	assert.Contains(t, got.FormFields, "assigned_to")
	assert.Nil(t, got.FormFields["assigned_to"])
	ok[atomicwork.Asset](t, c.get(path+"?source=manual"))
	fails(t, c.get(path+"?source=KANDJI"), http.StatusNotFound, atomicwork.CodeNotFound)
	fails(t, c.get("/api/v1/assets/1001"), http.StatusNotFound, atomicwork.CodeNotFound)
	fails(t, c.withKey(HRKey).get(path), http.StatusNotFound, atomicwork.CodeNotFound)

	ana := mustUser(t, s.Handler, "ana.diaz@example.com")
	clock.Advance(time.Hour)
	// A partial body merges; the status label is stored as its value (Q9, Q14).
	got = ok[atomicwork.Asset](t, c.do(http.MethodPut, path, map[string]any{
		"asset_type_id": a.AssetTypeID, "form_fields": map[string]any{"assigned_to": ana.ID, "status": "In Use"}}))
	assert.Equal(t, ana.ID, got.AssigneeID("assigned_to"))
	assert.Equal(t, "IN_USE", got.FormFields["status"])
	assert.Equal(t, a.Label, got.Label, "keys not sent are kept")
	assert.Equal(t, clock.Now(), got.UpdatedAt)
	assert.Equal(t, a.CreatedAt, got.CreatedAt)

	// A full read-modify-write body with a numeric-string user, status by option id.
	full := got.FormFields
	full["assigned_to"] = id(ana.ID)
	full["status"] = 401
	got = ok[atomicwork.Asset](t, c.do(http.MethodPut, path, map[string]any{"asset_type_id": id(a.AssetTypeID), "form_fields": full}))
	assert.Equal(t, "AVAILABLE", got.FormFields["status"])
	assert.Equal(t, float64(ana.ID), got.FormFields["assigned_to"])

	// Returning it: explicit null unassigns.
	got = ok[atomicwork.Asset](t, c.do(http.MethodPut, path, map[string]any{
		"asset_type_id": a.AssetTypeID, "form_fields": map[string]any{"assigned_to": nil, "status": "available"}}))
	assert.Nil(t, got.FormFields["assigned_to"])
	assert.Contains(t, got.FormFields, "assigned_to")
	stored := ok[atomicwork.Asset](t, c.get(path))
	assert.Equal(t, got, stored)

	former := mustUser(t, s.Handler, "former.employee@example.com")
	before := takeSnapshot(s.Handler)
	for name, body := range map[string]any{
		"no type":             map[string]any{"form_fields": map[string]any{"status": "IN_USE"}},
		"no form_fields":      map[string]any{"asset_type_id": a.AssetTypeID},
		"null form_fields":    map[string]any{"asset_type_id": a.AssetTypeID, "form_fields": nil},
		"form_fields array":   map[string]any{"asset_type_id": a.AssetTypeID, "form_fields": []int{1}},
		"wrong type":          map[string]any{"asset_type_id": s.AssetTypeID("Phone"), "form_fields": map[string]any{}},
		"unknown type":        map[string]any{"asset_type_id": 999, "form_fields": map[string]any{}},
		"unknown status":      map[string]any{"asset_type_id": a.AssetTypeID, "form_fields": map[string]any{"status": "LOST"}},
		"unknown user":        map[string]any{"asset_type_id": a.AssetTypeID, "form_fields": map[string]any{"assigned_to": 999999}},
		"deleted user":        map[string]any{"asset_type_id": a.AssetTypeID, "form_fields": map[string]any{"assigned_to": former.ID}},
		"user as email":       map[string]any{"asset_type_id": a.AssetTypeID, "form_fields": map[string]any{"assigned_to": "ana.diaz@example.com"}},
		"clearing required":   map[string]any{"asset_type_id": a.AssetTypeID, "form_fields": map[string]any{"display_name": nil}},
		"name not a string":   map[string]any{"asset_type_id": a.AssetTypeID, "form_fields": map[string]any{"display_name": 7}},
		"half good, half bad": map[string]any{"asset_type_id": a.AssetTypeID, "form_fields": map[string]any{"status": "RETIRED", "assigned_to": 999999}},
	} {
		r := c.do(http.MethodPut, path, body)
		require.Equal(t, http.StatusBadRequest, r.status, "%s: %s", name, r.body)
		fails(t, r, http.StatusBadRequest, atomicwork.CodeValidationError)
	}
	fails(t, c.do(http.MethodPut, "/api/v1/assets/999999", map[string]any{"asset_type_id": a.AssetTypeID, "form_fields": map[string]any{}}), http.StatusNotFound, atomicwork.CodeNotFound)
	assert.Equal(t, before, takeSnapshot(s.Handler))
}

func TestUnknownFormFieldsAreDroppedOrRejectedInStrictMode(t *testing.T) {
	s, c := newSim(t, Options{})
	a := availableLaptop(t, s.Handler)
	got := ok[atomicwork.Asset](t, c.do(http.MethodPut, "/api/v1/assets/"+id(a.ID), map[string]any{
		"asset_type_id": a.AssetTypeID, "form_fields": map[string]any{"colour": "silver", "status": "RETIRED"}}))
	assert.NotContains(t, got.FormFields, "colour")
	assert.Equal(t, "RETIRED", got.FormFields["status"])

	strict, sc := newSim(t, Options{Strict: true})
	a = availableLaptop(t, strict.Handler)
	before := takeSnapshot(strict.Handler)
	msg := fails(t, sc.do(http.MethodPut, "/api/v1/assets/"+id(a.ID), map[string]any{
		"asset_type_id": a.AssetTypeID, "form_fields": map[string]any{"colour": "silver", "status": "RETIRED"}}),
		http.StatusBadRequest, atomicwork.CodeValidationError)
	assert.Contains(t, msg, "colour")
	assert.Equal(t, before, takeSnapshot(strict.Handler))
}

func TestCreateAsset(t *testing.T) {
	clock := newFakeClock()
	s, c := newSim(t, Options{Now: clock.Now})
	phone := s.AssetTypeID("Phone")
	ana := mustUser(t, s.Handler, "ana.diaz@example.com")
	got := ok[atomicwork.Asset](t, c.do(http.MethodPost, "/api/v1/assets", map[string]any{
		"asset_type_id": phone, "form_fields": map[string]any{"display_name": "IPH-NEW", "status": "In Use", "assigned_to": ana.ID}}))
	assert.NotZero(t, got.ID)
	assert.Equal(t, "IPH-NEW", got.Label)
	assert.Equal(t, "Phone", got.AssetBasicInfo.AssetTypeName)
	assert.Equal(t, map[string]any{"display_name": "IPH-NEW", "serial_number": nil, "status": "IN_USE", "assigned_to": float64(ana.ID)}, got.FormFields)
	assert.Equal(t, clock.Now(), got.CreatedAt)
	assert.Equal(t, got, ok[atomicwork.Asset](t, c.get("/api/v1/assets/"+id(got.ID))))

	before := takeSnapshot(s.Handler)
	fails(t, c.do(http.MethodPost, "/api/v1/assets", map[string]any{"asset_type_id": phone, "form_fields": map[string]any{"status": "AVAILABLE"}}),
		http.StatusBadRequest, atomicwork.CodeValidationError)
	fails(t, c.do(http.MethodPost, "/api/v1/assets", map[string]any{"asset_type_id": phone, "form_fields": map[string]any{"display_name": "X"}}),
		http.StatusBadRequest, atomicwork.CodeValidationError)
	fails(t, c.do(http.MethodPost, "/api/v1/assets", map[string]any{"form_fields": map[string]any{"display_name": "X", "status": "AVAILABLE"}}),
		http.StatusBadRequest, atomicwork.CodeValidationError)
	assert.Equal(t, before, takeSnapshot(s.Handler))
}
