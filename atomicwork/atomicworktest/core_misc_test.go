package atomicworktest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/atomicwork"
)

func TestWorkspaces(t *testing.T) {
	_, c := newSim(t, Options{})
	it := ok[atomicwork.Page[atomicwork.Workspace]](t, c.get("/api/v1/workspaces?page=1&per_page=100"))
	require.Len(t, it.Data, 1, "a key lists only the workspaces it can access")
	assert.Equal(t, ITWorkspaceID, it.Data[0].ID)
	assert.Equal(t, "IT", it.Data[0].Name)
	assert.True(t, it.Data[0].IsMember)
	assert.Contains(t, it.Data[0].SupportedObjects, "SERVICE_REQUEST")

	hr := ok[atomicwork.Page[atomicwork.Workspace]](t, c.withKey(HRKey).get("/api/v1/workspaces"))
	require.Len(t, hr.Data, 1)
	assert.Equal(t, "HR", hr.Data[0].Name)
	assert.Empty(t, ok[atomicwork.Page[atomicwork.Workspace]](t, c.withKey(HRKey).get("/api/v1/workspaces?supported_objects=INCIDENT")).Data)
	assert.Len(t, ok[atomicwork.Page[atomicwork.Workspace]](t, c.get("/api/v1/workspaces?supported_objects=PROBLEM,INCIDENT")).Data, 1)
	assert.Empty(t, ok[atomicwork.Page[atomicwork.Workspace]](t, c.get("/api/v1/workspaces?search_key=finance")).Data)
	fails(t, c.get("/api/v1/workspaces?supported_objects=TASK"), http.StatusBadRequest, atomicwork.CodeBadRequest)

	assert.Equal(t, it.Data[0], ok[atomicwork.Workspace](t, c.get("/api/v1/workspaces/1")))
	fails(t, c.get("/api/v1/workspaces/2"), http.StatusForbidden, atomicwork.CodeForbidden)
	fails(t, c.get("/api/v1/workspaces/99"), http.StatusNotFound, atomicwork.CodeNotFound)
	fails(t, c.get("/api/v1/workspaces/it"), http.StatusBadRequest, atomicwork.CodeBadRequest)
}

func TestCatalogue(t *testing.T) {
	_, c := newSim(t, Options{})
	published := ok[atomicwork.Page[atomicwork.CatalogItem]](t, c.get("/api/v1/workspaces/1/catalogue/items?is_published=true"))
	names := []string{}
	for _, it := range published.Data {
		names = append(names, it.Name)
		assert.Equal(t, ITWorkspaceID, it.WorkspaceID)
		assert.True(t, it.IsPublished)
	}
	assert.Equal(t, []string{"New Hire Onboarding", "Employee Offboarding"}, names)
	all := ok[atomicwork.Page[atomicwork.CatalogItem]](t, c.get("/api/v1/workspaces/1/catalogue/items"))
	assert.Greater(t, all.TotalCount, published.TotalCount)
	off := ok[atomicwork.Page[atomicwork.CatalogItem]](t, c.get("/api/v1/workspaces/1/catalogue/items?search_key=offboard"))
	require.Len(t, off.Data, 1)
	item := off.Data[0]
	assert.Equal(t, item, ok[atomicwork.CatalogItem](t, c.get("/api/v1/workspaces/1/catalogue/items/"+id(item.ID))))
	fails(t, c.get("/api/v1/workspaces/1/catalogue/items/999"), http.StatusNotFound, atomicwork.CodeNotFound)
	fails(t, c.get("/api/v1/workspaces/1/catalogue/items?is_published=perhaps"), http.StatusBadRequest, atomicwork.CodeBadRequest)
	assert.Empty(t, ok[atomicwork.Page[atomicwork.CatalogItem]](t, c.withKey(HRKey).get("/api/v1/workspaces/2/catalogue/items")).Data)

	fields := wholeListOf[atomicwork.FieldDefinition](t, c.get("/api/v1/catalogue-items/"+id(item.ID)+"/fields"))
	require.Len(t, fields, 2)
	assert.Equal(t, "employee", fields[0].ReferenceKey)
	assert.Equal(t, "ENTITY_REFERENCE", fields[0].Type)
	assert.Equal(t, "USER", fields[0].ReferencedEntityType)
	assert.True(t, fields[0].RequiredField)
	assert.Equal(t, "last_working_day", fields[1].ReferenceKey)
	assert.Equal(t, "DATE", fields[1].Type)
	assert.True(t, fields[1].RequiredField)

	onboarding := published.Data[0]
	fields = wholeListOf[atomicwork.FieldDefinition](t, c.get("/api/v1/catalogue-items/"+id(onboarding.ID)+"/fields"))
	required := map[string]bool{}
	for _, f := range fields {
		required[f.ReferenceKey] = f.RequiredField
	}
	assert.Equal(t, map[string]bool{"employee_name": true, "start_date": true, "department": false, "manager": false}, required)
	found := wholeListOf[atomicwork.FieldDefinition](t, c.get("/api/v1/catalogue-items/"+id(onboarding.ID)+"/fields?search_key=date"))
	require.Len(t, found, 1)
	assert.Equal(t, "start_date", found[0].ReferenceKey)
	fails(t, c.get("/api/v1/catalogue-items/999/fields"), http.StatusNotFound, atomicwork.CodeNotFound)
	fails(t, c.withKey(HRKey).get("/api/v1/catalogue-items/"+id(onboarding.ID)+"/fields"), http.StatusNotFound, atomicwork.CodeNotFound)
}

