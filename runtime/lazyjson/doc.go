// Package lazyjson reads and writes JSON exactly as encoding/json does,
// without building encoding/json's tables for every type a struct can
// reach.
//
// On the first use of a struct type, encoding/json builds its field table
// and an encoder for every field, and so on for every type those fields
// can hold, whether or not the value at hand uses them. For an OCI
// specs.Spec that is over a hundred types (Windows, Solaris, virtual
// machines, z/OS...), about 1 ms in a fresh process, and cmrun, its
// container init and cmshim are all fresh processes that read or write a
// spec once. (Decoding the same spec again in the same process takes a
// tenth of that.) The tables also stay in the heap of a long-lived shim.
//
// lazyjson walks structs itself, with a small field table for each struct
// type it meets, and hands everything else (strings, numbers, slices,
// maps, and structs with methods or embedded fields of their own) to
// encoding/json, whose tables for those are cheap. It has no format of its
// own:
//   - Marshal writes what json.Marshal writes, byte for byte;
//   - Unmarshal reads what json.Unmarshal reads. When a document is
//     anything but plain (a syntax or type error, a repeated key, a key
//     with escapes), it starts again with json.Unmarshal, so errors and
//     edge cases are encoding/json's own.
//
// It owns no types and knows nothing of the OCI spec; it only touches the
// values it is given.
package lazyjson
