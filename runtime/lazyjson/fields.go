package lazyjson

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
)

// field is one JSON member of a plain struct.
type field struct {
	name      string // the JSON key: the tag's name, or the Go name
	index     int    // in reflect.Type.Field
	omitEmpty bool
}

// table is a plain struct's fields in declaration order, which is the
// order encoding/json writes them in when no field is embedded.
type table []field

// tables holds a table for every struct type met so far; nil for a
// struct that is not plain.
var tables sync.Map // reflect.Type -> table

var (
	marshalerType       = reflect.TypeFor[json.Marshaler]()
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// tableOf returns the table of struct type t, or nil if t is not plain:
// lazyjson walks only structs whose fields map to keys one to one, and
// leaves the rest (methods of its own, embedded fields, tag options other
// than omitempty, names that need escaping or clash) to encoding/json.
func tableOf(t reflect.Type) table {
	if v, ok := tables.Load(t); ok {
		return v.(table)
	}
	tab := buildTable(t)
	tables.Store(t, tab)
	return tab
}

// walked returns the table of t when t is a plain struct or a pointer to
// one, and whether it is the pointer; nil for everything encoding/json
// handles whole.
func walked(t reflect.Type) (tab table, pointer bool) {
	if t.Kind() == reflect.Pointer {
		t, pointer = t.Elem(), true
	}
	if t.Kind() != reflect.Struct {
		return nil, false
	}
	return tableOf(t), pointer
}

func buildTable(t reflect.Type) table {
	for _, m := range []reflect.Type{marshalerType, unmarshalerType, textMarshalerType, textUnmarshalerType} {
		if t.Implements(m) || reflect.PointerTo(t).Implements(m) {
			return nil
		}
	}
	tab := table{}
	seen := map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			return nil // promoted fields follow encoding/json's own rules
		}
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if opts != "" && opts != "omitempty" {
			return nil // string, omitzero and the like
		}
		if name == "" {
			name = f.Name
		}
		folded := strings.ToLower(name)
		if !plainName(name) || seen[folded] {
			return nil
		}
		seen[folded] = true
		tab = append(tab, field{name: name, index: i, omitEmpty: opts == "omitempty"})
	}
	return tab
}

// plainName reports whether a key is written as is, with no escape, and
// is one encoding/json accepts as a tag name.
func plainName(name string) bool {
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_-.$/", c)
		if !ok {
			return false
		}
	}
	return name != ""
}

// lookup finds the field a key names: an exact match first, then one
// that differs only in case, as encoding/json does.
func (tab table) lookup(key string) int {
	for i := range tab {
		if tab[i].name == key {
			return i
		}
	}
	for i := range tab {
		if strings.EqualFold(tab[i].name, key) {
			return i
		}
	}
	return -1
}
