package atomicwork

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// The shapes below follow API-NOTES §5. The published spec documents no response bodies,
// so decoding is deliberately tolerant (see Labelled, Ref and AssignedTo).

// Workspace is an Atomicwork workspace (API-NOTES §5.2).
type Workspace struct {
	ID               int64    `json:"id"`
	Name             string   `json:"name"`
	Description      *string  `json:"description"`
	SupportedObjects []string `json:"supported_objects,omitempty"`
	IsMember         bool     `json:"is_member"`
}

// Ref is a reference to another entity as responses embed it: an id plus display fields.
// Decoding also accepts a bare number, because request bodies send references as ids.
type Ref struct {
	ID       int64  `json:"id"`
	Name     string `json:"name,omitempty"`
	FullName string `json:"full_name,omitempty"`
	Label    string `json:"label,omitempty"`
	Email    string `json:"email,omitempty"`
}

// UnmarshalJSON accepts {"id":..} objects, bare numbers and numeric strings.
func (r *Ref) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] != '{' {
		id, err := parseID(b)
		if err != nil {
			return err
		}
		*r = Ref{ID: id}
		return nil
	}
	type plain Ref
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*r = Ref(p)
	return nil
}

// Labelled is an enum value with its display label, e.g. a request status.
// Decoding also accepts a bare string, which then fills both fields.
type Labelled struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// UnmarshalJSON accepts {"value","label"} objects and bare strings.
func (l *Labelled) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*l = Labelled{Value: s, Label: s}
		return nil
	}
	type plain Labelled
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*l = Labelled(p)
	return nil
}

// Is reports whether the value or label names status, ignoring case, spaces and underscores.
func (l Labelled) Is(status string) bool {
	return NormalizeStatus(l.Value) == NormalizeStatus(status) || NormalizeStatus(l.Label) == NormalizeStatus(status)
}

// NormalizeStatus maps "Resolved", "in progress" and "IN_PROGRESS" to one form (API-NOTES §7 Q11).
func NormalizeStatus(s string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), " ", "_"))
}

// User is an Atomicwork user (API-NOTES §5.1).
type User struct {
	ID                  int64          `json:"id"`
	FirstName           string         `json:"first_name"`
	MiddleName          *string        `json:"middle_name"`
	LastName            string         `json:"last_name"`
	FullName            string         `json:"full_name"`
	Email               string         `json:"email"`
	PersonalEmail       *string        `json:"personal_email"`
	Type                string         `json:"type"`
	EmployeeID          string         `json:"employee_id"`
	Title               string         `json:"title"`
	EmploymentStatus    string         `json:"employment_status"`
	Department          *Ref           `json:"department"`
	Team                *Ref           `json:"team"`
	Manager             *Ref           `json:"manager"`
	OrgRoles            []Ref          `json:"org_roles"`
	JoinedOn            *string        `json:"joined_on"`
	TerminatedOn        *string        `json:"terminated_on"`
	InvitationStatus    string         `json:"invitation_status"`
	IsDeleted           bool           `json:"is_deleted"`
	DeletedAt           *time.Time     `json:"deleted_at"`
	NotificationEnabled bool           `json:"notification_enabled"`
	Timezone            string         `json:"timezone"`
	CustomFields        map[string]any `json:"custom_fields"`
	CreatedAt           time.Time      `json:"created_at"`
	UpdatedAt           time.Time      `json:"updated_at"`
}

// UserInput is the body of POST /users, PUT /users/{id} and PATCH /users/{id}.
// Only set fields are sent, so PUT and PATCH merge (API-NOTES §7 Q9).
type UserInput struct {
	Email            string         `json:"email,omitempty"`
	FirstName        string         `json:"first_name,omitempty"`
	LastName         string         `json:"last_name,omitempty"`
	Title            string         `json:"title,omitempty"`
	EmployeeID       string         `json:"employee_id,omitempty"`
	Timezone         string         `json:"timezone,omitempty"`
	JoinedOn         string         `json:"joined_on,omitempty"`
	TerminatedOn     string         `json:"terminated_on,omitempty"`
	EmploymentStatus string         `json:"employment_status,omitempty"`
	Department       *int64         `json:"department,omitempty"`
	Manager          *int64         `json:"manager,omitempty"`
	Type             string         `json:"type,omitempty"`
	IsDeleted        *bool          `json:"is_deleted,omitempty"`
	CustomFields     map[string]any `json:"custom_fields,omitempty"`
}

