package atomicworktest

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// Structured filters of list bodies (API-NOTES §1.6, §7 Q15): filters are ANDed, the values
// of one filter ORed.

// attrKind says how an attribute's values compare.
type attrKind int

const (
	textAttr   attrKind = iota // strings; EQUALS is exact, CONTAINS and friends ignore case
	numberAttr                 // ids and numbers; "12" and 12 are the same value
	timeAttr                   // instants; a date-only value stands for its whole UTC day
	enumAttr                   // a closed vocabulary with aliases, e.g. status labels
)

// attr is a filterable attribute of records of type T.
type attr[T any] struct {
	kind attrKind
	// value returns the record's value: a string, int64, time.Time, or nil when unset.
	value func(T) any
	// enum maps a filter value to the stored values it stands for (enumAttr only), e.g. the
	// grant status bucket ACTIVE to GRANTED and EXTENDED.
	enum func(string) ([]string, bool)
}

type attrs[T any] map[string]attr[T]

// operand is one filter value, parsed for the attribute's kind.
type operand struct {
	text     string
	num      float64
	from, to time.Time // timeAttr: the instant, or the bounds of a day
	enum     []string
}

type wireFilter struct {
	Attribute string `json:"attribute"`
	Operator  string `json:"operator"`
	Values    []struct {
		Value any `json:"value"`
	} `json:"values"`
}

// compileFilters parses a list body, a bare filter array or an object with a "filters" field,
// into one predicate. An empty body matches everything.
func compileFilters[T any](body []byte, known attrs[T]) (func(T) bool, error) {
	filters, err := parseFilterBody(body)
	if err != nil {
		return nil, err
	}
	preds := make([]func(T) bool, 0, len(filters))
	for _, f := range filters {
		p, err := compileFilter(f, known)
		if err != nil {
			return nil, err
		}
		preds = append(preds, p)
	}
	return func(rec T) bool {
		for _, p := range preds {
			if !p(rec) {
				return false
			}
		}
		return true
	}, nil
}

