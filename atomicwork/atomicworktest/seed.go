package atomicworktest

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// The demo dataset. Every timestamp is the seed time, so tests with an injected clock know them.

// DefaultExtraAssetsAssignee receives Options.ExtraAssets laptops unless ExtraAssetsAssignee is set.
const DefaultExtraAssetsAssignee = "bo.li@example.com"

// Reference keys of the asset form fields (API-NOTES §3).
const (
	fieldDisplayName  = "display_name"
	fieldSerialNumber = "serial_number"
)

// Field types of the simulated forms.
const (
	fieldText      = "TEXT"
	fieldDate      = "DATE"
	fieldDropdown  = "DROPDOWN"
	fieldEntityRef = "ENTITY_REFERENCE"
	entityUser     = "USER"
)

var seedDepartments = []string{"Engineering", "Sales", "IT", "HR", "Finance", "Marketing", "Operations"}

var seedOrgRoles = []string{"employee", "agent", "admin"}

// seedUser is one demo user; manager is an email of an earlier row.
type seedUser struct {
	first, last, email, department, title, manager string
	roles                                          []string
}

var seedUsers = []seedUser{
	{"Morgan", "Reyes", "it.manager@example.com", "IT", "IT Manager", "", []string{"employee", "agent", "admin"}},
	{"Harper", "Quinn", "hr.manager@example.com", "HR", "HR Manager", "", []string{"employee", "agent"}},
	{"Bo", "Li", "bo.li@example.com", "Engineering", "Engineering Manager", "", nil},
	{"Ana", "Diaz", "ana.diaz@example.com", "Engineering", "Software Engineer", "bo.li@example.com", nil},
	{"Sam", "Patel", "sam.patel@example.com", "Engineering", "Software Engineer", "bo.li@example.com", nil},
	{"Lena", "Fischer", "lena.fischer@example.com", "Engineering", "Site Reliability Engineer", "bo.li@example.com", nil},
	{"Tomas", "Silva", "tomas.silva@example.com", "Engineering", "QA Engineer", "bo.li@example.com", nil},
	{"Priya", "Nair", "priya.nair@example.com", "Engineering", "Staff Engineer", "bo.li@example.com", nil},
	{"Omar", "Haddad", "omar.haddad@example.com", "Sales", "Sales Director", "", nil},
	{"Grace", "Kim", "grace.kim@example.com", "Sales", "Account Executive", "omar.haddad@example.com", nil},
	{"Luis", "Romero", "luis.romero@example.com", "Sales", "Account Executive", "omar.haddad@example.com", nil},
	{"Chloe", "Martin", "chloe.martin@example.com", "Sales", "Sales Engineer", "omar.haddad@example.com", nil},
	{"Ravi", "Shah", "ravi.shah@example.com", "IT", "IT Support Specialist", "it.manager@example.com", []string{"employee", "agent"}},
	{"Nina", "Petrova", "nina.petrova@example.com", "IT", "Systems Administrator", "it.manager@example.com", []string{"employee", "agent"}},
	{"Jonas", "Berg", "jonas.berg@example.com", "HR", "HR Generalist", "hr.manager@example.com", nil},
	{"Fatima", "Zahra", "fatima.zahra@example.com", "HR", "Recruiter", "hr.manager@example.com", nil},
	{"Ethan", "Brooks", "ethan.brooks@example.com", "Finance", "Finance Director", "", nil},
	{"Mei", "Chen", "mei.chen@example.com", "Finance", "Accountant", "ethan.brooks@example.com", nil},
	{"Kofi", "Mensah", "kofi.mensah@example.com", "Finance", "Financial Analyst", "ethan.brooks@example.com", nil},
	{"Sofia", "Rossi", "sofia.rossi@example.com", "Marketing", "Marketing Manager", "", nil},
	{"Liam", "OConnor", "liam.oconnor@example.com", "Marketing", "Content Strategist", "sofia.rossi@example.com", nil},
	{"Yuki", "Sato", "yuki.sato@example.com", "Marketing", "Designer", "sofia.rossi@example.com", nil},
	{"Daniel", "Novak", "daniel.novak@example.com", "Operations", "Operations Manager", "", nil},
	{"Aisha", "Bello", "aisha.bello@example.com", "Operations", "Office Coordinator", "daniel.novak@example.com", nil},
}

// seedFormerEmployee is soft-deleted, so onboarding a rehire exercises restore-by-email (Q7).
var seedFormerEmployee = seedUser{"Former", "Employee", "former.employee@example.com", "Sales", "Account Executive", "omar.haddad@example.com", nil}

