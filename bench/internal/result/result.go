package result

// Scenario names, as given to loadgen's -scenario flag.
const (
	ScenarioFanout  = "fanout"  // io.emit of a small event to every client
	ScenarioIdle    = "idle"    // connected clients doing nothing but heartbeats
	ScenarioCrowd   = "crowd"   // a crowd arrives; every arrival changes the user count
	ScenarioConnect = "connect" // clients open sessions as fast as they can
	ScenarioPolling = "polling" // the fan-out, received over HTTP long-polling
	ScenarioChat    = "chat"    // chat messages through the real app (cmd/herald), not a bench peer
)

// Run is what one load generator run reports (loadgen -json). Times are in
// the units their names give; zero means "not measured in this scenario".
type Run struct {
	Scenario  string `json:"scenario"`
	Transport string `json:"transport"`
	Clients   int    `json:"clients"` // clients asked for (the control client not included)
	Workers   int    `json:"workers"`

	// Connect phase.
	ConnectOK        int     `json:"connectOK"`
	ConnectErrors    int     `json:"connectErrors"`
	ConnectErrSample string  `json:"connectErrSample,omitempty"`
	ConnectSeconds   float64 `json:"connectSeconds"` // first dial to last CONNECT reply
	ConnectRate      float64 `json:"connectRate"`    // sessions per second over ConnectSeconds

	// Fan-out phase (fanout, polling).
	MessagesSent int     `json:"messagesSent,omitempty"`
	MessageRate  float64 `json:"messageRate,omitempty"` // fanout events per second
	Expected     int64   `json:"expected,omitempty"`    // deliveries expected: connected clients × messages
	Delivered    int64   `json:"delivered,omitempty"`   // distinct (client, seq) received
	Lost         int64   `json:"lost,omitempty"`
	Duplicates   int64   `json:"duplicates,omitempty"`
	LatencyP50MS float64 `json:"latencyP50ms,omitempty"`
	LatencyP99MS float64 `json:"latencyP99ms,omitempty"`
	LatencyMaxMS float64 `json:"latencyMaxMs,omitempty"`
	// ReadLagP99MS is the load generator's own delay, p99 over its reads: from the kernel's
	// receive time (which latency is measured to) until the client read the data.
	ReadLagP99MS  float64 `json:"readLagP99ms,omitempty"`
	CPUPerDeliver float64 `json:"cpuPerDeliveryUs,omitempty"` // server CPU µs per delivered event
	Latency       *Sparse `json:"latency,omitempty"`          // the merged histogram, ns
	// Several servers (a cluster, loadgen -url A,B,C): the clients are spread over them and
	// the control client is on the first; the "remote" latencies are those of the clients
	// on the others, whose events crossed from one server to another.
	Servers            int     `json:"servers,omitempty"`
	LatencyRemoteP50MS float64 `json:"latencyRemoteP50ms,omitempty"`
	LatencyRemoteP99MS float64 `json:"latencyRemoteP99ms,omitempty"`
	LatencyRemoteMaxMS float64 `json:"latencyRemoteMaxMs,omitempty"`
	LatencyRemote      *Sparse `json:"latencyRemote,omitempty"`
	// LoadgenCPUPerDeliver is what receiving cost the load generator, µs
	// per delivery; when it nears CPUPerDeliver the client is the bottleneck.
	LoadgenCPUPerDeliver float64 `json:"loadgenCpuPerDeliveryUs,omitempty"`

	// Chat phase (chat). Clients are the receivers; MessagesSent, MessageRate
	// (per sender), Expected (acked ok × clients connected throughout),
	// Delivered, Lost, Duplicates, the latencies and CPUPerDeliver have
	// their fan-out meanings, for chat messages.
	Senders      int     `json:"senders,omitempty"`      // receivers that also send
	AckedOK      int64   `json:"ackedOK,omitempty"`      // messages acked {ok:true}
	Rejected     int64   `json:"rejected,omitempty"`     // messages acked {ok:false}
	RejectSample string  `json:"rejectSample,omitempty"` // the first ok:false ack
	Unacked      int64   `json:"unacked,omitempty"`      // sent, no ack by the end of the drain wait
	ChatSkipped  int64   `json:"chatSkipped,omitempty"`  // not sent: sender gone or write failed
	LostMessages int64   `json:"lostMessages,omitempty"` // messages acked ok that missed at least one client
	AckP50MS     float64 `json:"ackP50ms,omitempty"`     // send → ack, sender's clock
	AckP99MS     float64 `json:"ackP99ms,omitempty"`
	AckMaxMS     float64 `json:"ackMaxMs,omitempty"`
	AckLatency   *Sparse `json:"ackLatency,omitempty"`
	ChatSeconds  float64 `json:"chatSeconds,omitempty"` // first message due → end of the drain wait

	// Crowd phase.
	FinalCount    int     `json:"finalCount,omitempty"`   // the count every client should end with
	Settled       bool    `json:"settled,omitempty"`      // every client held FinalCount before the timeout
	Stale         int     `json:"stale,omitempty"`        // clients not holding FinalCount at the end
	SettleMS      float64 `json:"settleMs,omitempty"`     // last client to hold FinalCount, after the last connect
	CountUpdates  int64   `json:"countUpdates,omitempty"` // 'user count' events received, all clients
	CrowdCPUSecs  float64 `json:"crowdCpuSeconds"`        // server CPU from first dial to settled
	CrowdWallSecs float64 `json:"crowdWallSeconds,omitempty"`

	// Idle phase.
	IdleSeconds float64 `json:"idleSeconds,omitempty"`
	Alive       int     `json:"alive,omitempty"` // clients still connected at the end
	Pings       int64   `json:"pings,omitempty"` // pings answered, all clients
	Disconnects int     `json:"disconnects,omitempty"`

	// Server cost, from /proc/PID (zero when no -server-pid was given). With several PIDs
	// (a cluster's servers and its Redis) every CPU and RSS figure is their sum.
	ServerPID        int     `json:"serverPid,omitempty"`
	ServerPIDs       []int   `json:"serverPids,omitempty"`
	ServerCPUConnect float64 `json:"serverCpuConnectSeconds"` // CPU during the connect phase
	ServerCPULoad    float64 `json:"serverCpuLoadSeconds"`    // CPU during the fan-out / idle phase
	// ServerCPULoadPerPID is ServerCPULoad of each of several PIDs, in ServerPIDs' order
	// (fan-out and polling).
	ServerCPULoadPerPID []float64 `json:"serverCpuLoadSecondsPerPid,omitempty"`
	CPUPerSessionUS     float64   `json:"cpuPerSessionUs,omitempty"`
	RSSBefore           int64     `json:"rssBefore"`      // bytes, before any client connected
	RSSIdle             int64     `json:"rssIdle"`        // bytes, all clients connected, before load
	RSSLoad             int64     `json:"rssLoad"`        // bytes, right after the load phase
	RSSPerConnIdle      float64   `json:"rssPerConnIdle"` // (RSSIdle-RSSBefore)/connected, bytes
	RSSPerConnLoad      float64   `json:"rssPerConnLoad"` // (RSSLoad-RSSBefore)/connected, bytes
	ServerThreadsLoad   int       `json:"serverThreads,omitempty"`

	// The load generator's own cost: when it nears one full core, the
	// latencies measure the client, not the server.
	LoadgenCPUSecs float64 `json:"loadgenCpuSeconds"`
	LoadgenUtil    float64 `json:"loadgenUtil"` // LoadgenCPUSecs / wall seconds of the run
	WallSeconds    float64 `json:"wallSeconds"`

	Notes []string `json:"notes,omitempty"`
}
