package socketio

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
)

// maxArgDepth bounds how deeply encodeEventData follows nested []any and
// map[string]any values, so that a value that contains itself returns an
// error instead of overflowing the stack.
const maxArgDepth = 1000

// placeholderPrefix is how a binary attachment's placeholder starts; the key
// order is fixed because peers and tests compare the text.
const placeholderPrefix = `{"_placeholder":true,"num":`

// encodeEventData builds the JSON array [event, args...] for an EVENT (event != "") or the array [args...] for an ACK (event == "").
// []byte values — at top level, or nested anywhere inside []any / map[string]any — become {"_placeholder":true,"num":N} (exactly that key order) and are returned as attachments, N counting from 0 in order of appearance.
// json.RawMessage passes through unchanged. Everything else is marshalled with encoding/json with HTML escaping OFF (json.NewEncoder + SetEscapeHTML(false), trailing newline removed). Map keys sorted, so output is deterministic.
//
// Why it exists: this is the single place where outgoing Go values become
// the wire payload, so binary extraction and escaping are the same for
// every emit and ack. Notes on the edges: a nil []byte is still an (empty)
// attachment; a json.RawMessage must be valid JSON (a nil one is null);
// []byte inside other container types (structs, []string, map[string][]byte)
// is left to encoding/json, which writes it as base64. The attachments
// alias the caller's slices; they are not copied.
func encodeEventData(event string, args []any) (data json.RawMessage, attachments [][]byte, err error) {
	e := argEncoder{buf: make([]byte, 0, 64)}
	e.buf = append(e.buf, '[')
	if event != "" {
		if err := e.appendString(event); err != nil {
			return nil, nil, err
		}
	}
	for i, a := range args {
		if i > 0 || event != "" {
			e.buf = append(e.buf, ',')
		}
		if err := e.value(a, 0); err != nil {
			return nil, nil, err
		}
	}
	e.buf = append(e.buf, ']')
	return e.buf, e.attachments, nil
}

// argEncoder accumulates the JSON text and the attachments of one
// encodeEventData call. It is its own io.Writer so that the json.Encoder it
// falls back on appends straight into the same buffer.
type argEncoder struct {
	buf         []byte
	attachments [][]byte
	enc         *json.Encoder // created on first use: most payloads never need it
}

// Write appends to the buffer; it lets a json.Encoder write into e.
func (e *argEncoder) Write(p []byte) (int, error) {
	e.buf = append(e.buf, p...)
	return len(p), nil
}

// marshal appends v as encoding/json writes it with HTML escaping off, which
// is what the JavaScript peers produce and expect (no \u003c for "<").
func (e *argEncoder) marshal(v any) error {
	if e.enc == nil {
		e.enc = json.NewEncoder(e)
		e.enc.SetEscapeHTML(false)
	}
	if err := e.enc.Encode(v); err != nil {
		return fmt.Errorf("socketio: encoding argument: %w", err)
	}
	e.buf = e.buf[:len(e.buf)-1] // Encode ends every value with '\n'
	return nil
}

// appendString appends s as a JSON string. Plain printable ASCII, by far
// the most common case for event names and short messages, is quoted
// directly; the rest goes through encoding/json so that escaping is exactly
// the same.
func (e *argEncoder) appendString(s string) error {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return e.marshal(s)
		}
	}
	e.buf = append(e.buf, '"')
	e.buf = append(e.buf, s...)
	e.buf = append(e.buf, '"')
	return nil
}

// value appends one argument, replacing []byte with placeholders. It walks
// []any and map[string]any itself because encoding/json would turn the
// []byte inside them into base64; common scalars are written directly,
// producing exactly what encoding/json would, to save its reflection.
func (e *argEncoder) value(v any, depth int) error {
	if depth > maxArgDepth {
		return fmt.Errorf("socketio: argument nested more than %d levels (cyclic value?)", maxArgDepth)
	}
	switch v := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case []byte:
		e.buf = append(e.buf, placeholderPrefix...)
		e.buf = strconv.AppendInt(e.buf, int64(len(e.attachments)), 10)
		e.buf = append(e.buf, '}')
		e.attachments = append(e.attachments, v)
	case json.RawMessage:
		if v == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		if !json.Valid(v) {
			return errors.New("socketio: encoding argument: json.RawMessage is not valid JSON")
		}
		e.buf = append(e.buf, v...)
	case string:
		return e.appendString(v)
	case bool:
		e.buf = strconv.AppendBool(e.buf, v)
	case int:
		e.buf = strconv.AppendInt(e.buf, int64(v), 10)
	case int64:
		e.buf = strconv.AppendInt(e.buf, v, 10)
	case float64:
		// encoding/json uses the shortest 'f' form in this range and the
		// 'e' form (with its own clean-up) outside it; leave that to it.
		if abs := math.Abs(v); abs == 0 || (abs >= 1e-6 && abs < 1e21) {
			e.buf = strconv.AppendFloat(e.buf, v, 'f', -1, 64)
			return nil
		}
		return e.marshal(v)
	case []any:
		if v == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		e.buf = append(e.buf, '[')
		for i, x := range v {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if err := e.value(x, depth+1); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, ']')
	case map[string]any:
		if v == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		e.buf = append(e.buf, '{')
		for i, k := range slices.Sorted(maps.Keys(v)) {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if err := e.appendString(k); err != nil {
				return err
			}
			e.buf = append(e.buf, ':')
			if err := e.value(v[k], depth+1); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, '}')
	default:
		return e.marshal(v)
	}
	return nil
}