// Request is a service request, incident or ticket (API-NOTES §5.3).
type Request struct {
	ID              int64          `json:"id"`
	DisplayID       string         `json:"display_id"`
	RequestType     string         `json:"request_type"`
	WorkspaceID     int64          `json:"workspace_id"`
	Subject         string         `json:"subject"`
	Description     string         `json:"description"`
	DescriptionText string         `json:"description_text"`
	Status          Labelled       `json:"status"`
	Priority        *Labelled      `json:"priority"`
	Requester       *Ref           `json:"requester"`
	Assignee        *Ref           `json:"assignee"`
	AgentGroup      *Ref           `json:"agent_group"`
	ItemID          *int64         `json:"item_id"`
	Items           []RequestItem  `json:"items"`
	Tags            []int64        `json:"tags"`
	CustomFields    map[string]any `json:"custom_fields"`
	CreatedAt       time.Time      `json:"created_at"`
	UpdatedAt       time.Time      `json:"updated_at"`
	ResolvedAt      *time.Time     `json:"resolved_at"`
}

// RequestItem is a catalog item instance attached to a service request.
type RequestItem struct {
	ID         int64          `json:"id"`
	ItemID     int64          `json:"item_id"`
	ItemFields map[string]any `json:"item_fields"`
}

// Request types and sources used by atomicflow (API-NOTES §7 Q16).
const (
	RequestTypeServiceRequest = "SERVICE_REQUEST"
	RequestTypeIncident       = "INCIDENT"
	RequestTypeRequest        = "REQUEST"
	SourceAPI                 = "API"
)

// Request statuses (API-NOTES §7 Q11).
const (
	StatusOpen       = "OPEN"
	StatusInProgress = "IN_PROGRESS"
	StatusOnHold     = "ON_HOLD"
	StatusResolved   = "RESOLVED"
	StatusClosed     = "CLOSED"
)

// RequestInput is the body of POST /requests and, with ItemID and ItemFields,
// of POST /requests/items/{item_id}.
type RequestInput struct {
	RequestType   string         `json:"request_type,omitempty"`
	RequestSource string         `json:"request_source,omitempty"`
	Subject       string         `json:"subject,omitempty"`
	Description   string         `json:"description,omitempty"`
	Status        string         `json:"status,omitempty"`
	Priority      string         `json:"priority,omitempty"`
	Requester     int64          `json:"requester,omitempty"`
	Assignee      *int64         `json:"assignee,omitempty"`
	AgentGroup    *int64         `json:"agent_group,omitempty"`
	WorkspaceID   int64          `json:"workspace_id,omitempty"`
	Tags          []int64        `json:"tags,omitempty"`
	CustomFields  map[string]any `json:"custom_fields,omitempty"`
	ItemID        int64          `json:"item_id,omitempty"`
	ItemFields    map[string]any `json:"item_fields,omitempty"`
}

// RequestPatch is the body of PATCH /requests/{id}; only set fields are sent.
type RequestPatch struct {
	Status       string         `json:"status,omitempty"`
	Priority     string         `json:"priority,omitempty"`
	Subject      string         `json:"subject,omitempty"`
	Description  string         `json:"description,omitempty"`
	Assignee     *int64         `json:"assignee,omitempty"`
	AgentGroup   *int64         `json:"agent_group,omitempty"`
	CustomFields map[string]any `json:"custom_fields,omitempty"`
}

// Note is a note on a request (API-NOTES §5.4).
type Note struct {
	ID          int64     `json:"id"`
	RequestID   string    `json:"request_id"`
	Description string    `json:"description"`
	IsPrivate   bool      `json:"is_private"`
	Source      string    `json:"source"`
	Type        string    `json:"type"`
	UserID      *int64    `json:"user_id"`
	CreatedAt   time.Time `json:"created_at"`
}

// NoteInput is the body of POST /requests/{id}/notes.
type NoteInput struct {
	Description string `json:"description"`
	IsPrivate   bool   `json:"is_private"`
	Source      string `json:"source,omitempty"`
	Type        string `json:"type,omitempty"`
	UserID      *int64 `json:"user_id,omitempty"`
}

// CatalogItem is a service-catalog item of a workspace.
type CatalogItem struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	Description  string `json:"description"`
	CategoryID   *int64 `json:"category_id"`
	CategoryType string `json:"category_type"`
	IsPublished  bool   `json:"is_published"`
	WorkspaceID  int64  `json:"workspace_id"`
}