// seedApps and seedEntitlements are the IGA catalogue of workspace 1.
var seedApps = []atomicwork.App{
	{Name: "Okta", Provider: "OKTA"},
	{Name: "GitHub", Provider: "MANUAL"},
	{Name: "Slack", Provider: "MANUAL"},
}

var seedEntitlements = []struct {
	app, name, typ, status, description string
}{
	{"Okta", "okta-base", "GROUP", "PUBLISHED", "Base Okta access for every employee"},
	{"GitHub", "github-engineering", "GROUP", "PUBLISHED", "Engineering organisation on GitHub"},
	{"Slack", "slack-member", "ROLE", "PUBLISHED", "Member of the company Slack workspace"},
	{"GitHub", "github-admin", "ROLE", "DRAFT", "GitHub organisation owner (not yet approved for granting)"},
}

// The demo grants: entitlements every active employee holds, plus those of their department.
var (
	seedBirthrightEntitlements = []string{"okta-base", "slack-member"}
	seedDepartmentEntitlements = map[string][]string{"Engineering": {"github-engineering"}}
)

// seedAssetTypes gives each type its naming and how many assets start in each status; in-use
// ones go to active users in turn.
var seedAssetTypes = []struct {
	name, labelPrefix, serialPrefix string
	available, inUse, retired       int
}{
	{"Laptop", "MBP", "C02L", 20, 10, 0},
	{"Monitor", "MON", "MN", 10, 8, 2},
	{"Phone", "IPH", "PH", 5, 4, 1},
}

var seedAssetStatuses = []atomicwork.Option{
	{Label: "Available", Value: atomicwork.AssetAvailable},
	{Label: "In Use", Value: atomicwork.AssetInUse},
	{Label: "Retired", Value: atomicwork.AssetRetired},
}

// seed builds the demo dataset at time now.
func seed(opts Options, now time.Time) *store {
	s := &store{
		departments: map[int64]string{},
		orgRoles:    map[int64]string{},
		agentGroups: map[int64]*agentGroup{},
		revoking:    map[int64]*grant{},
		displaySeq:  map[int64]int64{},
		ids:         idCounters{user: 1000, request: 5000, note: 7000, itemInstance: 9000, grant: 3000, event: 4000, asset: 8000},
	}
	for i, name := range seedDepartments {
		s.departments[int64(11+i)] = name
	}
	for i, name := range seedOrgRoles {
		s.orgRoles[int64(1+i)] = name
	}
	s.seedUsers(now)
	itOwner, _ := s.userByEmail("it.manager@example.com")
	hrOwner, _ := s.userByEmail("hr.manager@example.com")
	s.workspaces = []*workspace{
		{Workspace: atomicwork.Workspace{ID: ITWorkspaceID, Name: "IT", Description: ptr("IT service desk"),
			SupportedObjects: []string{atomicwork.RequestTypeRequest, atomicwork.RequestTypeIncident, atomicwork.RequestTypeServiceRequest}, IsMember: true},
			prefix: "IT", keyOwner: itOwner.ID},
		{Workspace: atomicwork.Workspace{ID: HRWorkspaceID, Name: "HR", Description: ptr("People operations"),
			SupportedObjects: []string{atomicwork.RequestTypeRequest, atomicwork.RequestTypeServiceRequest}, IsMember: true},
			prefix: "HR", keyOwner: hrOwner.ID},
	}
	s.agentGroups[31] = &agentGroup{id: 31, workspace: ITWorkspaceID, name: "IT Ops"}
	s.agentGroups[32] = &agentGroup{id: 32, workspace: HRWorkspaceID, name: "People Ops"}
	s.seedCatalog()
	s.seedIGA(now, itOwner.ID)
	s.seedAssets(opts, now)
	return s
}

func (s *store) seedUsers(now time.Time) {
	add := func(su seedUser) *atomicwork.User {
		id := next(&s.ids.user)
		u := &atomicwork.User{
			ID: id, FirstName: su.first, LastName: su.last, FullName: fullName(su.first, su.last),
			Email: su.email, Type: "EMPLOYEE", EmployeeID: fmt.Sprintf("E-%d", id), Title: su.title,
			EmploymentStatus: "ACTIVE", JoinedOn: ptr(fmt.Sprintf("20%02d-%02d-01", 18+id%6, 1+id%12)),
			InvitationStatus: "ACCEPTED", NotificationEnabled: true, Timezone: defaultTimezone,
			CustomFields: map[string]any{}, CreatedAt: now, UpdatedAt: now,
		}
		for dept, name := range s.departments {
			if name == su.department {
				u.Department = &atomicwork.Ref{ID: dept}
			}
		}
		if m, ok := s.userByEmail(su.manager); ok {
			u.Manager = &atomicwork.Ref{ID: m.ID}
		}
		roles := su.roles
		if roles == nil {
			roles = []string{"employee"}
		}
		for _, role := range roles {
			for rid, name := range s.orgRoles {
				if name == role {
					u.OrgRoles = append(u.OrgRoles, atomicwork.Ref{ID: rid})
				}
			}
		}
		s.users.add(id, u)
		return u
	}
	for _, su := range seedUsers {
		add(su)
	}
	former := add(seedFormerEmployee)
	former.EmploymentStatus = "TERMINATED"
	former.TerminatedOn = ptr(now.AddDate(0, -2, 0).Format(time.DateOnly))
	former.IsDeleted = true
	former.DeletedAt = ptr(now)
}