func parseFilterBody(body []byte) ([]wireFilter, error) {
	if len(body) > 0 && body[0] == '{' {
		var wrapped struct {
			Filters json.RawMessage `json:"filters"`
		}
		if err := json.Unmarshal(body, &wrapped); err != nil {
			return nil, errBadRequest("malformed JSON body: %v", err)
		}
		body = bytes.TrimSpace(wrapped.Filters)
	}
	if len(body) == 0 || bytes.Equal(body, []byte("null")) {
		return nil, nil
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var filters []wireFilter
	if err := d.Decode(&filters); err != nil {
		return nil, errBadRequest("the body must be an array of filters {attribute, operator, values} or an object with a \"filters\" array: %v", err)
	}
	if !atEOF(d) {
		return nil, errBadRequest("malformed JSON body: unexpected data after the filters")
	}
	return filters, nil
}

func compileFilter[T any](f wireFilter, known attrs[T]) (func(T) bool, error) {
	a, ok := known[f.Attribute]
	if !ok {
		return nil, errInvalid("unknown filter attribute %q: use one of %s", f.Attribute, strings.Join(sortedKeys(known), ", "))
	}
	op := strings.ToUpper(f.Operator)
	rule, ok := filterOps[op]
	switch {
	case op == "IS_WITHIN":
		return nil, errInvalid("operator IS_WITHIN is not supported by the simulator: use IS_BETWEEN with two dates")
	case !ok:
		return nil, errInvalid("unknown filter operator %q on attribute %s", f.Operator, f.Attribute)
	case rule.kinds != nil && !slices.Contains(rule.kinds, a.kind):
		return nil, errInvalid("operator %s does not apply to attribute %s", op, f.Attribute)
	case rule.arity < 0 && len(f.Values) == 0:
		return nil, errInvalid("filter %s %s needs at least one value", f.Attribute, op)
	case rule.arity > 0 && len(f.Values) != rule.arity:
		return nil, errInvalid("filter %s %s needs exactly %d values, got %d", f.Attribute, op, rule.arity, len(f.Values))
	}
	var ops []operand
	if rule.arity != 0 {
		for _, v := range f.Values {
			o, err := parseOperand(f.Attribute, a, v.Value)
			if err != nil {
				return nil, err
			}
			ops = append(ops, o)
		}
	}
	return func(rec T) bool { return rule.match(a.value(rec), ops, a.kind) }, nil
}

// opRule is how one operator applies: how many values it takes (-1: at least one), which
// attribute kinds it accepts (nil: all) and whether a record value matches.
type opRule struct {
	arity int
	kinds []attrKind
	match func(v any, ops []operand, kind attrKind) bool
}

var (
	orderedKinds = []attrKind{numberAttr, timeAttr}
	textKinds    = []attrKind{textAttr}
)

var filterOps = map[string]opRule{
	atomicwork.OpEquals:     {arity: -1, match: anyOf(equal)},
	atomicwork.OpIn:         {arity: -1, match: anyOf(equal)},
	atomicwork.OpIsAnyOf:    {arity: -1, match: anyOf(equal)},
	"IS_EXACTLY":            {arity: -1, match: anyOf(equal)},
	atomicwork.OpNotEquals:  {arity: -1, match: noneOf(equal)},
	atomicwork.OpNotIn:      {arity: -1, match: noneOf(equal)},
	atomicwork.OpIsNotAnyOf: {arity: -1, match: noneOf(equal)},
	atomicwork.OpIsNull:     {match: func(v any, _ []operand, _ attrKind) bool { return isNull(v) }},
	atomicwork.OpIsNotNull:  {match: func(v any, _ []operand, _ attrKind) bool { return !isNull(v) }},

	atomicwork.OpContains:     {arity: -1, kinds: textKinds, match: anyOf(textTest(strings.Contains))},
	atomicwork.OpTextContains: {arity: -1, kinds: textKinds, match: anyOf(textTest(strings.Contains))},
	"NOT_CONTAINS":            {arity: -1, kinds: textKinds, match: noneOf(textTest(strings.Contains))},
	"TEXT_DOES_NOT_CONTAINS":  {arity: -1, kinds: textKinds, match: noneOf(textTest(strings.Contains))},
	atomicwork.OpStartsWith:   {arity: -1, kinds: textKinds, match: anyOf(textTest(strings.HasPrefix))},
	atomicwork.OpEndsWith:     {arity: -1, kinds: textKinds, match: anyOf(textTest(strings.HasSuffix))},

	atomicwork.OpGreaterThan:       {arity: 1, kinds: orderedKinds, match: anyOf(order(func(c int) bool { return c > 0 }))},
	atomicwork.OpGreaterThanEquals: {arity: 1, kinds: orderedKinds, match: anyOf(order(func(c int) bool { return c >= 0 }))},
	atomicwork.OpIsOnOrAfter:       {arity: 1, kinds: orderedKinds, match: anyOf(order(func(c int) bool { return c >= 0 }))},
	atomicwork.OpLessThan:          {arity: 1, kinds: orderedKinds, match: anyOf(order(func(c int) bool { return c < 0 }))},
	atomicwork.OpLessThanEquals:    {arity: 1, kinds: orderedKinds, match: anyOf(order(func(c int) bool { return c <= 0 }))},
	atomicwork.OpIsOnOrBefore:      {arity: 1, kinds: orderedKinds, match: anyOf(order(func(c int) bool { return c <= 0 }))},
	atomicwork.OpIsBetween: {arity: 2, kinds: orderedKinds, match: func(v any, ops []operand, kind attrKind) bool {
		return v != nil && compareTo(kind, v, ops[0]) >= 0 && compareTo(kind, v, ops[1]) <= 0
	}},
}

// valueTest is one record value against one filter value; v is never nil.
type valueTest func(v any, o operand, kind attrKind) bool

func equal(v any, o operand, kind attrKind) bool { return compareTo(kind, v, o) == 0 }

// anyOf ORs the values of a filter; an unset record value matches none.
func anyOf(test valueTest) func(any, []operand, attrKind) bool {
	return func(v any, ops []operand, kind attrKind) bool {
		return v != nil && slices.ContainsFunc(ops, func(o operand) bool { return test(v, o, kind) })
	}
}

// noneOf is the negation of anyOf: an unset record value differs from every value.
func noneOf(test valueTest) func(any, []operand, attrKind) bool {
	match := anyOf(test)
	return func(v any, ops []operand, kind attrKind) bool { return !match(v, ops, kind) }
}

// textTest applies a substring test ignoring case.
func textTest(match func(s, sub string) bool) valueTest {
	return func(v any, o operand, _ attrKind) bool {
		s, ok := v.(string)
		return ok && match(strings.ToLower(s), strings.ToLower(o.text))
	}
}

func order(test func(cmp int) bool) valueTest {
	return func(v any, o operand, kind attrKind) bool { return test(compareTo(kind, v, o)) }
}

func isNull(v any) bool { return v == nil || v == "" }

// parseOperand checks one filter value against the attribute's kind.
func parseOperand[T any](name string, a attr[T], v any) (operand, error) {
	s, isText := scalarText(v)
	if !isText {
		return operand{}, errInvalid("filter %s: each value must be a string or a number, got %s", name, jsonType(v))
	}
	switch a.kind {
	case numberAttr:
		n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return operand{}, errInvalid("filter %s: a value is not a number", name)
		}
		return operand{num: n}, nil
	case timeAttr:
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return operand{from: t, to: t}, nil
		}
		day, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return operand{}, errInvalid("filter %s: value %q is not an RFC 3339 date-time or a YYYY-MM-DD date", name, s)
		}
		return operand{from: day, to: day.Add(24*time.Hour - time.Nanosecond)}, nil
	case enumAttr:
		vals, ok := a.enum(s)
		if !ok {
			return operand{}, errInvalid("filter %s: unknown value %q", name, s)
		}
		return operand{enum: vals}, nil
	}
	return operand{text: s}, nil
}