// FieldDefinition describes a form field of a catalog item or an asset type (API-NOTES §2.3).
type FieldDefinition struct {
	ID                   int64    `json:"id"`
	ReferenceKey         string   `json:"reference_key"`
	DisplayName          string   `json:"display_name"`
	Type                 string   `json:"type"`
	DataType             string   `json:"data_type"`
	RequiredField        bool     `json:"required_field"`
	Order                int      `json:"order"`
	Hint                 string   `json:"hint,omitempty"`
	Options              []Option `json:"options,omitempty"`
	ReferencedEntityType string   `json:"referenced_entity_type,omitempty"`
}

// Option is one choice of a dropdown field, as the forms options endpoint returns it.
type Option struct {
	ID    int64  `json:"id"`
	Label string `json:"label"`
	Value string `json:"value"`
}

// App is an IGA application (an identity provider with entitlements).
type App struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Provider string `json:"provider"`
	Icon     string `json:"icon,omitempty"`
}

// Entitlement is a grantable group, role or licence of an IGA app.
type Entitlement struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	AppID       int64  `json:"app_id"`
	Type        string `json:"type"`
	Status      string `json:"status"`
	Value       string `json:"value,omitempty"`
}

// Grant statuses: raw values in responses, and buckets accepted by the grants/list status filter.
const (
	GrantGranted  = "GRANTED"
	GrantExtended = "EXTENDED"
	GrantRevoked  = "REVOKED"
	GrantExpired  = "EXPIRED"

	GrantBucketActive   = "ACTIVE"
	GrantBucketInactive = "INACTIVE"
)

// Revocation statuses of revocation_status.status.
const (
	RevocationInProgress = "IN_PROGRESS"
	RevocationCompleted  = "COMPLETED"
	RevocationFailed     = "FAILED"
)

// Grant is an IGA access grant (API-NOTES §5.6).
type Grant struct {
	ID                 int64               `json:"id"`
	Status             string              `json:"status"`
	Type               string              `json:"type"`
	User               *Ref                `json:"user"`
	Entitlement        *GrantEntitlement   `json:"entitlement"`
	App                *Ref                `json:"app"`
	Policy             *Ref                `json:"policy"`
	GrantedBy          *int64              `json:"granted_by"`
	GrantedAt          *time.Time          `json:"granted_at"`
	ExpiresAt          *time.Time          `json:"expires_at"`
	LastLoginAt        *time.Time          `json:"last_login_at"`
	ProvisioningStatus *ProvisioningStatus `json:"provisioning_status"`
	RevocationStatus   *RevocationStatus   `json:"revocation_status"`
	CreatedAt          time.Time           `json:"created_at"`
	UpdatedAt          time.Time           `json:"updated_at"`
}

// Active reports whether the grant is in the ACTIVE bucket (GRANTED or EXTENDED).
func (g Grant) Active() bool { return g.Status == GrantGranted || g.Status == GrantExtended }

// GrantEntitlement is the entitlement as a grant embeds it.
type GrantEntitlement struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Type  string `json:"type"`
	Value string `json:"value"`
}

// ProvisioningStatus tells how and whether the identity provider applied a grant.
type ProvisioningStatus struct {
	Provider string `json:"provider"`
	Status   string `json:"status"`
}

// RevocationStatus tracks deprovisioning after a revoke.
type RevocationStatus struct {
	Status     string  `json:"status"`
	ScheduleID *string `json:"schedule_id"`
	Reason     string  `json:"reason,omitempty"`
}

// GrantInput is the body of POST /iga/grants.
type GrantInput struct {
	UserID        int64  `json:"user_id"`
	EntitlementID int64  `json:"entitlement_id"`
	PolicyID      *int64 `json:"policy_id,omitempty"`
	PolicyKey     string `json:"policy_key,omitempty"`
	GrantedBy     *int64 `json:"granted_by,omitempty"`
}

// RevokeInput is the body of POST /iga/grants/{id}/revoke. SkipDeprovisioning is always sent:
// the API defaults it to true, which would leave the account in the identity provider.
type RevokeInput struct {
	Reason             string `json:"reason,omitempty"`
	SkipDeprovisioning bool   `json:"skip_deprovisioning"`
}

// GrantEvent is one entry of a grant's history.
type GrantEvent struct {
	ID        int64     `json:"id"`
	GrantID   int64     `json:"grant_id"`
	EventType string    `json:"event_type"`
	EventAt   time.Time `json:"event_at"`
	EventBy   *int64    `json:"event_by"`
	Reason    string    `json:"reason,omitempty"`
}

// Asset statuses (API-NOTES §7 Q14).
const (
	AssetAvailable = "AVAILABLE"
	AssetInUse     = "IN_USE"
	AssetRetired   = "RETIRED"
)