func (s *store) seedCatalog() {
	fieldID := int64(500)
	optionID := int64(600)
	def := func(key, name, typ, dataType string, required bool) atomicwork.FieldDefinition {
		return atomicwork.FieldDefinition{ID: next(&fieldID), ReferenceKey: key, DisplayName: name, Type: typ,
			DataType: dataType, RequiredField: required}
	}
	userRef := func(key, name string, required bool) atomicwork.FieldDefinition {
		d := def(key, name, fieldEntityRef, "INTEGER", required)
		d.ReferencedEntityType = entityUser
		return d
	}
	application := def("application", "Application", fieldDropdown, "STRING", true)
	for _, app := range []string{"Figma", "Jira", "Salesforce"} {
		application.Options = append(application.Options, atomicwork.Option{ID: next(&optionID), Label: app, Value: strings.ToUpper(app)})
	}
	items := []catalogItem{
		{CatalogItem: atomicwork.CatalogItem{Name: "New Hire Onboarding", Description: "Accounts, access and equipment for a new employee", IsPublished: true},
			fields: []atomicwork.FieldDefinition{
				def("employee_name", "Employee Name", fieldText, "STRING", true),
				def("start_date", "Start Date", fieldDate, "DATE", true),
				def("department", "Department", fieldText, "STRING", false),
				userRef("manager", "Manager", false),
			}},
		{CatalogItem: atomicwork.CatalogItem{Name: "Employee Offboarding", Description: "Revoke access and collect equipment of a leaver", IsPublished: true},
			fields: []atomicwork.FieldDefinition{
				userRef("employee", "Employee", true),
				def("last_working_day", "Last Working Day", fieldDate, "DATE", true),
			}},
		{CatalogItem: atomicwork.CatalogItem{Name: "Software Access Request", Description: "Request a licence for a business application", IsPublished: false},
			fields: []atomicwork.FieldDefinition{application}},
	}
	for i := range items {
		it := &items[i]
		it.ID = int64(41 + i)
		it.CategoryType = atomicwork.RequestTypeServiceRequest
		it.WorkspaceID = ITWorkspaceID
		for j := range it.fields {
			it.fields[j].Order = j + 1
		}
		s.catalog.add(it.ID, it)
	}
}

func (s *store) seedIGA(now time.Time, grantedBy int64) {
	for i, a := range seedApps {
		a.ID = int64(61 + i)
		s.apps.add(a.ID, &app{App: a, workspace: ITWorkspaceID})
	}
	for i, e := range seedEntitlements {
		ent := &atomicwork.Entitlement{ID: int64(201 + i), Name: e.name, Description: e.description,
			Type: e.typ, Status: e.status, Value: e.name}
		for _, a := range s.apps.rows {
			if a.Name == e.app {
				ent.AppID = a.ID
			}
		}
		s.entitlements.add(ent.ID, ent)
	}
	for _, u := range s.users.rows {
		if u.IsDeleted {
			continue
		}
		for _, name := range slices.Concat(seedBirthrightEntitlements, seedDepartmentEntitlements[s.departments[u.Department.ID]]) {
			ent, _ := s.entitlementByName(name)
			s.addGrant(u.ID, ent, grantedBy, now)
		}
	}
}

func (s *store) entitlementByName(name string) (*atomicwork.Entitlement, bool) {
	for _, e := range s.entitlements.rows {
		if e.Name == name {
			return e, true
		}
	}
	return nil, false
}

// provisioningCompleted is the provisioning status of every grant: the simulated identity
// providers apply grants at once.
const provisioningCompleted = "COMPLETED"

