package lazyjson

import "bytes"

// The walk splits objects into their members itself: it only ever sees
// a document that json.Valid accepted, so it needs to find where things
// end, not to check them.

// eachMember calls fn with the key (its bytes between the quotes) and the
// value of every member of the JSON object data, in order. A key written
// with escapes is not plain.
func eachMember(data []byte, fn func(key, value []byte) error) error {
	i := skipSpace(data, 0) + 1 // past '{'
	for {
		i = skipSpace(data, i)
		if data[i] == '}' {
			return nil
		}
		end := endOfString(data, i)
		key := data[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			return errNotPlain
		}
		i = skipSpace(data, end) + 1 // past ':'
		i = skipSpace(data, i)
		end = endOfValue(data, i)
		if err := fn(key, data[i:end]); err != nil {
			return err
		}
		i = skipSpace(data, end)
		if data[i] == ',' {
			i++
		}
	}
}

// first is the first byte of a value after any white space.
func first(data []byte) byte {
	if i := skipSpace(data, 0); i < len(data) {
		return data[i]
	}
	return 0
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// endOfString returns the index just past the string that starts with
// the quote at data[i].
func endOfString(data []byte, i int) int {
	for i++; data[i] != '"'; i++ {
		if data[i] == '\\' {
			i++ // the escaped byte cannot end the string
		}
	}
	return i + 1
}

// endOfValue returns the index just past the value that starts at
// data[i].
func endOfValue(data []byte, i int) int {
	switch data[i] {
	case '"':
		return endOfString(data, i)
	case '{', '[':
		depth := 0
		for {
			switch data[i] {
			case '"':
				i = endOfString(data, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
	default: // a number, true, false or null
		for i < len(data) && !endsScalar(data[i]) {
			i++
		}
		return i
	}
}

// endsScalar tells the byte after a member's number, true, false or
// null: the next member, the object's end, or white space.
func endsScalar(c byte) bool {
	switch c {
	case ',', '}', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}
