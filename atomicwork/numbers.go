package atomicwork

import (
	"bytes"
	"strconv"
	"strings"
)

// integralNumbers rewrites every JSON number outside strings that is written as a float but has an
// integral value that fits an int64 (1002.0, 1.002e3, -7.00) as the plain integer, so that it
// decodes into the int64 and int fields of the client's types: JSON does not tell 1002.0 from
// 1002, and many backends print one for the other. Other numbers stay as they are, so 1002.5 for
// an id is still a decode error, and a float field reads the same value either way. The body is
// returned unchanged (not copied) when nothing needs rewriting.
func integralNumbers(body []byte) []byte {
	if !bytes.ContainsAny(body, ".eE") {
		return body
	}
	var out []byte // allocated at the first rewrite
	copied := 0    // body[:copied] is in out
	inString, escaped := false, false
	for i := 0; i < len(body); {
		ch := body[i]
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case ch == '\\':
				escaped = true
			case ch == '"':
				inString = false
			}
			i++
		case ch == '"':
			inString = true
			i++
		case ch == '-' || (ch >= '0' && ch <= '9'):
			j := i + 1
			for j < len(body) && isNumberByte(body[j]) {
				j++
			}
			if plain, ok := integralLiteral(string(body[i:j])); ok {
				out = append(append(out, body[copied:i]...), plain...)
				copied = j
			}
			i = j
		default:
			i++
		}
	}
	if out == nil {
		return body
	}
	return append(out, body[copied:]...)
}

func isNumberByte(b byte) bool {
	return (b >= '0' && b <= '9') || b == '.' || b == 'e' || b == 'E' || b == '+' || b == '-'
}

// integralLiteral returns lit as a plain integer when it is a JSON number with a fraction or an
// exponent whose value is an integer within int64. It works on the digits, never through a float,
// so 9007199254740993.0 stays exact.
func integralLiteral(lit string) (string, bool) {
	if !strings.ContainsAny(lit, ".eE") || !isJSONNumber(lit) {
		return "", false
	}
	sign := ""
	if lit[0] == '-' {
		sign, lit = "-", lit[1:]
	}
	mantissa, exp := lit, 0
	if k := strings.IndexAny(lit, "eE"); k >= 0 {
		e, err := strconv.Atoi(lit[k+1:])
		if err != nil || e > 400 || e < -400 {
			return "", false // far outside int64, or an exponent too long to read
		}
		mantissa, exp = lit[:k], e
	}
	intPart, frac, _ := strings.Cut(mantissa, ".")
	digits := intPart + frac
	point := len(intPart) + exp // the decimal point's place in digits
	if point < 0 {
		point = 0 // only zeros before the digits: the fraction is digits itself
	}
	if point > len(digits) {
		digits += strings.Repeat("0", point-len(digits))
	}
	if strings.Trim(digits[point:], "0") != "" {
		return "", false // a real fraction
	}
	whole := strings.TrimLeft(digits[:point], "0")
	if whole == "" {
		return "0", true
	}
	if _, err := strconv.ParseInt(sign+whole, 10, 64); err != nil {
		return "", false
	}
	return sign + whole, true
}

// isJSONNumber reports whether s (without a leading '-') follows the JSON number grammar, so that
// the rewrite never turns an invalid body such as 01.0 into a valid one.
func isJSONNumber(s string) bool {
	s = strings.TrimPrefix(s, "-")
	digitsAt := func(i int) int { // the end of the run of digits starting at i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i
	}
	i := digitsAt(0)
	if i == 0 || (s[0] == '0' && i > 1) {
		return false
	}
	if i < len(s) && s[i] == '.' {
		j := digitsAt(i + 1)
		if j == i+1 {
			return false
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := digitsAt(i)
		if j == i {
			return false
		}
		i = j
	}
	return i == len(s)
}