// addGrant records a new active grant and its GRANTED history entry.
func (s *store) addGrant(userID int64, ent *atomicwork.Entitlement, grantedBy int64, at time.Time) *grant {
	a, _ := s.apps.get(ent.AppID)
	id := next(&s.ids.grant)
	g := &grant{
		Grant: atomicwork.Grant{
			ID: id, Status: atomicwork.GrantGranted, Type: "PREAPPROVED",
			User: &atomicwork.Ref{ID: userID}, Entitlement: &atomicwork.GrantEntitlement{ID: ent.ID}, App: &atomicwork.Ref{ID: a.ID},
			GrantedBy: ptr(grantedBy), GrantedAt: ptr(at),
			ProvisioningStatus: &atomicwork.ProvisioningStatus{Provider: a.Provider, Status: provisioningCompleted},
			CreatedAt:          at, UpdatedAt: at,
		},
		workspace: a.workspace,
	}
	g.events = []atomicwork.GrantEvent{{ID: next(&s.ids.event), GrantID: id, EventType: atomicwork.GrantGranted, EventAt: at, EventBy: ptr(grantedBy)}}
	s.grants.add(id, g)
	return g
}

func (s *store) seedAssets(opts Options, now time.Time) {
	fieldID := int64(300)
	for i, st := range seedAssetStatuses {
		st.ID = int64(401 + i)
		s.assetStatus = append(s.assetStatus, st)
	}
	for i, t := range seedAssetTypes {
		at := &assetType{id: int64(21 + i), name: t.name}
		status := atomicwork.FieldDefinition{ID: next(&fieldID), ReferenceKey: atomicwork.FieldStatus, DisplayName: "Status",
			Type: fieldDropdown, DataType: "STRING", RequiredField: true, Order: 3, Options: s.assetStatus}
		at.fields = []atomicwork.FieldDefinition{
			{ID: next(&fieldID), ReferenceKey: fieldDisplayName, DisplayName: "Display Name", Type: fieldText, DataType: "STRING", RequiredField: true, Order: 1},
			{ID: next(&fieldID), ReferenceKey: fieldSerialNumber, DisplayName: "Serial Number", Type: fieldText, DataType: "STRING", Order: 2},
			status,
			{ID: next(&fieldID), ReferenceKey: atomicwork.FieldAssignedTo, DisplayName: "Assigned To", Type: fieldEntityRef,
				DataType: "INTEGER", Order: 4, ReferencedEntityType: entityUser},
		}
		s.assetTypes.add(at.id, at)
	}
	s.assetAttrs = s.buildAssetAttrs()

	var active []int64
	for _, u := range s.users.rows {
		if !u.IsDeleted {
			active = append(active, u.ID)
		}
	}
	holder := 0 // next active user to receive an in-use asset
	for i, t := range seedAssetTypes {
		typeID := int64(21 + i)
		n := 0
		add := func(status string, assignee any) {
			n++
			s.addAsset(typeID, ITWorkspaceID, map[string]any{
				fieldDisplayName:           fmt.Sprintf("%s-%04d", t.labelPrefix, n),
				fieldSerialNumber:          fmt.Sprintf("%s%06d", t.serialPrefix, n),
				atomicwork.FieldStatus:     status,
				atomicwork.FieldAssignedTo: assignee,
			}, now)
		}
		for range t.available {
			add(atomicwork.AssetAvailable, nil)
		}
		for range t.inUse {
			add(atomicwork.AssetInUse, active[holder%len(active)])
			holder++
		}
		for range t.retired {
			add(atomicwork.AssetRetired, nil)
		}
		if t.name == "Laptop" {
			s.seedExtraLaptops(opts, add)
		}
	}
}

// seedExtraLaptops adds Options.ExtraAssets in-use laptops for one user, for bulk reassignment.
// An unknown assignee is a mistake in the test or flags, hence the panic.
func (s *store) seedExtraLaptops(opts Options, add func(status string, assignee any)) {
	if opts.ExtraAssets <= 0 {
		return
	}
	email := opts.ExtraAssetsAssignee
	if email == "" {
		email = DefaultExtraAssetsAssignee
	}
	u, ok := s.userByEmail(email)
	if !ok || u.IsDeleted {
		panic(fmt.Sprintf("atomicworktest: ExtraAssetsAssignee %q is not an active demo user", email))
	}
	for range opts.ExtraAssets {
		add(atomicwork.AssetInUse, u.ID)
	}
}

func (s *store) addAsset(typeID, ws int64, fields map[string]any, at time.Time) *asset {
	a := &asset{id: next(&s.ids.asset), typeID: typeID, workspace: ws, fields: fields, createdAt: at, updatedAt: at}
	s.assets.add(a.id, a)
	return a
}

// defaultTimezone is the spec's default for POST /users.
const defaultTimezone = "America/Los_Angeles"

func ptr[T any](v T) *T { return &v }
