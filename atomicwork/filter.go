package atomicwork

// Filter operators (API-NOTES §1.6).
const (
	OpEquals            = "EQUALS"
	OpNotEquals         = "NOT_EQUALS"
	OpIn                = "IN"
	OpNotIn             = "NOT_IN"
	OpIsAnyOf           = "IS_ANY_OF"
	OpIsNotAnyOf        = "IS_NOT_ANY_OF"
	OpContains          = "CONTAINS"
	OpTextContains      = "TEXT_CONTAINS"
	OpStartsWith        = "STARTS_WITH"
	OpEndsWith          = "ENDS_WITH"
	OpIsNull            = "IS_NULL"
	OpIsNotNull         = "IS_NOT_NULL"
	OpIsBetween         = "IS_BETWEEN"
	OpIsOnOrBefore      = "IS_ON_OR_BEFORE"
	OpIsOnOrAfter       = "IS_ON_OR_AFTER"
	OpGreaterThan       = "GREATER_THAN"
	OpLessThan          = "LESS_THAN"
	OpGreaterThanEquals = "GREATER_THAN_EQUALS"
	OpLessThanEquals    = "LESS_THAN_EQUALS"
)

// Filter is one structured filter of a list body: {attribute, operator, values:[{value}]}.
// Filters in a list are ANDed; values within one filter are ORed.
type Filter struct {
	Attribute string        `json:"attribute"`
	Operator  string        `json:"operator"`
	Values    []FilterValue `json:"values"`
}

// FilterValue wraps one scalar value of a filter.
type FilterValue struct {
	Value        any `json:"value"`
	NestedFilter any `json:"nested_filter,omitempty"`
}

// Filters builds a filter body; the zero value means "all records" and encodes as [].
//
//	atomicwork.Filters{}.IsAnyOf("status", "AVAILABLE").IsAnyOf("type_id", 12)
type Filters []Filter

// Where appends a filter with any operator.
func (f Filters) Where(attribute, operator string, values ...any) Filters {
	vs := make([]FilterValue, 0, len(values))
	for _, v := range values {
		vs = append(vs, FilterValue{Value: v})
	}
	return append(f, Filter{Attribute: attribute, Operator: operator, Values: vs})
}

// IsAnyOf matches records whose attribute equals one of values.
func (f Filters) IsAnyOf(attribute string, values ...any) Filters {
	return f.Where(attribute, OpIsAnyOf, values...)
}

// IsNotAnyOf excludes records whose attribute equals one of values.
func (f Filters) IsNotAnyOf(attribute string, values ...any) Filters {
	return f.Where(attribute, OpIsNotAnyOf, values...)
}

// Equals matches records whose attribute equals value.
func (f Filters) Equals(attribute string, value any) Filters {
	return f.Where(attribute, OpEquals, value)
}

// IsBetween matches an inclusive range [from, to].
func (f Filters) IsBetween(attribute string, from, to any) Filters {
	return f.Where(attribute, OpIsBetween, from, to)
}

// IsNull matches records whose attribute is empty.
func (f Filters) IsNull(attribute string) Filters { return f.Where(attribute, OpIsNull) }

// IsNotNull matches records whose attribute is set.
func (f Filters) IsNotNull(attribute string) Filters { return f.Where(attribute, OpIsNotNull) }

// body returns the filters as a JSON-ready value that never encodes as null.
func (f Filters) body() []Filter {
	if f == nil {
		return []Filter{}
	}
	return f
}
