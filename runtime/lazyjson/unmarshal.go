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

// For tests: the documents handed back to encoding/json, and the objects
// the walk read or wrote itself.
var fallbacks, walkedObjects atomic.Int64

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
	tab, pointer := walked(v.Type())
	switch {
	case tab == nil:
		return json.Unmarshal(data, v.Addr().Interface())
	case !pointer:
		return decodeObject(data, v, tab)
	case isNull(data):
		return nil // the pointer of a fresh value stays nil
	default: // a fresh value's pointer is nil: each key is decoded once
		v.Set(reflect.New(v.Type().Elem()))
		return decodeObject(data, v.Elem(), tab)
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
	walkedObjects.Add(1)
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
