package cluster_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// freeze stops the process with SIGSTOP and waits until every one of its threads has stopped:
// the signal takes effect asynchronously, and on a loaded machine a thread can go on for a while.
func (p *proc) freeze() {
	p.test().Helper()
	p.signal(syscall.SIGSTOP)
	tasks := filepath.Join("/proc", strconv.Itoa(p.cmd.Process.Pid), "task")
	for i := 0; ; i++ {
		if allStopped(tasks) {
			return
		}
		if i == 200 {
			p.test().Fatalf("%s did not stop after SIGSTOP", p.name)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// allStopped reports whether every thread listed under tasks (/proc/<pid>/task) is stopped.
func allStopped(tasks string) bool {
	entries, err := os.ReadDir(tasks)
	if err != nil || len(entries) == 0 {
		return false
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(tasks, e.Name(), "stat"))
		if err != nil {
			return false
		}
		// The state follows the command name, which is in parentheses and may hold spaces.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 || i+2 >= len(b) || b[i+2] != 'T' {
			return false
		}
	}
	return true
}
