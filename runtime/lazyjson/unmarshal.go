package lazyjson

import (
	"encoding/json"
	"errors"
	"reflect"
	"sync/atomic"
)

// errNotPlain stops the walk: the document needs encoding/json's own
// decoder, from the start.
var errNotPlain = errors.New("lazyjson: not a plain document")

// fallbacks counts the documents handed back to encoding/json, for tests.
var fallbacks atomic.Int64

// Unmarshal decodes data into v, a pointer to a zero value, as
// json.Unmarshal does.
func Unmarshal(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || !rv.Elem().IsZero() || !json.Valid(data) {
		return json.Unmarshal(data, v)
	}
	// Into a fresh value, so that a walk given up half-way leaves v as
	// it was for encoding/json.
	fresh := reflect.New(rv.Elem().Type())
	if err := decode(data, fresh.Elem()); err != nil {
		fallbacks.Add(1)
		return json.Unmarshal(data, v)
	}
	rv.Elem().Set(fresh.Elem())
	return nil
}

// decode stores the JSON value data (valid, as the whole document was)
// in v.
func decode(data []byte, v reflect.Value) error {
	t := v.Type()
	switch {
	case t.Kind() == reflect.Struct && tableOf(t) != nil:
		return decodeObject(data, v, tableOf(t))
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct && tableOf(t.Elem()) != nil:
		if isNull(data) {
			return nil // the pointer of a fresh value stays nil
		}
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		return decodeObject(data, v.Elem(), tableOf(t.Elem()))
	default:
		return json.Unmarshal(data, v.Addr().Interface())
	}
}

// decodeObject decodes a JSON object into the struct v. Unknown keys are
// skipped; null leaves a struct as it is.
func decodeObject(data []byte, v reflect.Value, tab table) error {
	if isNull(data) {
		return nil
	}
	if first(data) != '{' {
		return errNotPlain // encoding/json words the type error
	}
	set := make([]bool, len(tab))
	return eachMember(data, func(key, value []byte) error {
		i := tab.lookup(string(key))
		if i < 0 {
			return nil
		}
		if set[i] {
			return errNotPlain // a repeated key: encoding/json merges the two
		}
		set[i] = true
		return decode(value, v.Field(tab[i].index))
	})
}

func isNull(data []byte) bool { return first(data) == 'n' }