func TestPagination(t *testing.T) {
	_, c := newSim(t, Options{})
	first := ok[atomicwork.Page[atomicwork.User]](t, c.get("/api/v1/users/list"))
	assert.Equal(t, 1, first.Page)
	assert.Equal(t, 25, first.PageSize, "per_page defaults to 25")
	total := first.TotalCount

	var ids []int64
	for page := 1; ; page++ {
		p := ok[atomicwork.Page[atomicwork.User]](t, c.get("/api/v1/users/list?per_page=7&page="+id(int64(page))))
		assert.Equal(t, (total+6)/7, p.TotalPages)
		assert.Equal(t, total, p.TotalCount)
		assert.Nil(t, p.NextPageToken)
		for _, u := range p.Data {
			ids = append(ids, u.ID)
		}
		if page >= p.TotalPages {
			break
		}
		assert.Len(t, p.Data, 7)
	}
	require.Len(t, ids, total)
	for i := 1; i < len(ids); i++ {
		assert.Less(t, ids[i-1], ids[i])
	}
	beyond := ok[atomicwork.Page[atomicwork.User]](t, c.get("/api/v1/users/list?page=99"))
	assert.NotNil(t, beyond.Data)
	assert.Empty(t, beyond.Data)
	assert.Contains(t, string(c.get("/api/v1/users/list?page=99").body), `"data":[]`)

	assert.Equal(t, 100, ok[atomicwork.Page[atomicwork.User]](t, c.get("/api/v1/users/list?per_page=101")).PageSize)
	for _, q := range []string{"page=0", "page=-1", "per_page=0", "page=abc", "per_page=2.5"} {
		msg := fails(t, c.get("/api/v1/users/list?"+q), http.StatusBadRequest, atomicwork.CodeBadRequest)
		assert.Contains(t, msg, "at least 1")
	}
	empty := ok[atomicwork.Page[atomicwork.Workspace]](t, c.get("/api/v1/workspaces?search_key=none"))
	assert.Zero(t, empty.TotalPages)
}

func TestPageTokens(t *testing.T) {
	tok := pageToken(pageQuery{page: 3, size: 10})
	p, valid := parsePageToken(tok)
	require.True(t, valid)
	assert.Equal(t, pageQuery{page: 3, size: 10}, p)
	for _, bad := range []string{"", "!!", "cGFnZTo", pageToken(pageQuery{page: 0, size: 10}), pageToken(pageQuery{page: 1, size: -1})} {
		_, valid := parsePageToken(bad)
		assert.False(t, valid, bad)
	}
}
