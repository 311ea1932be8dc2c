package redisadapter

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// Messages from Redis are untrusted input: another program may publish anything on our
// channels. The decoder therefore bounds nesting and checks every length against what is left of
// the message before it allocates, so that a few bytes claiming a billion elements cost nothing.
const maxDepth = 32

var errMalformed = errors.New("redisadapter: malformed message")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errMalformed, fmt.Sprintf(format, args...))
}

// decodeMsgpack decodes one msgpack value as notepack.io (the Node.js adapters' codec) writes
// it, into generic values: nil, bool, int64, uint64 (only beyond int64), float64, string, []byte,
// time.Time, []any and map[string]any. Extension types: -1 is a timestamp (a JavaScript Date),
// 0 is binary (notepack 2.x ArrayBuffer) and a one-byte ext 0 is undefined (nil). Trailing bytes
// are an error.
func decodeMsgpack(b []byte) (any, error) {
	r := bytes.NewReader(b)
	d := msgpack.NewDecoder(r)
	v, err := decodeValue(d, r, 0)
	if err != nil {
		return nil, err
	}
	if r.Len() != 0 {
		return nil, malformed("%d bytes after the value", r.Len())
	}
	return v, nil
}

func decodeValue(d *msgpack.Decoder, r *bytes.Reader, depth int) (any, error) {
	if depth > maxDepth {
		return nil, malformed("nested deeper than %d", maxDepth)
	}
	c, err := d.PeekCode()
	if err != nil {
		return nil, malformed("%v", err)
	}
	switch {
	case msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32:
		n, err := d.DecodeMapLen()
		if err != nil || n < 0 || n > r.Len()/2 {
			return nil, malformed("map of %d entries in %d bytes (%v)", n, r.Len(), err)
		}
		m := make(map[string]any, n)
		for range n {
			k, err := d.PeekCode()
			if err != nil || !msgpcode.IsString(k) {
				return nil, malformed("map key is not a string")
			}
			key, err := d.DecodeString()
			if err != nil {
				return nil, malformed("map key: %v", err)
			}
			if m[key], err = decodeValue(d, r, depth+1); err != nil {
				return nil, err
			}
		}
		return m, nil
	case msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32:
		n, err := d.DecodeArrayLen()
		if err != nil || n < 0 || n > r.Len() {
			return nil, malformed("array of %d elements in %d bytes (%v)", n, r.Len(), err)
		}
		a := make([]any, n)
		for i := range a {
			if a[i], err = decodeValue(d, r, depth+1); err != nil {
				return nil, err
			}
		}
		return a, nil
	case msgpcode.IsString(c):
		s, err := d.DecodeString()
		if err != nil {
			return nil, malformed("string: %v", err)
		}
		return s, nil
	case msgpcode.IsBin(c):
		n, err := d.DecodeBytesLen()
		if err != nil || n < 0 || n > r.Len() {
			return nil, malformed("binary of %d bytes in %d (%v)", n, r.Len(), err)
		}
		out := make([]byte, n)
		if err := d.ReadFull(out); err != nil {
			return nil, malformed("binary: %v", err)
		}
		return out, nil
	case msgpcode.IsExt(c) || msgpcode.IsFixedExt(c):
		return decodeExt(d, r)
	}
	v, err := d.DecodeInterfaceLoose() // nil, bool and numbers
	if err != nil {
		return nil, malformed("%v", err)
	}
	switch v := v.(type) {
	case nil, bool, int64, float64:
		return v, nil
	case uint64:
		if v <= math.MaxInt64 {
			return int64(v), nil
		}
		return v, nil
	}
	return nil, malformed("unexpected %T", v)
}

func decodeExt(d *msgpack.Decoder, r *bytes.Reader) (any, error) {
	id, n, err := d.DecodeExtHeader()
	if err != nil || n < 0 || n > r.Len() {
		return nil, malformed("extension of %d bytes in %d (%v)", n, r.Len(), err)
	}
	body := make([]byte, n)
	if err := d.ReadFull(body); err != nil {
		return nil, malformed("extension: %v", err)
	}
	switch {
	case id == -1:
		return decodeTimestamp(body)
	case id == 0 && n == 1:
		return nil, nil // notepack 2.x's undefined
	case id == 0:
		return body, nil // notepack 2.x's ArrayBuffer
	}
	return nil, malformed("unknown extension type %d", id)
}

// decodeTimestamp reads the msgpack timestamp extension (32, 64 or 96 bits).
func decodeTimestamp(b []byte) (any, error) {
	switch len(b) {
	case 4:
		return time.Unix(int64(binary.BigEndian.Uint32(b)), 0).UTC(), nil
	case 8:
		v := binary.BigEndian.Uint64(b)
		return time.Unix(int64(v&(1<<34-1)), int64(v>>34)).UTC(), nil
	case 12:
		return time.Unix(int64(binary.BigEndian.Uint64(b[4:])), int64(binary.BigEndian.Uint32(b))).UTC(), nil
	}
	return nil, malformed("timestamp of %d bytes", len(b))
}

// encodeMsgpack appends v, a generic value as decodeMsgpack returns (int and json numbers
// too), in msgpack. Map keys are written in sorted order.
func encodeMsgpack(e *msgpack.Encoder, v any) error {
	switch v := v.(type) {
	case nil:
		return e.EncodeNil()
	case bool:
		return e.EncodeBool(v)
	case int:
		return e.EncodeInt(int64(v))
	case int64:
		return e.EncodeInt(v)
	case uint64:
		return e.EncodeUint(v)
	case float64:
		// notepack writes an integral number as an integer; so do we, for identical bytes.
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return e.EncodeInt(int64(v))
		}
		return e.EncodeFloat64(v)
	case string:
		return e.EncodeString(v)
	case []byte:
		return e.EncodeBytes(v)
	case time.Time:
		return e.EncodeTime(v)
	case []string:
		if err := e.EncodeArrayLen(len(v)); err != nil {
			return err
		}
		for _, s := range v {
			if err := e.EncodeString(s); err != nil {
				return err
			}
		}
		return nil
	case []any:
		if err := e.EncodeArrayLen(len(v)); err != nil {
			return err
		}
		for _, x := range v {
			if err := encodeMsgpack(e, x); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		if err := e.EncodeMapLen(len(v)); err != nil {
			return err
		}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if err := e.EncodeString(k); err != nil {
				return err
			}
			if err := encodeMsgpack(e, v[k]); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("redisadapter: cannot encode %T in msgpack", v)
}

// marshalMsgpack encodes v with encodeMsgpack.
func marshalMsgpack(v any) ([]byte, error) {
	var buf bytes.Buffer
	e := msgpack.NewEncoder(&buf)
	if err := encodeMsgpack(e, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