// scalarText renders a JSON scalar filter value as text; objects and arrays are refused.
func scalarText(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case json.Number:
		return t.String(), true
	case bool:
		return strconv.FormatBool(t), true
	}
	return "", false
}

// compareTo orders a record value against an operand: <0, 0 (equal, or within a day), >0.
func compareTo(kind attrKind, v any, o operand) int {
	switch kind {
	case numberAttr:
		n := toFloat(v)
		switch {
		case n < o.num:
			return -1
		case n > o.num:
			return 1
		}
		return 0
	case timeAttr:
		t := v.(time.Time)
		switch {
		case t.Before(o.from):
			return -1
		case t.After(o.to):
			return 1
		}
		return 0
	case enumAttr:
		if slices.Contains(o.enum, v.(string)) {
			return 0
		}
		return 1
	}
	return strings.Compare(v.(string), o.text)
}

func toFloat(v any) float64 {
	switch t := v.(type) {
	case int64:
		return float64(t)
	case float64:
		return t
	}
	return 0
}

// Attribute helpers shared by the list endpoints.

func refValue(r *atomicwork.Ref) any {
	if r == nil {
		return nil
	}
	return r.ID
}

func timeValue(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}

// enumOf builds an enumAttr lookup from aliases (normalised as atomicwork.NormalizeStatus does)
// to the stored values they stand for.
func enumOf(aliases map[string][]string) func(string) ([]string, bool) {
	return func(s string) ([]string, bool) {
		vals, ok := aliases[atomicwork.NormalizeStatus(s)]
		return vals, ok
	}
}
