package lazyjson

import (
	"encoding/json"
	"reflect"
)

// maxDepth bounds the walk: a value nested deeper (a cycle, say) is left
// to encoding/json, which reports it.
const maxDepth = 100

// Marshal returns what json.Marshal(v) returns.
func Marshal(v any) ([]byte, error) {
	if v == nil {
		return json.Marshal(v)
	}
	out, err := appendValue(nil, reflect.ValueOf(v), 0)
	if err != nil {
		return json.Marshal(v) // its own words for what cannot be encoded
	}
	return out, nil
}

func appendValue(buf []byte, v reflect.Value, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, errNotPlain
	}
	tab, pointer := walked(v.Type())
	switch {
	case tab != nil && !pointer:
		return appendObject(buf, v, tab, depth)
	case tab != nil && v.IsNil():
		return append(buf, "null"...), nil
	case tab != nil:
		return appendObject(buf, v.Elem(), tab, depth)
	default:
		// Through a pointer where encoding/json would have one, so that
		// a method on *T is used exactly when it would be.
		x := v.Interface()
		if v.CanAddr() {
			x = v.Addr().Interface()
		}
		data, err := json.Marshal(x)
		if err != nil {
			return nil, err
		}
		return append(buf, data...), nil
	}
}

// appendObject writes a plain struct's fields in order, leaving out the
// empty ones tagged omitempty.
func appendObject(buf []byte, v reflect.Value, tab table, depth int) ([]byte, error) {
	walkedObjects.Add(1)
	buf = append(buf, '{')
	start := len(buf)
	for _, f := range tab {
		fv := v.Field(f.index)
		if f.omitEmpty && isEmpty(fv) {
			continue
		}
		if len(buf) > start {
			buf = append(buf, ',')
		}
		buf = append(buf, '"')
		buf = append(buf, f.name...)
		buf = append(buf, '"', ':')
		var err error
		if buf, err = appendValue(buf, fv, depth+1); err != nil {
			return nil, err
		}
	}
	return append(buf, '}'), nil
}

// isEmpty is encoding/json's meaning of empty for omitempty.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}
