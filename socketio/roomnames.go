package socketio

// roomNames is the set of rooms one socket is in, for the memory adapter. Almost every socket is
// in one room or a few (its own id's, a user's, a channel's), which a slice holds in a few dozen
// bytes where a map took ~200; a socket that joins many switches to a map, so that joining
// stays cheap. It is not safe for concurrent use: the adapter's lock guards it.
type roomNames struct {
	list []string            // while small
	set  map[string]struct{} // once large; list is nil then
}

// roomNamesMapFrom is the size from which a roomNames keeps a map.
const roomNamesMapFrom = 16

func (n *roomNames) len() int {
	if n.set != nil {
		return len(n.set)
	}
	return len(n.list)
}

func (n *roomNames) add(room string) {
	if n.set != nil {
		n.set[room] = struct{}{}
		return
	}
	for _, r := range n.list {
		if r == room {
			return
		}
	}
	if len(n.list) < roomNamesMapFrom {
		n.list = append(n.list, room)
		return
	}
	n.set = make(map[string]struct{}, 2*len(n.list))
	for _, r := range n.list {
		n.set[r] = struct{}{}
	}
	n.set[room] = struct{}{}
	n.list = nil
}

func (n *roomNames) remove(room string) {
	if n.set != nil {
		delete(n.set, room)
		return
	}
	for i, r := range n.list {
		if r == room {
			last := len(n.list) - 1
			n.list[i] = n.list[last]
			n.list[last] = ""
			n.list = n.list[:last]
			return
		}
	}
}

// all calls f for each room.
func (n *roomNames) all(f func(room string)) {
	if n.set != nil {
		for r := range n.set {
			f(r)
		}
		return
	}
	for _, r := range n.list {
		f(r)
	}
}
