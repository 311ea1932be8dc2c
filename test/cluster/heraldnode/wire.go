package main

import (
	"encoding/base64"
	"time"
)

// toWire and fromWire carry binary through the JSON line protocol as {"$bin": base64}, as the
// Node.js programs of the test do (wire.mjs); fromWire also makes a time.Time of {"$date": RFC 3339
// time}.
func toWire(v any) any {
	switch v := v.(type) {
	case []byte:
		return map[string]any{"$bin": base64.StdEncoding.EncodeToString(v)}
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = toWire(x)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = toWire(x)
		}
		return out
	}
	return v
}

func fromWire(v any) any {
	switch v := v.(type) {
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = fromWire(x)
		}
		return out
	case map[string]any:
		if s, ok := v["$bin"].(string); ok && len(v) == 1 {
			if b, err := base64.StdEncoding.DecodeString(s); err == nil {
				return b
			}
		}
		if s, ok := v["$date"].(string); ok && len(v) == 1 {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				return t
			}
		}
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = fromWire(x)
		}
		return out
	}
	return v
}

// argsFromWire is fromWire on a list of arguments.
func argsFromWire(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = fromWire(a)
	}
	return out
}

// argsToWire is toWire on a list of arguments.
func argsToWire(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = toWire(a)
	}
	return out
}
