package sioclient

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
)

// packet is a received Socket.IO packet.
type packet struct {
	typ         byte
	attachments int
	nsp         string
	id          int64 // -1 when absent
	data        string
	bins        [][]byte
}

// parsePacket reads the text form of a Socket.IO packet (without the Engine.IO "4").
func parsePacket(s string) (*packet, error) {
	if s == "" || s[0] < '0' || s[0] > '6' {
		return nil, errors.New("sioclient: bad packet type")
	}
	p := &packet{typ: s[0], nsp: "/", id: -1}
	s = s[1:]
	if p.typ == '5' || p.typ == '6' {
		i := strings.IndexByte(s, '-')
		if i < 0 {
			return nil, errors.New("sioclient: binary packet without a count")
		}
		n, err := strconv.Atoi(s[:i])
		if err != nil {
			return nil, err
		}
		p.attachments, s = n, s[i+1:]
	}
	if strings.HasPrefix(s, "/") {
		i := strings.IndexByte(s, ',')
		if i < 0 {
			p.nsp, s = s, ""
		} else {
			p.nsp, s = s[:i], s[i+1:]
		}
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i > 0 {
		id, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil {
			return nil, err
		}
		p.id, s = id, s[i:]
	}
	p.data = s
	return p, nil
}

// args decodes the packet's JSON array, putting the attachments in place of their placeholders.
func (p *packet) args() ([]any, error) {
	var out []any
	if err := json.Unmarshal([]byte(p.data), &out); err != nil {
		return nil, err
	}
	if p.attachments == 0 {
		return out, nil
	}
	for i, v := range out {
		out[i] = p.resolve(v)
	}
	return out, nil
}

func (p *packet) resolve(v any) any {
	switch v := v.(type) {
	case []any:
		for i, x := range v {
			v[i] = p.resolve(x)
		}
	case map[string]any:
		if v["_placeholder"] == true {
			if n, ok := v["num"].(float64); ok && n == math.Trunc(n) && n >= 0 && int(n) < len(p.bins) {
				return p.bins[int(n)]
			}
		}
		for k, x := range v {
			v[k] = p.resolve(x)
		}
	}
	return v
}