// splitArray returns the top-level elements of a JSON array without decoding them.
//
// The server uses it to read the event name and to hand raw arguments to
// handlers that want to unmarshal into their own types. The elements are
// sub-slices of data (no copy) with surrounding whitespace removed; an empty
// array gives an empty slice. data is fully validated first, so a malformed
// element can never be returned.
func splitArray(data json.RawMessage) ([]json.RawMessage, error) {
	if !json.Valid(data) {
		return nil, errors.New("socketio: arguments are not valid JSON")
	}
	i := skipJSONSpace(data, 0)
	if data[i] != '[' {
		return nil, errors.New("socketio: arguments are not a JSON array")
	}
	elems := []json.RawMessage{}
	i = skipJSONSpace(data, i+1)
	if data[i] == ']' {
		return elems, nil
	}
	for {
		end := jsonValueEnd(data, i)
		elems = append(elems, data[i:end:end])
		i = skipJSONSpace(data, end)
		if data[i] == ']' {
			return elems, nil
		}
		i = skipJSONSpace(data, i+1) // past ','
	}
}

// jsonValueEnd returns the index just past the JSON value starting at b[i].
// b must be valid JSON; splitArray relies on that to find element
// boundaries with a flat scan instead of decoding.
func jsonValueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return jsonStringEnd(b, i)
	case '[', '{':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = jsonStringEnd(b, i)
				continue
			case '[', '{':
				depth++
			case ']', '}':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(b)
	}
	for i < len(b) {
		switch b[i] {
		case ',', ']', '}', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return len(b)
}

// decodeArgs decodes every element of a JSON array into generic Go values (encoding/json defaults: float64, string, bool, nil, []any, map[string]any), replacing each placeholder object with the attachment it names ([]byte).
//
// Pass the packet's attachments: for binary packets the decoder always
// sets a non-nil slice, and a placeholder naming a missing attachment is an
// error. For text packets (attachments == nil) placeholder-like objects are
// ordinary data and stay maps, as in the reference implementation. The
// returned []byte values alias the attachments.
func decodeArgs(data json.RawMessage, attachments [][]byte) ([]any, error) {
	if i := skipJSONSpace(data, 0); i >= len(data) || data[i] != '[' {
		return nil, errors.New("socketio: arguments are not a JSON array")
	}
	var args []any
	if err := json.Unmarshal(data, &args); err != nil {
		return nil, fmt.Errorf("socketio: decoding arguments: %w", err)
	}
	if attachments == nil {
		return args, nil
	}
	for i, a := range args {
		r, err := resolvePlaceholders(a, attachments)
		if err != nil {
			return nil, err
		}
		args[i] = r
	}
	return args, nil
}

// resolvePlaceholders returns v with every placeholder object replaced, in
// place, by the attachment it names. It does not look inside a placeholder
// object, as the whole object stands for the attachment.
func resolvePlaceholders(v any, attachments [][]byte) (any, error) {
	switch v := v.(type) {
	case []any:
		for i, x := range v {
			r, err := resolvePlaceholders(x, attachments)
			if err != nil {
				return nil, err
			}
			v[i] = r
		}
	case map[string]any:
		if v["_placeholder"] == true {
			num, ok := v["num"].(float64)
			if !ok || num != math.Trunc(num) || num < 0 || num >= float64(len(attachments)) {
				return nil, fmt.Errorf("socketio: placeholder num %v does not name one of %d attachments", v["num"], len(attachments))
			}
			return attachments[int(num)], nil
		}
		for k, x := range v {
			r, err := resolvePlaceholders(x, attachments)
			if err != nil {
				return nil, err
			}
			v[k] = r
		}
	}
	return v, nil
}