// Default form-field reference keys for assignee and status (API-NOTES §3, §7 Q13/Q14).
const (
	FieldAssignedTo = "assigned_to"
	FieldStatus     = "status"
)

// Asset is an asset with its type and form fields (API-NOTES §5.5).
type Asset struct {
	ID             int64          `json:"id"`
	Label          string         `json:"label"`
	AssetTypeID    int64          `json:"asset_type_id"`
	SerialNumber   string         `json:"serial_number"`
	AssetBasicInfo AssetBasicInfo `json:"asset_basic_info"`
	FormFields     map[string]any `json:"form_fields"`
	CreatedAt      time.Time      `json:"created_at"`
	UpdatedAt      time.Time      `json:"updated_at"`
}

// AssetBasicInfo is the unified identity of an asset.
type AssetBasicInfo struct {
	ID                int64    `json:"id"`
	AssetTypeID       int64    `json:"asset_type_id"`
	AssetTypeName     string   `json:"asset_type_name"`
	DisplayName       string   `json:"display_name"`
	Source            string   `json:"source"`
	AdditionalSources []string `json:"additional_sources"`
}

// TypeID is the asset type id, wherever the response put it.
func (a Asset) TypeID() int64 {
	if a.AssetTypeID != 0 {
		return a.AssetTypeID
	}
	return a.AssetBasicInfo.AssetTypeID
}

// AssigneeID returns the user id in form_fields[key], or 0 when unassigned.
// It tolerates an id, a numeric string, an {"id":..} object and an [id] array (API-NOTES §3).
func (a Asset) AssigneeID(key string) int64 { return AssigneeOf(a.FormFields[key]) }

// StatusValue returns form_fields[key] as a status string ("" when absent).
func (a Asset) StatusValue(key string) string {
	s, _ := a.FormFields[key].(string)
	return s
}

// AssigneeOf normalises an assignee form-field value to a user id (0 = unassigned). A value
// that is no integer id (1002.5, "abc") is no assignee, never the id it would truncate to;
// an integral one written as a float (1002.0, "1.002e3") is its id.
func AssigneeOf(v any) int64 {
	switch t := v.(type) {
	case float64:
		if t != math.Trunc(t) || t < math.MinInt64 || t >= math.MaxInt64 {
			return 0 // a fraction, NaN, or beyond int64 (where the conversion is undefined)
		}
		return int64(t)
	case int64:
		return t
	case int:
		return int64(t)
	case json.Number:
		return AssigneeOf(string(t))
	case string:
		id, _ := parseID([]byte(t))
		return id
	case map[string]any:
		return AssigneeOf(t["id"])
	case []any:
		if len(t) > 0 {
			return AssigneeOf(t[0])
		}
	}
	return 0
}

// AssetInput is the body of POST /assets and PUT /assets/{id}.
type AssetInput struct {
	AssetTypeID int64          `json:"asset_type_id"`
	FormFields  map[string]any `json:"form_fields"`
	ImageID     *int64         `json:"image_id,omitempty"`
}

// ErrorBody is the error envelope (API-NOTES §1.8).
type ErrorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// Error codes (API-NOTES §5.7).
const (
	CodeBadRequest      = "BAD_REQUEST"
	CodeValidationError = "VALIDATION_ERROR"
	CodeUnauthorized    = "UNAUTHORIZED"
	CodeForbidden       = "FORBIDDEN"
	CodeNotFound        = "NOT_FOUND"
	CodeConflict        = "CONFLICT"
	CodeRateLimited     = "RATE_LIMITED"
	CodeInternal        = "INTERNAL_ERROR"
)

// Page is the canonical paginated envelope (API-NOTES §1.7).
type Page[T any] struct {
	Page          int     `json:"page"`
	PageSize      int     `json:"page_size"`
	TotalPages    int     `json:"total_pages"`
	TotalCount    int     `json:"total_count"`
	NextPageToken *string `json:"next_page_token"`
	Data          []T     `json:"data"`
	source        listSource
}

// parseID reads a reference given as a bare number or a numeric string, 1002.0 included. Its
// error does not repeat the value, which may be anything (an email).
func parseID(b []byte) (int64, error) {
	s := strings.Trim(string(b), `"`)
	if s == "null" || s == "" {
		return 0, nil
	}
	if plain, ok := integralLiteral(s); ok {
		s = plain
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, errors.New("a reference that is neither an object nor an integer id")
	}
	return id, nil
}
