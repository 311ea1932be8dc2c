package redisadapter

import (
	"bytes"
	"encoding/json"
)

// In sharded mode the servers exchange the messages of socket.io-adapter's ClusterAdapter:
// {uid, nsp, type, data}, as JSON, or as msgpack when data holds binary. Requests and responses
// use the same form; the numbering differs from the classic adapter's.
const (
	msgInitialHeartbeat       = 1
	msgHeartbeat              = 2
	msgBroadcast              = 3
	msgSocketsJoin            = 4
	msgSocketsLeave           = 5
	msgDisconnectSockets      = 6
	msgFetchSockets           = 7
	msgFetchSocketsResponse   = 8
	msgServerSideEmit         = 9
	msgServerSideEmitResponse = 10
	msgBroadcastClientCount   = 11
	msgBroadcastAck           = 12
	msgAdapterClose           = 13
)

// clusterMessage is a message of the sharded wire, decoded.
type clusterMessage struct {
	uid  string
	typ  int64
	data map[string]any // nil when absent (heartbeats)
}

// encodeClusterMessage encodes a message as JSON, or as msgpack when data holds binary ([]byte),
// as the Node.js sharded adapter does. data may hold json.RawMessage values (JSON only: they
// never hold binary).
func encodeClusterMessage(uid, nsp string, typ int, data map[string]any) ([]byte, error) {
	m := map[string]any{"uid": uid, "nsp": nsp, "type": typ}
	if data != nil {
		m["data"] = data
	}
	if hasBinary(data) {
		return marshalMsgpack(m)
	}
	return json.Marshal(m)
}

// hasBinary reports whether v, a generic value, holds a []byte.
func hasBinary(v any) bool {
	switch v := v.(type) {
	case []byte:
		return true
	case []any:
		for _, x := range v {
			if hasBinary(x) {
				return true
			}
		}
	case map[string]any:
		for _, x := range v {
			if hasBinary(x) {
				return true
			}
		}
	}
	return false
}

// decodeClusterMessage reads a message of the sharded wire: JSON when it starts with '{', else
// msgpack, into the generic values decodeMsgpack returns either way.
func decodeClusterMessage(b []byte) (clusterMessage, error) {
	var v any
	if len(b) > 0 && b[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return clusterMessage{}, malformed("JSON: %v", err)
		}
		if dec.More() {
			return clusterMessage{}, malformed("bytes after the JSON value")
		}
		if jsonDepth(v, 0) > maxDepth {
			return clusterMessage{}, malformed("nested deeper than %d", maxDepth)
		}
		v = fromJSON(v, nil)
	} else {
		var err error
		if v, err = decodeMsgpack(b); err != nil {
			return clusterMessage{}, err
		}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return clusterMessage{}, malformed("message is %T, not a map", v)
	}
	var msg clusterMessage
	msg.uid, _ = m["uid"].(string)
	if msg.typ, ok = m["type"].(int64); !ok {
		return clusterMessage{}, malformed("message type is %T, not an integer", m["type"])
	}
	if d, present := m["data"]; present && d != nil {
		if msg.data, ok = d.(map[string]any); !ok {
			return clusterMessage{}, malformed("message data is %T, not a map", d)
		}
	}
	return msg, nil
}

// jsonDepth returns the nesting depth of a value decoded from JSON, stopping early past maxDepth.
func jsonDepth(v any, depth int) int {
	if depth > maxDepth {
		return depth
	}
	deepest := depth
	switch v := v.(type) {
	case []any:
		for _, x := range v {
			deepest = max(deepest, jsonDepth(x, depth+1))
		}
	case map[string]any:
		for _, x := range v {
			deepest = max(deepest, jsonDepth(x, depth+1))
		}
	}
	return deepest
}

// toGeneric turns a value marshalable as JSON into the generic values of the wire.
func toGeneric(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if dec.Decode(&out) != nil {
		return nil
	}
	return fromJSON(out, nil)
}

// requestID reads data.requestId: a non-empty string, or "" for none.
func requestID(data map[string]any) string {
	id, _ := data["requestId"].(string)
	return id
}

// count reads a non-negative count (a client count).
func count(v any) (int, bool) {
	switch n := v.(type) {
	case int64:
		return int(n), n >= 0 && n < 1<<31
	case float64:
		return int(n), n >= 0 && n < 1<<31 && n == float64(int(n))
	}
	return 0, false
}
