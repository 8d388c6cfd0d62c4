package prom

import (
	"math"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/util/annotations"
)

// Prometheus's error types, as its HTTP API names them.
const (
	ErrBadData   = "bad_data"
	ErrExecution = "execution"
	ErrCanceled  = "canceled"
	ErrTimeout   = "timeout"
	ErrInternal  = "internal"
	ErrNotFound  = "not_found"
	// ErrUnavailable is a query refused because the server is busy.
	ErrUnavailable = "unavailable"
)

// apiError is an error answered in Prometheus's envelope.
type apiError struct {
	typ string
	err error
}

func (e *apiError) Error() string { return e.typ + ": " + e.err.Error() }
func (e *apiError) Unwrap() error { return e.err }

func (e *apiError) status() int {
	switch e.typ {
	case ErrBadData:
		return http.StatusBadRequest
	case ErrExecution:
		return http.StatusUnprocessableEntity
	case ErrCanceled, ErrTimeout, ErrUnavailable:
		return http.StatusServiceUnavailable
	case ErrNotFound:
		return http.StatusNotFound
	}
	return http.StatusInternalServerError
}

// writeError answers with {"status":"error","errorType":...,"error":...}.
func writeError(w http.ResponseWriter, e *apiError) error {
	b := make([]byte, 0, 256)
	b = append(b, `{"status":"error","errorType":`...)
	b = appendJSONString(b, e.typ)
	b = append(b, `,"error":`...)
	b = appendJSONString(b, e.err.Error())
	b = append(b, "}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status())
	_, err := w.Write(b)
	return err
}

// writeSuccess answers {"status":"success","data":<data>} where data is
// already encoded, with warnings and infos when there are any.
func writeSuccess(w http.ResponseWriter, data []byte, annos annotations.Annotations) error {
	b := make([]byte, 0, len(data)+64)
	b = append(b, `{"status":"success","data":`...)
	b = append(b, data...)
	warnings, infos := annos.AsStrings("", 10, 10)
	for _, list := range []struct {
		key  string
		msgs []string
	}{{"warnings", warnings}, {"infos", infos}} {
		if len(list.msgs) == 0 {
			continue
		}
		b = append(b, `,"`+list.key+`":`...)
		b = appendStrings(b, list.msgs)
	}
	b = append(b, "}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(b)
	return err
}

// appendValue encodes a PromQL result as the API's {"resultType","result"}.
func appendValue(b []byte, v parser.Value) []byte {
	b = append(b, `{"resultType":"`...)
	b = append(b, v.Type()...)
	b = append(b, `","result":`...)
	switch v := v.(type) {
	case promql.Matrix:
		b = appendSeries(b, len(v), func(b []byte, i int) []byte {
			b = appendLabels(b, v[i].Metric)
			b = append(b, `,"values":[`...)
			for j, p := range v[i].Floats {
				if j > 0 {
					b = append(b, ',')
				}
				b = appendPoint(b, p.T, p.F)
			}
			return append(b, ']')
		})
	case promql.Vector:
		b = appendSeries(b, len(v), func(b []byte, i int) []byte {
			b = appendLabels(b, v[i].Metric)
			b = append(b, `,"value":`...)
			return appendPoint(b, v[i].T, v[i].F)
		})
	case promql.Scalar:
		b = appendPoint(b, v.T, v.V)
	case promql.String:
		b = append(b, '[')
		b = appendTimestamp(b, v.T)
		b = append(b, ',')
		b = appendJSONString(b, v.V)
		b = append(b, ']')
	default:
		b = append(b, "null"...)
	}
	return append(b, '}')
}

// appendSeries encodes [{"metric":...},...] with body writing each
// element after its opening {"metric":.
func appendSeries(b []byte, n int, body func(b []byte, i int) []byte) []byte {
	b = append(b, '[')
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"metric":`...)
		b = body(b, i)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendPoint encodes [<seconds>,"<value>"].
func appendPoint(b []byte, t int64, v float64) []byte {
	b = append(b, '[')
	b = appendTimestamp(b, t)
	b = append(b, ",\""...)
	b = AppendFloat(b, v)
	return append(b, "\"]"...)
}

// AppendFloat formats v as Prometheus's API does: shortest decimal, NaN,
// +Inf and -Inf.
func AppendFloat(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, 1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

// appendTimestamp writes milliseconds as seconds with up to three
// decimals, like Prometheus (1435781430.781).
func appendTimestamp(b []byte, t int64) []byte {
	if t < 0 && t%1000 != 0 {
		b = append(b, '-')
		t = -t
	}
	b = strconv.AppendInt(b, t/1000, 10)
	frac := t % 1000
	if frac < 0 {
		frac = -frac
	}
	if frac == 0 {
		return b
	}
	b = append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
	for b[len(b)-1] == '0' {
		b = b[:len(b)-1]
	}
	return b
}

func appendLabels(b []byte, ls labels.Labels) []byte {
	b = append(b, '{')
	first := true
	ls.Range(func(l labels.Label) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJSONString(b, l.Name)
		b = append(b, ':')
		b = appendJSONString(b, l.Value)
	})
	return append(b, '}')
}

func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else if r == '\u2028' || r == '\u2029' {
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// FormatLe formats a histogram bucket bound as Prometheus's client
// libraries do for the le label ("0.05", "1", "+Inf").
func FormatLe(le float64) string { return string(AppendFloat(nil, le)) }
